package netlab

import (
	"bufio"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Socket is one TCP socket as a table row: the kernel's (from ss) or
// tcpstate's (from `netstat --json`).
type Socket struct {
	// Proto is "tcp" for IPv4 and "tcp6" for IPv6. ss's "*" wildcard, a
	// dual-stack IPv6 socket, is "tcp6".
	Proto string `json:"proto"`
	// State is the RFC 9293 name with underscores: LISTEN, SYN_SENT,
	// SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING,
	// LAST_ACK, TIME_WAIT (see StateName).
	State string `json:"state"`
	// Local and Remote are "1.2.3.4:80", "[::1]:80", "0.0.0.0:80", "[::]:80"
	// or "*:80"; a listener's Remote has port "*" ("0.0.0.0:*", "*:*").
	// IPv4-mapped IPv6 addresses are printed as IPv4 ones.
	Local  string `json:"local"`
	Remote string `json:"remote"`
	// SendQ and RecvQ are ss's Send-Q and Recv-Q. For a listener they are
	// the backlog and the accept queue's length.
	SendQ int `json:"send_q"`
	RecvQ int `json:"recv_q"`
}

// ssStates maps ss's state names to the RFC 9293 ones.
var ssStates = map[string]string{
	"LISTEN":     "LISTEN",
	"SYN-SENT":   "SYN_SENT",
	"SYN-RECV":   "SYN_RECEIVED",
	"ESTAB":      "ESTABLISHED",
	"FIN-WAIT-1": "FIN_WAIT_1",
	"FIN-WAIT-2": "FIN_WAIT_2",
	"CLOSE-WAIT": "CLOSE_WAIT",
	"CLOSING":    "CLOSING",
	"LAST-ACK":   "LAST_ACK",
	"TIME-WAIT":  "TIME_WAIT",
	"UNCONN":     "CLOSED",
}

// StateName converts a state as ss prints it (ESTAB, SYN-RECV, FIN-WAIT-1,
// ...) to its RFC 9293 name with underscores (ESTABLISHED, SYN_RECEIVED,
// FIN_WAIT_1, ...). ok is false for a name ss does not use.
func StateName(ss string) (name string, ok bool) {
	name, ok = ssStates[ss]
	return name, ok
}

// SS returns the output of `ss -tan` run inside the namespace: every TCP
// socket, with the header line.
func (n *Namespace) SS() (string, error) {
	out, err := n.Run("ss", "-tan")
	if err != nil {
		return "", fmt.Errorf("netlab: ss in %s: %w", n.Name, err)
	}
	return string(out), nil
}

// Sockets returns the namespace's TCP sockets as ss sees them.
func (n *Namespace) Sockets() ([]Socket, error) {
	text, err := n.SS()
	if err != nil {
		return nil, err
	}
	return ParseSS(text)
}

// ParseSS parses the output of `ss -tan`, with or without its header line
// (-H). Columns after the peer address (process, timers) are ignored.
func ParseSS(text string) ([]Socket, error) {
	var socks []Socket
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || (line == 1 && f[0] == "State") {
			continue
		}
		s, err := parseSSRow(f)
		if err != nil {
			return nil, fmt.Errorf("netlab: ss line %d %q: %w", line, sc.Text(), err)
		}
		socks = append(socks, s)
	}
	return socks, sc.Err()
}

func parseSSRow(f []string) (Socket, error) {
	if len(f) < 5 {
		return Socket{}, fmt.Errorf("want at least 5 columns, have %d", len(f))
	}
	state, ok := StateName(f[0])
	if !ok {
		return Socket{}, fmt.Errorf("unknown state %q", f[0])
	}
	recvQ, err1 := strconv.Atoi(f[1])
	sendQ, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil {
		return Socket{}, fmt.Errorf("queues %q %q are not numbers", f[1], f[2])
	}
	local, v6l, err := normalizeEndpoint(f[3])
	if err != nil {
		return Socket{}, fmt.Errorf("local address: %w", err)
	}
	remote, v6r, err := normalizeEndpoint(f[4])
	if err != nil {
		return Socket{}, fmt.Errorf("peer address: %w", err)
	}
	proto := "tcp"
	if v6l || v6r {
		proto = "tcp6"
	}
	return Socket{Proto: proto, State: state, Local: local, Remote: remote, SendQ: sendQ, RecvQ: recvQ}, nil
}

// normalizeEndpoint parses an endpoint as ss or netstat print it ("1.2.3.4:80",
// "[::1]:80", "[fe80::1]%eth0:80", "*:80", "0.0.0.0:*", "*:*") and prints it
// back in one form: scope dropped, IPv4-mapped addresses as IPv4. ipv6 says
// whether it was an IPv6 (or "*", dual-stack) address.
func normalizeEndpoint(s string) (out string, ipv6 bool, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", false, fmt.Errorf("%q has no port", s)
	}
	host, port := s[:i], s[i+1:]
	if port != "*" {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "", false, fmt.Errorf("%q: bad port", s)
		}
	}
	if host == "*" {
		return "*:" + port, true, nil
	}
	if h, _, ok := strings.Cut(host, "%"); ok { // "[fe80::1]%eth0" or "127.0.0.1%lo"
		host = h
	}
	bracketed := strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")
	if bracketed {
		host = host[1 : len(host)-1]
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return "", false, fmt.Errorf("%q: %w", s, err)
	}
	addr = addr.WithZone("")
	if addr.Is4In6() {
		return addr.Unmap().String() + ":" + port, false, nil
	}
	if addr.Is6() {
		return "[" + addr.String() + "]:" + port, true, nil
	}
	return addr.String() + ":" + port, false, nil
}
