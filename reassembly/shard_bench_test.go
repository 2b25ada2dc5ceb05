package reassembly

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/capture"
)

// benchFile is the capture the file benchmarks read, from
// TCPSTATE_BENCH_FILE, for instance the 1M-packet one of
//
//	go run ./cmd/pcapgen -o /tmp/bench-1m.pcap -conns 100000 -concurrency 1000
func benchFile(tb testing.TB) string {
	path := os.Getenv("TCPSTATE_BENCH_FILE")
	if path == "" {
		tb.Skip("TCPSTATE_BENCH_FILE is not set: no capture to measure")
	}
	return path
}

// analyzeFile does what the CLI's analysis does with a capture: read,
// decode, track every TCP segment, keep the connections that finish,
// settle at the end and list the live ones. workers 0 is one Table used
// directly; otherwise a Sharded with that many workers.
func analyzeFile(tb testing.TB, path string, workers int) (packets uint64, conns int) {
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var finished []*Conn
	cfg := Config{Finished: func(c *Conn) { finished = append(finished, c) }}
	var (
		table   *Table
		sharded *Sharded
	)
	if workers == 0 {
		table = NewTable(cfg)
	} else {
		sharded = NewSharded(cfg, workers)
		defer sharded.Close()
	}
	var (
		pkt  capture.Packet
		seg  capture.Segment
		dec  capture.Decoder
		last time.Time
	)
	for {
		err := src.Next(&pkt)
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		packets++
		if pkt.Time.After(last) {
			last = pkt.Time
		}
		if dec.Decode(pkt.LinkType, pkt.Data, &seg) != capture.ClassTCP {
			continue
		}
		if table != nil {
			table.Add(&seg, pkt.Time, pkt.Num)
		} else {
			sharded.Add(&seg, pkt.Time, pkt.Num)
		}
	}
	if table != nil {
		table.Settle(last)
		return packets, len(finished) + len(table.Conns())
	}
	sharded.Settle(last)
	return packets, len(finished) + len(sharded.Conns())
}

// BenchmarkFile measures the whole analysis of TCPSTATE_BENCH_FILE with one
// Table and with Sharded over 2 workers.
func BenchmarkFile(b *testing.B) {
	path := benchFile(b)
	for _, workers := range []int{0, 2} {
		name := "table"
		if workers > 0 {
			name = fmt.Sprintf("sharded-%d", workers)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var packets uint64
			for b.Loop() {
				packets, _ = analyzeFile(b, path, workers)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(uint64(b.N)*packets), "ns/packet")
		})
	}
}

// TestShardedSpeedup times the analysis of TCPSTATE_BENCH_FILE with one
// Table and with Sharded over 2 workers, alternating, TCPSTATE_BENCH_RUNS
// times each (default 5), and prints every wall time, the median, the
// spread and the speed-up. It checks that both find the same number of
// connections; it does not fail on the timing, which a shared machine
// makes noisy.
func TestShardedSpeedup(t *testing.T) {
	path := benchFile(t)
	runs := 5
	if s := os.Getenv("TCPSTATE_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TCPSTATE_BENCH_RUNS=%q: want a positive number", s)
		}
		runs = n
	}
	var walls [2][]time.Duration
	var packets uint64
	var conns [2]int
	for range runs {
		for i, workers := range []int{0, 2} {
			start := time.Now()
			packets, conns[i] = analyzeFile(t, path, workers)
			walls[i] = append(walls[i], time.Since(start))
		}
	}
	if conns[0] != conns[1] {
		t.Fatalf("one table found %d connections, sharded %d", conns[0], conns[1])
	}
	med := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	t.Logf("%s: %d packets, %d connections, %d runs each", path, packets, conns[0], runs)
	for i, name := range []string{"one table", "sharded, 2 workers"} {
		t.Logf("%-18s median %6.3f s  min %6.3f s  max %6.3f s  (%.0f ns/packet)  runs %v", name,
			med(walls[i]).Seconds(), slices.Min(walls[i]).Seconds(), slices.Max(walls[i]).Seconds(),
			float64(med(walls[i]).Nanoseconds())/float64(packets), walls[i])
	}
	t.Logf("speed-up: median %.2fx, best against best %.2fx, worst against worst %.2fx",
		med(walls[0]).Seconds()/med(walls[1]).Seconds(),
		slices.Min(walls[0]).Seconds()/slices.Min(walls[1]).Seconds(),
		slices.Max(walls[0]).Seconds()/slices.Max(walls[1]).Seconds())
}
