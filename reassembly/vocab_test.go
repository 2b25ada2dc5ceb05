package reassembly_test

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/wireshark"
)

// TestWiresharkFlagsThroughTable checks that the table gives every segment
// the analysis flags that one Wireshark conversation per 4-tuple gives it
// (the wireshark package's own tests hold that to tshark): the table splits
// a 4-tuple into connections, and must carry the conversation across them.
func TestWiresharkFlagsThroughTable(t *testing.T) {
	files, err := filepath.Glob("../pcaps/*.pcap*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	gen := filepath.Join(t.TempDir(), "pcapgen.pcap")
	if out, err := exec.Command("go", "run", "../cmd/pcapgen", "-o", gen, "-conns", "2000", "-concurrency", "100", "-seed", "1").CombinedOutput(); err != nil {
		t.Fatalf("pcapgen: %v\n%s", err, out)
	}
	agree, total := 0, 0
	for _, file := range append(files, gen) {
		a, n := compareWireshark(t, file)
		agree += a
		total += n
	}
	t.Logf("%d of %d segments agree", agree, total)
	fmt.Printf("wireshark flags through the table: %d of %d segments agree\n", agree, total)
	if agree != total {
		t.Errorf("%d segments disagree", total-agree)
	}
}

func compareWireshark(t *testing.T, file string) (agree, total int) {
	t.Helper()
	src, err := capture.Open([]string{file}, capture.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	type conv struct {
		c     wireshark.Conn
		first netip.AddrPort
	}
	direct := map[reassembly.Key]*conv{}
	table := reassembly.NewTable(reassembly.Config{})
	var (
		p   capture.Packet
		s   capture.Segment
		dec capture.Decoder
	)
	shown, forgotten := 0, 0
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if dec.Decode(p.LinkType, p.Data, &s) != capture.ClassTCP {
			continue
		}
		c, _ := table.Add(&s, p.Time, p.Num)
		k := reassembly.KeyOf(s.Src, s.Dst)
		d := direct[k]
		if d == nil {
			d = &conv{first: s.Src}
			direct[k] = d
		}
		from := 0
		if s.Src != d.first {
			from = 1
		}
		seg := wireshark.Segment{
			Segment: fsm.Segment{Seq: fsm.Seq(s.Seq), Ack: fsm.Seq(s.Ack), Flags: fsm.Flags(s.Flags),
				Len: uint32(s.PayloadLen), Window: s.Window, WScale: -1},
			Time: p.Time, HeaderTruncated: s.HeaderTruncated,
			TFOCookie: s.Opts.Has&capture.OptFastOpen != 0 && s.Opts.TFOCookieLen > 0,
		}
		if s.Opts.Has&capture.OptWScale != 0 {
			seg.WScale = int8(min(s.Opts.WScale, 14))
		}
		f, dup := d.c.Add(from, seg)
		total++
		switch {
		case f == c.Flags && dup == c.DupAck:
			agree++
		case f^c.Flags == wireshark.ReusedPorts && c.FirstPacket == p.Num:
			// The table forgets a 4-tuple 2·MSL after its connection
			// closed; Wireshark never does (docs/wireshark.md).
			agree++
			forgotten++
		case shown < 10:
			shown++
			t.Errorf("%s packet %d: table %v (dup %d), one conversation per 4-tuple %v (dup %d)",
				filepath.Base(file), p.Num, c.Flags, c.DupAck, f, dup)
		}
	}
	if forgotten > 0 {
		t.Logf("%s: %d SYNs reuse a 4-tuple the table had forgotten: no reused_ports", filepath.Base(file), forgotten)
	}
	return agree, total
}

// TestNoVocabulariesChangesNoState checks that skipping Zeek's and
// Wireshark's analyses changes nothing of the connections' own states and
// counters, and leaves those views empty.
func TestNoVocabulariesChangesNoState(t *testing.T) {
	files, err := filepath.Glob("../pcaps/*.pcap*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	run := func(file string, plain bool) []*reassembly.Conn {
		src, err := capture.Open([]string{file}, capture.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var done []*reassembly.Conn
		table := reassembly.NewTable(reassembly.Config{NoVocabularies: plain, Finished: func(c *reassembly.Conn) { done = append(done, c) }})
		var (
			p   capture.Packet
			s   capture.Segment
			dec capture.Decoder
		)
		for src.Next(&p) == nil {
			if dec.Decode(p.LinkType, p.Data, &s) == capture.ClassTCP {
				table.Add(&s, p.Time, p.Num)
			}
		}
		table.Flush()
		return done
	}
	for _, file := range files {
		full, plain := run(file, false), run(file, true)
		if len(full) != len(plain) {
			t.Fatalf("%s: %d connections, %d without the vocabularies", file, len(full), len(plain))
		}
		for i := range full {
			a, b := full[i], plain[i]
			if a.ID != b.ID || a.Dir != b.Dir || a.Ending() != b.Ending() ||
				a.Machine.State(fsm.Client) != b.Machine.State(fsm.Client) || a.Machine.State(fsm.Server) != b.Machine.State(fsm.Server) ||
				a.Machine.HistoryLen() != b.Machine.HistoryLen() {
				t.Errorf("%s: connection %d differs without the vocabularies", filepath.Base(file), a.ID)
			}
			if b.FlagCounts != (wireshark.Counts{}) || b.Zeek.History() != "" {
				t.Errorf("%s: connection %d has Zeek or Wireshark data though they were skipped", filepath.Base(file), b.ID)
			}
		}
	}
}
