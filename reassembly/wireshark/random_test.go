package wireshark

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// walk makes a random conversation of n segments on client port port,
// starting at start: mostly sensible TCP (a handshake, data, ACKs) with
// everything the flags are about mixed in: retransmissions, gaps, duplicate
// ACKs, keep-alives, zero windows and probes, window updates, segments that
// fill the window, FIN, RST, SYNs with the same or a new ISN, Fast Open,
// window scaling, sequence numbers near the wrap, and clocks that stall or
// step back. It feeds the random comparison with tshark, the allocation
// test and the benchmark.
func walk(r *rand.Rand, port uint16, start time.Time, n int) []step {
	var (
		nxt     [2]uint32 // next new sequence number of each side
		ack     [2]uint32 // what each side acknowledges
		win     [2]uint16
		shift   [2]int8
		steps   []step
		now     = start
		windows = []uint16{0, 1, 7, 100, 1000, 65535}
		lengths = []uint32{1, 2, 10, 100, 536, 1460}
		gaps    = []time.Duration{0, time.Microsecond, 500 * time.Microsecond, ms(1), ms(2), ms(5), ms(15), ms(25), ms(200), 2 * time.Second}
	)
	isn := func() uint32 {
		if r.IntN(4) == 0 {
			return ^uint32(0) - uint32(r.IntN(3000)) // near the wrap
		}
		return r.Uint32()
	}
	add := func(from int, flags string, seq, a, length uint32) *step {
		switch k := r.IntN(40); {
		case k == 0 && now.After(start):
			now = now.Add(-ms(1)) // a clock that steps back
		default:
			now = now.Add(gaps[r.IntN(len(gaps))])
		}
		s := mkstep(from, flags, seq, a, length, win[from]).at(now.Sub(t0))
		s.port = port
		steps = append(steps, s)
		return &steps[len(steps)-1]
	}
	open := func() {
		nxt[0], nxt[1] = isn(), isn()
		win[0], win[1] = windows[2+r.IntN(4)], windows[2+r.IntN(4)]
		shift[0], shift[1] = -1, -1
		syn := add(0, "S", nxt[0], 0, 0)
		if r.IntN(3) > 0 {
			shift[0] = int8(r.IntN(15))
			syn.seg.WScale = shift[0]
		}
		if r.IntN(8) == 0 {
			syn.seg.TFOCookie = true
			syn.seg.Len = lengths[r.IntN(3)]
		}
		nxt[0] += 1 + syn.seg.Len
		if r.IntN(6) == 0 {
			return // unanswered
		}
		accepted := nxt[0]
		if syn.seg.Len > 0 && r.IntN(2) == 0 {
			accepted = nxt[0] - syn.seg.Len // the SYN's data ignored
		}
		synack := add(1, "SA", nxt[1], accepted, 0)
		if r.IntN(3) > 0 {
			shift[1] = int8(r.IntN(15))
			synack.seg.WScale = shift[1]
		}
		nxt[1]++
		ack[1] = accepted
		ack[0] = nxt[1]
		add(0, "A", nxt[0], ack[0], 0)
	}

	if r.IntN(5) > 0 {
		open()
	} else {
		nxt[0], nxt[1] = isn(), isn()
		ack[0], ack[1] = nxt[1], nxt[0]
		win[0], win[1] = windows[r.IntN(len(windows))], windows[r.IntN(len(windows))]
		shift[0], shift[1] = -1, -1
	}
	for len(steps) < n {
		d := r.IntN(2)
		o := 1 - d
		if r.IntN(10) == 0 {
			ack[d] = nxt[o] // catch up
		}
		switch k := r.IntN(100); {
		case k < 30: // new data
			length := lengths[r.IntN(len(lengths))]
			if r.IntN(5) == 0 && shift[o] >= 0 {
				// fill the peer's window exactly
				if fill := ack[o] + uint32(win[o])<<uint(shift[o]) - nxt[d]; fill > 0 && fill < 3000 {
					length = fill
				}
			}
			add(d, "PA", nxt[d], ack[d], length)
			nxt[d] += length
		case k < 45: // a pure ACK, often of everything
			if r.IntN(2) == 0 {
				ack[d] = nxt[o]
			}
			add(d, "A", nxt[d], ack[d], 0)
		case k < 55: // the same ACK again, a few times
			for range 1 + r.IntN(4) {
				add(d, "A", nxt[d], ack[d], 0)
			}
		case k < 63: // a retransmission of something recent
			back := lengths[r.IntN(len(lengths))]
			length := lengths[r.IntN(len(lengths))]
			add(d, "PA", nxt[d]-back, ack[d], length)
		case k < 67: // a gap: the next segment was not captured
			nxt[d] += lengths[r.IntN(len(lengths))]
			add(d, "PA", nxt[d], ack[d], lengths[r.IntN(3)])
			nxt[d] += steps[len(steps)-1].seg.Len
		case k < 71: // a keep-alive
			add(d, "A", nxt[d]-1, ack[d], uint32(r.IntN(2)))
		case k < 75: // a zero window, sometimes probed
			win[d] = 0
			ack[d] = nxt[o]
			add(d, "A", nxt[d], ack[d], 0)
			if r.IntN(2) == 0 {
				add(o, "A", nxt[o], ack[o], 1)
				add(d, "A", nxt[d], ack[d], 0)
			}
		case k < 80: // a window update
			win[d] = windows[1+r.IntN(len(windows)-1)]
			add(d, "A", nxt[d], ack[d], 0)
		case k < 84: // a FIN
			add(d, "FA", nxt[d], ack[d], 0)
			nxt[d]++
		case k < 86: // an RST, in or out of sequence
			s := add(d, "RA", nxt[d]+uint32(r.IntN(3))*1000, ack[d], 0)
			if r.IntN(2) == 0 {
				s.seg.Flags &^= flagLetters['A']
			}
		case k < 90: // the SYN again, or a new connection on the same ports
			if r.IntN(2) == 0 {
				add(0, "S", nxt[0]-1, 0, 0).seg.WScale = shift[0]
			} else {
				open()
			}
		case k < 91: // a window-scale option out of place
			s := add(d, "A", nxt[d], ack[d], 0)
			s.seg.WScale = int8(r.IntN(15))
		case k < 92: // the SYN-ACK again, with the same ISN or a new one
			isn1 := nxt[1] - 1
			if r.IntN(2) == 0 {
				isn1 = isn()
			}
			add(1, "SA", isn1, nxt[0], 0)
		case k < 93: // flags no stack sends together, some with data
			odd := []string{"SF", "SR", "FR", "SFA", "SRA", "FRA", "", "P", "RPA"}
			add(d, odd[r.IntN(len(odd))], nxt[d]+uint32(r.IntN(3))-1, ack[d], uint32(r.IntN(3))*10)
		default: // data and an ACK crossing
			add(d, "PA", nxt[d], ack[d], 100)
			nxt[d] += 100
			add(o, "A", nxt[o], nxt[d]-100, 0)
		}
	}
	return steps[:n]
}

// TestTsharkRandom compares the flags of random conversations with
// tshark's: one capture of 400 conversations of 60 segments, each on its own
// port, whole and with a snaplen of 42 bytes (which cuts the TCP options of
// every segment that has some). SEED picks other conversations.
func TestTsharkRandom(t *testing.T) {
	tshark := requireTshark(t)
	seed := uint64(1)
	if v := os.Getenv("SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SEED=%q: %v", v, err)
		}
	}
	const conversations, segments = 400, 60
	r := rand.New(rand.NewPCG(seed, 2))
	var all []step
	for i := range conversations {
		all = append(all, walk(r, uint16(20000+i), t0.Add(time.Duration(i)*time.Minute), segments)...)
	}
	for _, snaplen := range []int{0, 42} {
		name := "whole"
		if snaplen > 0 {
			name = fmt.Sprintf("snaplen %d", snaplen)
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "random.pcap")
			writePcap(t, path, all, snaplen)
			ours := ourVerdicts(t, path)
			n, bad := compare(tsharkVerdicts(t, tshark, path), ours)
			var counts [numFlags]int
			for _, v := range ours {
				for i := range numFlags {
					if v.flags&(1<<i) != 0 {
						counts[i]++
					}
				}
			}
			var seen []string
			for i, c := range counts {
				seen = append(seen, fmt.Sprintf("%s %d", flagNames[i], c))
				if c == 0 && snaplen == 0 {
					t.Errorf("no segment flagged %s: the random conversations miss a case", flagNames[i])
				}
			}
			t.Logf("flags set: %s", strings.Join(seen, ", "))
			t.Logf("random conversations (seed %d, %s): %d of %d packets agree", seed, name, n-len(bad), n)
			for i, d := range bad {
				if i == 10 {
					t.Errorf("... and %d more", len(bad)-10)
					break
				}
				t.Errorf("frame %d (%v): tshark %v, analysis %v", d.frame, all[d.frame-1], d.tshark, d.analysis)
			}
		})
	}
}
