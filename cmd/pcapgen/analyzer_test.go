package main

import (
	"io"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// TestAnalyzerAgrees runs tcpstate's own decoder and connection table over
// generated captures and compares what they find with the expect file:
// state pairs at the end of the capture, endings by kind, retransmission
// and keep-alive counts. The first capture is long (over 60 s, low
// concurrency) so that TIME_WAIT runs out and 4-tuples are reused; the
// second is cut short by -packets in the middle of a SYN flood.
func TestAnalyzerAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	cases := []struct {
		name string
		args []string
	}{
		{"long.pcap", []string{"-conns", "40000", "-concurrency", "40", "-seed", "4"}},
		{"cut.pcapng.gz", []string{"-packets", "40000", "-concurrency", "400", "-flood", "30000", "-flood-synack",
			"-flood-rate", "20000", "-seed", "6"}},
		{"rate.pcap", []string{"-conns", "20000", "-concurrency", "200", "-rate", "100", "-seed", "8"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, e := gen(t, t.TempDir(), tc.name, tc.args...)
			if tc.name == "long.pcap" && e.Features["port_reuse"] == 0 {
				t.Errorf("no port reuse in a capture from %s to %s", e.First, e.Last)
			}
			if tc.name == "rate.pcap" {
				// 20000 connections at 100 a second.
				first, err1 := time.Parse(time.RFC3339Nano, e.First)
				last, err2 := time.Parse(time.RFC3339Nano, e.Last)
				if span := last.Sub(first); err1 != nil || err2 != nil || span < 190*time.Second || span > 210*time.Second {
					t.Errorf("-rate 100: 20000 connections from %s to %s, want about 200 s", e.First, e.Last)
				}
			}
			got := analyze(t, path)
			for pair, n := range e.AtEnd {
				if got.atEnd[pair] != n {
					t.Errorf("%s at the end: tcpstate finds %d, expected %d", pair, got.atEnd[pair], n)
				}
			}
			for pair, n := range got.atEnd {
				if _, ok := e.AtEnd[pair]; !ok {
					t.Errorf("%s at the end: tcpstate finds %d, expected none", pair, n)
				}
			}
			if e.CutShort == 0 {
				// every connection finished: endings by kind
				want := map[string]int{}
				for _, k := range e.Kinds {
					want[k.Ending] += k.Count
				}
				for ending, n := range want {
					if got.endings[ending] != n {
						t.Errorf("ending %q: tcpstate finds %d, expected %d", ending, got.endings[ending], n)
					}
				}
			}
			if got.retx != e.Retransmissions || got.keepAlives != e.KeepAliveProbes {
				t.Errorf("tcpstate counts %d retransmissions and %d keep-alives, expected %d and %d",
					got.retx, got.keepAlives, e.Retransmissions, e.KeepAliveProbes)
			}
			if got.anomalies != 0 {
				t.Errorf("%d connections with anomalies", got.anomalies)
			}
		})
	}
}

type analysis struct {
	atEnd      map[string]int
	endings    map[string]int
	retx       int
	keepAlives int
	anomalies  int
}

// analyze does what tcpstate conns does: decode, track, settle the timers
// at the last packet, and look at every connection.
func analyze(t *testing.T, path string) analysis {
	t.Helper()
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var conns []*reassembly.Conn
	table := reassembly.NewTable(reassembly.Config{Finished: func(c *reassembly.Conn) { conns = append(conns, c) }})
	var (
		pkt capture.Packet
		seg capture.Segment
		dec capture.Decoder
	)
	for {
		err := src.Next(&pkt)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if cl := dec.Decode(pkt.LinkType, pkt.Data, &seg); cl != capture.ClassTCP {
			t.Fatalf("packet %d: %v", pkt.Num, cl)
		}
		table.Add(&seg, pkt.Time, pkt.Num)
	}
	table.Settle(table.Now())
	conns = append(conns, table.Conns()...)
	a := analysis{atEnd: map[string]int{}, endings: map[string]int{}}
	for _, c := range conns {
		p := c.Machine.State(fsm.Client).String() + "/" + c.Machine.State(fsm.Server).String()
		a.atEnd[p]++
		a.endings[c.Ending()]++
		for _, d := range c.Dir {
			a.retx += int(d.Retransmissions)
			a.keepAlives += int(d.KeepAlives)
		}
		if c.Anomalies != 0 {
			a.anomalies++
		}
	}
	return a
}
