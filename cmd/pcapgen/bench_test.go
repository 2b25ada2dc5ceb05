package main

import (
	"io"
	"testing"
)

// BenchmarkGenerate measures one packet (ns/op is per packet) in the steady
// state: a pool of 1000 connections that never runs dry, written to
// io.Discard in pcap format.
func BenchmarkGenerate(b *testing.B) {
	cfg := config{seed: 1, conns: -1, concurrency: 1000, start: defaultStart}
	out := newOutput(io.Discard, false, false, cfg.start)
	g := newGenerator(cfg, out)
	for range 300_000 { // past the start ramp: every slot has had several connections
		g.step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		g.step()
	}
	b.StopTimer()
	b.ReportMetric(float64(out.bytes)/float64(g.stats.packets), "B/pkt")
	out.close()
}
