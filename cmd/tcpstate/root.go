package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/reassembly"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); without
// it the module version and VCS revision of the build are used.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (" + rev + modified + ")"
	}
	return v
}

// streams are the standard streams a command uses; tests replace them.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// newRootCmd builds the command tree. stop ends what the run started
// besides the command itself (a --cpuprofile), whether it failed or not.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) (root *cobra.Command, stop func() error) {
	st := &streams{stdin: stdin, stdout: stdout, stderr: stderr}
	root = &cobra.Command{
		Use:   "tcpstate",
		Short: "Reconstruct the TCP state of both endpoints of every connection in a capture",
		Long: `tcpstate reads packet captures (pcap or pcapng, gzip-compressed or not),
or captures live from an interface (-i, Linux), and reconstructs, from the
SYN, ACK, FIN and RST flags and the sequence numbers of every TCP segment,
the RFC 9293 state of both endpoints of every connection: LISTEN,
SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT,
CLOSING, LAST_ACK, TIME_WAIT, CLOSED.

A capture shows what was sent, not what arrived: a transition caused by a
segment an endpoint sent is certain; one caused by a segment it was sent is
inferred, and revised when later packets prove the segment never arrived.

A capture filter in tcpdump's syntax selects the packets: the arguments of
netstat, conns and events, or --filter for every command. It runs in the
kernel when capturing live and on every packet read from a file, with the
same meaning.

Memory follows the connections alive at once, not the length of the
capture (see --max-conns). Go's garbage collector runs at GOGC=25 unless
the environment sets GOGC: a larger value trades memory for a little
speed while the table grows.`,
		Example: `  tcpstate netstat -r capture.pcap
  tcpstate netstat -r capture.pcapng.gz --at 2.5s
  tcpstate conns -r rotated-0.pcap -r rotated-1.pcap --json
  tcpstate netstat -r capture.pcap tcp port 443
  sudo tcpstate netstat -i eth0
  tcpdump -w - -i eth0 | tcpstate netstat -r -`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("tcpstate {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(newNetstatCmd(st), newConnsCmd(st), newEventsCmd(st), newLadderCmd(st), newDiagramCmd(st), newStatsCmd(st))
	prof := new(cpuProfile)
	addCPUProfileFlag(root, prof)
	return root, prof.stop
}

// sourceOptions are the flags every analysing command takes.
type sourceOptions struct {
	files            []string
	iface            string
	filter           string
	snaplen          int
	noPromisc        bool
	bufferMiB        int
	workers          int
	timeWait         time.Duration
	idleTimeout      time.Duration
	handshakeTimeout time.Duration
	maxConns         int
	write            string
	quiet            bool
	color            string
	json             bool
}

func (o *sourceOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&o.files, "read", "r", nil, "read packets from `FILE` (pcap or pcapng, gzipped or not; - for standard input); repeat for rotated files, merged by time")
	fs.StringVarP(&o.iface, "interface", "i", "", "capture live on `IFACE` (any for every interface) until Ctrl-C; needs root or CAP_NET_RAW (Linux)")
	fs.StringVar(&o.filter, "filter", "", "capture filter `EXPR` in tcpdump's syntax (e.g. 'tcp port 443 and host 10.1.2.3'); applied in the kernel live, to every packet read from a file")
	fs.IntVarP(&o.snaplen, "snapshot-length", "s", 262144, "live: keep at most `N` bytes of each packet (the TCP header is all the analysis needs)")
	fs.BoolVarP(&o.noPromisc, "no-promiscuous-mode", "p", false, "live: do not put the interface into promiscuous mode")
	fs.IntVarP(&o.bufferMiB, "buffer-size", "B", 2, "live: the kernel's capture ring, in `MiB`; larger rides out longer stalls without drops")
	fs.DurationVar(&o.timeWait, "time-wait", 60*time.Second, "how long TIME_WAIT lasts (2·MSL)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 2*time.Hour, "forget connections silent for this long")
	fs.DurationVar(&o.handshakeTimeout, "handshake-timeout", 2*time.Minute, "give up on SYN_SENT and SYN_RECEIVED after this long without a segment")
	fs.IntVar(&o.maxConns, "max-conns", reassembly.DefaultMaxConns, "keep at most this many connections (about 2 KiB of heap each while open, under 1 KiB once closed); when full, evict closed, then half-open, then TIME_WAIT, then the longest-idle connection")
	fs.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "spread the connections over `N` cores (same results; 1 for one); commands that follow each segment (events, ladder, diagram) and live captures use one")
	fs.StringVarP(&o.write, "write", "w", "", "also save every packet read to `FILE` (pcapng), atomically; never over an input")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print no progress and no summary on standard error")
	fs.StringVar(&o.color, "color", "auto", "colour the output: auto (when standard output is a terminal and NO_COLOR is unset), always or never")
	fs.BoolVar(&o.json, "json", false, "write JSON Lines, one object per row")
}

// setFilterArgs takes a capture filter given as arguments, as tcpdump takes
// it: the words are joined with spaces.
func (o *sourceOptions) setFilterArgs(args []string) error {
	if len(args) == 0 {
		return nil
	}
	if o.filter != "" {
		return fmt.Errorf("a filter was given twice: as --filter %q and as arguments %q", o.filter, strings.Join(args, " "))
	}
	o.filter = strings.Join(args, " ")
	return nil
}

// checkFilter finds a mistake in a filter expression before anything is
// opened: it must compile for at least one common link type (inbound, say,
// is meaningless on Ethernet but fine on a cooked capture).
func checkFilter(expr string) error {
	if expr == "" {
		return nil
	}
	var first error
	for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeRaw} {
		_, err := capture.CompileFilter(expr, lt, 0)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func (o *sourceOptions) validate() error {
	switch {
	case len(o.files) == 0 && o.iface == "":
		return fmt.Errorf("no capture given: use -r FILE (or -r - for standard input), or -i IFACE to capture live")
	case len(o.files) > 0 && o.iface != "":
		return fmt.Errorf("-r and -i cannot be combined: read files or capture live")
	}
	if err := checkFilter(o.filter); err != nil {
		return err
	}
	if o.snaplen < 1 {
		return fmt.Errorf("--snapshot-length must be at least 1")
	}
	if o.workers < 1 {
		return fmt.Errorf("--workers must be at least 1")
	}
	if o.bufferMiB < 1 {
		return fmt.Errorf("--buffer-size must be at least 1 MiB")
	}
	stdins := 0
	for _, f := range o.files {
		if f == "-" {
			stdins++
		}
	}
	if stdins > 1 {
		return fmt.Errorf("standard input (-r -) can be read only once")
	}
	switch strings.ToLower(o.color) {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--color must be auto, always or never, not %q", o.color)
	}
	if o.maxConns < 1 {
		return fmt.Errorf("--max-conns must be at least 1")
	}
	if o.timeWait < 0 || o.idleTimeout < 0 || o.handshakeTimeout < 0 {
		return fmt.Errorf("timeouts cannot be negative")
	}
	return nil
}
