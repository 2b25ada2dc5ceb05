package reassembly

import (
	"net/netip"
	"testing"
)

var sinkT tuple

func BenchmarkTupleOf(b *testing.B) {
	a := netip.MustParseAddrPort("192.0.2.1:40000")
	c := netip.MustParseAddrPort("198.51.100.7:80")
	for i := 0; i < b.N; i++ {
		sinkT = tupleOf(a, c)
	}
}

var sinkC *Conn

func BenchmarkMapLookup(b *testing.B) {
	m := map[tuple]*Conn{}
	var keys []tuple
	for i := range 100000 {
		a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(i))
		k := tupleOf(a, srv)
		m[k] = &Conn{}
		keys = append(keys, k)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sinkC = m[keys[(i*7919)%1000]]
	}
}
