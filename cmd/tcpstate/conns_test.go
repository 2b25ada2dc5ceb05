package main

import (
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// benchRows returns rows as a busy capture's connections make them: IPv4
// and IPv6, short and long counters and durations.
func benchRows() []connRow {
	t0 := time.Date(2026, 11, 25, 19, 2, 22, 488420000, time.UTC)
	rows := make([]connRow, 256)
	for i := range rows {
		r := &rows[i]
		r.ID = uint64(90000 + i)
		r.client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i), 3, byte(i * 7)}), uint16(30000+i))
		r.server = netip.MustParseAddrPort("192.0.2.80:443")
		if i%4 == 0 {
			r.client = netip.MustParseAddrPort("[2001:db8::1:2]:41000")
			r.server = netip.MustParseAddrPort("[2001:db8::80]:443")
		}
		r.first = t0.Add(time.Duration(i) * 1234567 * time.Nanosecond)
		r.duration = time.Duration(i%50) * 37123456 * time.Nanosecond
		r.Duration = r.duration.Seconds()
		r.C2S.Packets, r.S2C.Packets = uint64(5+i%9), uint64(4+i%7)
		r.C2S.Bytes, r.S2C.Bytes = uint64(i*37%5000), uint64(i*1031%200000)
		r.clientState, r.serverState = fsm.TimeWait, fsm.Closed
		r.ClientState, r.ServerState = r.clientState.String(), r.serverState.String()
		r.ZeekConnState, r.ZeekHistory, r.Ending = "SF", "ShADadFf", "closed by client"
	}
	return rows
}

// BenchmarkConnsLine writes rows of the text table, after the first
// alignRows that fix the column widths.
func BenchmarkConnsLine(b *testing.B) {
	rows := benchRows()
	cw := newConnsWriter(io.Discard, false, newPalette(false))
	for i := 0; i < alignRows; i++ {
		cw.write(&rows[i%len(rows)])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		cw.write(&rows[i%len(rows)])
		i++
	}
}

// TestAppendSeconds: a duration is written as strconv.AppendFloat writes
// its Seconds() with three decimals, halfway cases and long durations
// included.
func TestAppendSeconds(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var ds []time.Duration
	for _, d := range []time.Duration{0, 1, 499999, 500000, 500001, 999999, 1e6, 1500000, 2500000, time.Second - 1,
		(1<<20)*time.Second - 1, (1 << 20) * time.Second, 1<<63 - 1, -1, -1500000} {
		ds = append(ds, d)
	}
	for range 200000 {
		// Around halfway between two milliseconds, and anywhere up to
		// well past 2^20 s.
		for _, most := range []int64{1 << 32, 1 << 43} {
			ms := time.Duration(r.Int64N(most))
			ds = append(ds, ms*time.Millisecond+time.Millisecond/2+time.Duration(r.IntN(5)-2))
		}
		ds = append(ds, time.Duration(r.Int64N(1<<52)))
	}
	for _, d := range ds {
		want := string(strconv.AppendFloat(nil, d.Seconds(), 'f', 3, 64))
		if got := string(appendSeconds(nil, d)); got != want {
			t.Fatalf("%d ns: %q, want %q", int64(d), got, want)
		}
	}
}
