package zeek_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly/zeek"
)

var update = flag.Bool("update", false, "rewrite testdata/samples.golden from the current output")

const samplesGolden = "testdata/samples.golden"

// TestSamples runs every sample capture in pcaps/ through Conn, one Conn
// per connection as Zeek would split them (a new one when IsReuse or
// Expired says so), and compares the conn.log fields with
// testdata/samples.golden.
func TestSamples(t *testing.T) {
	paths, err := filepath.Glob("../../pcaps/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no sample captures in ../../pcaps")
	}
	var out bytes.Buffer
	for _, p := range paths {
		if err := zeekLog(&out, p); err != nil {
			t.Fatal(err)
		}
	}
	if *update {
		if err := os.WriteFile(samplesGolden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(samplesGolden)
	if err != nil {
		t.Fatalf("%v (run go test ./reassembly/zeek -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("conn.log fields differ from %s (go test ./reassembly/zeek -update rewrites it; review the diff):\n%s",
			samplesGolden, lineDiff(string(want), got))
	}
}

// pair is a connection's two endpoints, in canonical order.
type pair struct{ lo, hi netip.AddrPort }

func pairOf(a, b netip.AddrPort) pair {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return pair{a, b}
}

// entry is one connection: A sent its first segment.
type entry struct {
	c    *zeek.Conn
	a, b netip.AddrPort
}

// zeekLog writes one line per connection of the capture at path, in the
// order the connections started.
func zeekLog(w io.Writer, path string) error {
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		return err
	}
	defer src.Close()
	var (
		p    capture.Packet
		s    capture.Segment
		d    capture.Decoder
		cur  = map[pair]*entry{}
		all  []*entry
		name = filepath.Base(path)
	)
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if d.Decode(p.LinkType, p.Data, &s) != capture.ClassTCP {
			continue
		}
		zs := zeek.Segment{
			Flags:      fsm.Flags(s.Flags),
			Seq:        s.Seq,
			Ack:        s.Ack,
			Window:     s.Window,
			Len:        s.PayloadLen,
			IPLen:      s.IPLen,
			Time:       p.Time,
			PayloadCut: len(s.Payload) < s.PayloadLen,
		}
		k := pairOf(s.Src, s.Dst)
		e := cur[k]
		if e == nil || e.c.Expired(p.Time) || e.c.IsReuse(&zs) {
			e = &entry{c: &zeek.Conn{}, a: s.Src, b: s.Dst}
			if zeek.FlipsOnCreate(zs.Flags, s.Src.Port(), s.Dst.Port(), zeek.LikelyServerPort) {
				e.c.StartFlipped()
			}
			cur[k] = e
			all = append(all, e)
		}
		e.c.Add(s.Src == e.a, &zs)
	}
	for _, e := range all {
		fmt.Fprintln(w, logLine(name, e))
	}
	return nil
}

// logLine prints the conn.log fields of one connection. As in Zeek's log,
// orig_bytes and resp_bytes are "-" when the duration is zero.
func logLine(file string, e *entry) string {
	c := e.c
	orig, resp := e.a, e.b
	if c.Flipped() {
		orig, resp = resp, orig
	}
	o, r := c.Orig(), c.Resp()
	bytes := "-/-"
	if c.Duration() > 0 {
		bytes = fmt.Sprintf("%d/%d", o.Bytes, r.Bytes)
	}
	return fmt.Sprintf("%s %s > %s %s %s pkts=%d/%d ip_bytes=%d/%d bytes=%s missed=%d duration=%.6f",
		file, orig, resp, c.State(), c.History(), o.Pkts, r.Pkts, o.IPBytes, r.IPBytes, bytes,
		c.MissedBytes(), c.Duration().Seconds())
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	inW, inG := map[string]bool{}, map[string]bool{}
	for _, l := range w {
		inW[l] = true
	}
	for _, l := range g {
		inG[l] = true
	}
	var b strings.Builder
	for _, l := range w {
		if !inG[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !inW[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
