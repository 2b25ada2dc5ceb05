// Command pcapcraft writes tcpstate's crafted sample captures: small,
// deterministic pcap/pcapng files that each show one TCP path a real kernel
// capture cannot produce on demand (simultaneous open and close, forged
// resets, sequence wrap, port reuse, lost ACKs, ...), and the README section
// that says what each one shows and in which state every endpoint ends.
//
//	go run ./cmd/pcapcraft -out pcaps
//
// Running it again produces byte-identical files.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
)

// readmeName is the README section written next to the captures.
const readmeName = "README-crafted.md"

func main() {
	out := flag.String("out", "pcaps", "directory to write the captures and "+readmeName+" into")
	flag.Parse()
	if err := writeAll(*out); err != nil {
		fmt.Fprintln(os.Stderr, "pcapcraft:", err)
		os.Exit(1)
	}
}

// output is one file to write.
type output struct {
	name string
	data []byte
}

// buildAll crafts every scenario and renders the README section.
func buildAll() ([]output, error) {
	var outs []output
	var readme bytes.Buffer
	readme.WriteString(readmeIntro)
	for _, sc := range scenarios {
		f := newFile(sc.name)
		sc.build(f)
		if err := f.finish(); err != nil {
			return nil, err
		}
		data, err := f.encode()
		if err != nil {
			return nil, err
		}
		outs = append(outs, output{sc.name, data})
		f.markdown(&readme, funcName(sc.build))
	}
	return append(outs, output{readmeName, readme.Bytes()}), nil
}

// funcName is the name of a scenario function, for the README.
func funcName(fn func(*file)) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	return name[strings.LastIndexByte(name, '.')+1:]
}

func writeAll(dir string) error {
	outs, err := buildAll()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, o := range outs {
		if err := os.WriteFile(filepath.Join(dir, o.name), o.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

const readmeIntro = `## Crafted captures

These captures are made, not recorded: ` + "`go run ./cmd/pcapcraft -out pcaps`" + ` writes all of them
(and this section, as ` + "`pcaps/" + readmeName + "`" + `) from the scenario table in ` + "`cmd/pcapcraft/scenarios.go`" + `.
They show TCP paths that a real kernel capture cannot produce on demand. The program is
deterministic; its test regenerates every file and compares it byte for byte with the committed one,
and checks that each reads back with pcapgo and decodes with gopacket.

Conventions, unless an entry says otherwise:

- Time starts at 2026-01-15T10:00:00Z. The capture point is between the hosts: a segment answering
  the other side follows it by about half the round-trip time (2 ms unless stated), back-to-back
  segments by about 30 µs. The "time" column counts from the first captured packet.
- Addresses are documentation ones (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32);
  MAC addresses are 02:00:00:00:00:xx (01 the client, 02 the server or its gateway).
- Options are Linux's: SYN and SYN-ACK carry MSS 1460 (1440 over IPv6), SACK-permitted, timestamps
  and window scale 7 (windows 64240 and 65160); every later segment carries NOP, NOP, timestamps;
  resets carry no options and window 0. IPv4 packets have DF set. Ethernet frames shorter than
  60 bytes (resets, option-less SYNs) are zero-padded to 60 as on the wire: the IP total length
  excludes the padding.
- "conn" is a label for one connection (one incarnation of a 4-tuple). "client" is the endpoint that
  sent the first SYN without ACK (or, without one, the one a scenario names).
- States are RFC 9293 names. "At end" is each endpoint's state at the time of the last packet of
  the capture, with TIME_WAIT lasting 2·MSL = 60 s. The simulation in pcapcraft that crafts the
  segments also tracks both endpoints' true states and refuses to write a capture whose outcome
  differs from what this section says. The per-packet states are those true states: a segment lost
  after the capture point changes nothing, and two segments that cross are both delivered before
  the next one is sent.
- Relative sequence numbers: seq is relative to the sender's ISN, ack to the receiver's; a SYN and a
  FIN each take one sequence number.

`
