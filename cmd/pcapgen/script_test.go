package main

import (
	"io"
	"testing"
)

// TestScripts writes many connections' scripts and checks each: time never
// goes back, sequence numbers only advance (except retransmissions and
// probes), and the states after the last segment are the kind's.
func TestScripts(t *testing.T) {
	r := newRNG(42)
	hosts := newHosts(64, r, 42)
	var c conn
	var byKind [numKinds]int
	var byFeature [numFeatures]int
	for n := range 20000 {
		c.setup(r, hosts, tuple{}, false)
		byKind[c.kind]++
		for f := range byFeature {
			if c.feat&(1<<f) != 0 {
				byFeature[f]++
			}
		}
		s := c.steps
		var nxt [2]uint32
		tw := false
		for i := range s {
			st := &s[i]
			if i > 0 && st.at < s[i-1].at {
				t.Fatalf("conn %d (%v): step %d at %d µs, before step %d at %d", n, c.kind, i, st.at, i-1, s[i-1].at)
			}
			end := st.seq + uint32(st.n)
			if st.flags&(flagSYN|flagFIN) != 0 {
				end++
			}
			ahead := int32(end - nxt[st.from])
			switch {
			case st.note != noteNone && ahead > 0:
				t.Fatalf("conn %d (%v): step %d, a retransmission or probe, sends new data", n, c.kind, i)
			case st.note == noteNone && st.n > 0 && ahead <= 0 && c.feat&featReorder == 0:
				t.Fatalf("conn %d (%v): step %d repeats data without being a retransmission", n, c.kind, i)
			}
			if ahead > 0 {
				nxt[st.from] = end
			}
			tw = tw || st.enterTWait
		}
		last := s[len(s)-1].after
		if want := kinds[c.kind].final; last != want {
			t.Fatalf("conn %d (%v, features %b): ends %v, want %v", n, c.kind, c.feat, last, want)
		}
		if tw != (last.client == timeWait || last.server == timeWait) {
			t.Fatalf("conn %d (%v): TIME_WAIT entry marked %v, final states %v", n, c.kind, tw, last)
		}
	}
	for k, n := range byKind {
		if n == 0 {
			t.Errorf("no %v connection", kind(k))
		}
	}
	for f, n := range byFeature {
		if n == 0 && feature(1<<f) != featPortReuse {
			t.Errorf("no connection with %s", featureNames[f])
		}
	}
}

// TestTextChecksum compares the prefix-sum checksum of payload windows with
// a plain sum, at every alignment.
func TestTextChecksum(t *testing.T) {
	tx := newText(responseText)
	r := newRNG(1)
	for range 20000 {
		off := r.u32()
		n := r.intn(1500)
		if r.permille(10) {
			n = maxPayload - 1
		}
		b, s := tx.at(off, n)
		if len(b) != n {
			t.Fatalf("at(%d, %d): %d bytes", off, n, len(b))
		}
		if want := fold(sum(b, 0)); fold(s) != want {
			t.Fatalf("at(%d, %d): sum %#x, want %#x", off, n, fold(s), want)
		}
		if n > 0 && b[0] != tx.data[int(off%textPeriod)] {
			t.Fatalf("at(%d, %d): wrong bytes", off, n)
		}
	}
}

// TestPermutation: a bijection of [0, n), also for n not a power of two.
func TestPermutation(t *testing.T) {
	for _, n := range []uint64{1, 7, 1000, 1 << 12} {
		p := newPermutation(n, 12, 99)
		seen := make([]bool, n)
		for i := range n {
			x := p.at(i)
			if x >= n || seen[x] {
				t.Fatalf("n=%d: at(%d) = %d: out of range or repeated", n, i, x)
			}
			seen[x] = true
		}
	}
}

// TestNoAllocations: writing a packet allocates nothing once the pool is
// warm (the pool's buffers are reused, the event queue has its size).
func TestNoAllocations(t *testing.T) {
	cfg := config{seed: 1, conns: -1, concurrency: 200, flood: 1 << 30, floodSYNACK: true,
		floodRate: 20000, start: defaultStart}
	out := newOutput(io.Discard, true, false, cfg.start)
	defer out.close()
	g := newGenerator(cfg, out)
	for range 200_000 {
		g.step()
	}
	if n := testing.AllocsPerRun(20000, func() { g.step() }); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}
