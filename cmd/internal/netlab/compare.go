package netlab

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Verdict is one socket of a Comparison: the kernel's row and tcpstate's
// inferred row for it, either of which may be missing.
type Verdict struct {
	// Listen is true for a listening socket, matched by address family and
	// port only: the kernel shows the bound address (often 0.0.0.0 or ::),
	// tcpstate the address that answered a SYN.
	Listen bool
	// Kernel and Inferred are nil when that view has no such socket
	// (for the kernel: CLOSED, or never existed).
	Kernel, Inferred *Socket
	// Agree is true when both views have the socket in the same state and,
	// for a connection socket, with the same Send-Q (Linux counts an
	// unacknowledged SYN or FIN as one, and so does tcpstate).
	Agree bool
}

// String prints the verdict on one line, with both views when they differ.
func (v Verdict) String() string {
	verdict := "agree   "
	if !v.Agree {
		verdict = "DISAGREE"
	}
	s := v.Kernel
	if s == nil {
		s = v.Inferred
	}
	var id string
	if v.Listen {
		id = fmt.Sprintf("%-4s listen port %s", s.Proto, portOf(s.Local))
	} else {
		id = fmt.Sprintf("%-4s %s -> %s", s.Proto, s.Local, s.Remote)
	}
	if v.Agree && !v.Listen {
		return fmt.Sprintf("%s %-50s %s send-q %d", verdict, id, v.Kernel.State, v.Kernel.SendQ)
	}
	return fmt.Sprintf("%s %-50s kernel %s, tcpstate %s", verdict, id, describe(v.Kernel, v.Listen), describe(v.Inferred, v.Listen))
}

func describe(s *Socket, listen bool) string {
	switch {
	case s == nil:
		return "absent"
	case listen:
		return s.State + " on " + s.Local
	default:
		return fmt.Sprintf("%s send-q %d", s.State, s.SendQ)
	}
}

// Comparison is the socket-by-socket comparison of the kernel's table with
// tcpstate's.
type Comparison struct {
	Verdicts []Verdict // sorted: listeners first, then by local, remote
	Agreed   int       // verdicts with Agree set
}

// Total is the number of sockets compared: those in either view.
func (c Comparison) Total() int { return len(c.Verdicts) }

// Summary is "N of M sockets agree".
func (c Comparison) Summary() string {
	return fmt.Sprintf("%d of %d sockets agree", c.Agreed, c.Total())
}

// Disagreements returns the verdicts whose views differ.
func (c Comparison) Disagreements() []Verdict {
	var out []Verdict
	for _, v := range c.Verdicts {
		if !v.Agree {
			out = append(out, v)
		}
	}
	return out
}

// Report writes the summary line and one line per socket.
func (c Comparison) Report(w io.Writer) {
	fmt.Fprintln(w, c.Summary())
	for _, v := range c.Verdicts {
		fmt.Fprintln(w, "  "+v.String())
	}
}

// Compare matches the kernel's sockets with tcpstate's inferred ones and
// compares their states. A connection socket is identified by its local and
// remote endpoints (IPv4-mapped addresses count as IPv4, zones are dropped);
// a listening socket by its address family and port, where a dual-stack "*"
// matches either family and several inferred listeners on one family and
// port (one per address that answered) count as one. Send-Q is compared
// for connection sockets; a listener's queues (backlog and accept queue)
// cannot be seen on the wire and are not.
func Compare(kernel, inferred []Socket) Comparison {
	var c Comparison
	kConn, kListen := split(kernel)
	iConn, iListen := split(inferred)

	// Connections: pair rows with the same endpoints, same states first.
	keys := map[string]bool{}
	for k := range kConn {
		keys[k] = true
	}
	for k := range iConn {
		keys[k] = true
	}
	for k := range keys {
		ks, is := kConn[k], iConn[k]
		for _, s := range ks {
			if j := slices.IndexFunc(is, func(x *Socket) bool { return x.State == s.State }); j >= 0 {
				c.add(Verdict{Kernel: s, Inferred: is[j], Agree: s.SendQ == is[j].SendQ})
				is = slices.Delete(is, j, j+1)
				continue
			}
			v := Verdict{Kernel: s}
			if len(is) > 0 {
				v.Inferred, is = is[0], is[1:]
			}
			c.add(v)
		}
		for _, s := range is {
			c.add(Verdict{Inferred: s})
		}
	}

	// Listeners: one per family and port on each side.
	claimed := make([]bool, len(iListen))
	for _, pass := range []bool{false, true} { // exact families, then wildcards
		for _, k := range kListen {
			if k.claimed || (k.family == "*") != pass {
				continue
			}
			v := Verdict{Listen: true, Kernel: k.sock}
			for j, i := range iListen {
				if claimed[j] || i.port != k.port || !(i.family == k.family || k.family == "*" || i.family == "*") {
					continue
				}
				claimed[j] = true
				if v.Inferred == nil {
					v.Inferred = i.sock
				}
			}
			v.Agree = v.Inferred != nil
			k.claimed = true
			c.add(v)
		}
	}
	for j, i := range iListen {
		if !claimed[j] {
			c.add(Verdict{Listen: true, Inferred: i.sock})
		}
	}

	slices.SortFunc(c.Verdicts, compareVerdicts)
	return c
}

func (c *Comparison) add(v Verdict) {
	c.Verdicts = append(c.Verdicts, v)
	if v.Agree {
		c.Agreed++
	}
}

type listener struct {
	family  string // "4", "6" or "*"
	port    string
	sock    *Socket
	claimed bool
}

// split normalizes the rows and separates connections (by "local remote")
// from listeners (deduplicated by family and port).
func split(rows []Socket) (conns map[string][]*Socket, listens []*listener) {
	conns = map[string][]*Socket{}
	seen := map[string]bool{}
	for _, r := range rows {
		s := r
		if l, v6, err := normalizeEndpoint(s.Local); err == nil {
			s.Local = l
			if s.Proto == "" {
				s.Proto = map[bool]string{false: "tcp", true: "tcp6"}[v6]
			}
		}
		if rem, _, err := normalizeEndpoint(s.Remote); err == nil {
			s.Remote = rem
		}
		if s.State != "LISTEN" {
			k := s.Local + " " + s.Remote
			conns[k] = append(conns[k], &s)
			continue
		}
		fam := familyOf(s.Local)
		k := fam + " " + portOf(s.Local)
		if seen[k] {
			continue
		}
		seen[k] = true
		listens = append(listens, &listener{family: fam, port: portOf(s.Local), sock: &s})
	}
	return conns, listens
}

func familyOf(endpoint string) string {
	switch {
	case strings.HasPrefix(endpoint, "*"):
		return "*"
	case strings.HasPrefix(endpoint, "["):
		return "6"
	default:
		return "4"
	}
}

func portOf(endpoint string) string {
	return endpoint[strings.LastIndexByte(endpoint, ':')+1:]
}

// compareVerdicts orders listeners first (by port), then connections, the two
// ends of one connection next to each other.
func compareVerdicts(a, b Verdict) int {
	if a.Listen != b.Listen {
		if a.Listen {
			return -1
		}
		return 1
	}
	sa, sb := a.Kernel, b.Kernel
	if sa == nil {
		sa = a.Inferred
	}
	if sb == nil {
		sb = b.Inferred
	}
	if a.Listen {
		pa, _ := strconv.Atoi(portOf(sa.Local))
		pb, _ := strconv.Atoi(portOf(sb.Local))
		return cmp.Or(cmp.Compare(pa, pb), cmp.Compare(familyOf(sa.Local), familyOf(sb.Local)))
	}
	loA, hiA := minmax(sa.Local, sa.Remote)
	loB, hiB := minmax(sb.Local, sb.Remote)
	return cmp.Or(compareEndpoints(loA, loB), compareEndpoints(hiA, hiB), compareEndpoints(sa.Local, sb.Local))
}

func minmax(a, b string) (lo, hi string) {
	if compareEndpoints(a, b) > 0 {
		return b, a
	}
	return a, b
}

func compareEndpoints(a, b string) int {
	pa, errA := netip.ParseAddrPort(a)
	pb, errB := netip.ParseAddrPort(b)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	return pa.Compare(pb)
}
