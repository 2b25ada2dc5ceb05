package fsm

import (
	"reflect"
	"testing"
)

// TestKinds: every sort of segment Step tells apart is reported on the
// segment that is one, alone, and not on the segments before it.
func TestKinds(t *testing.T) {
	open := pOpen() // client ISN 100, server ISN 300
	for _, c := range []struct {
		name   string
		steps  []step
		window map[int]bool // steps that advertise a zero window
		want   Kind
	}{
		{name: "retransmission", steps: pThen(open,
			c2s("PA", 101, 301, 100, est),
			c2s("PA", 101, 301, 100, est)), want: Retransmission},
		{name: "keep-alive", steps: pThen(open,
			c2s("A", 100, 301, 0, est)), want: KeepAlive},
		{name: "gap", steps: pThen(open,
			c2s("PA", 201, 301, 100, est)), want: Gap},
		{name: "out of order", steps: pThen(open,
			c2s("PA", 201, 301, 100, est),
			c2s("PA", 101, 301, 100, est)), want: OutOfOrder},
		{name: "duplicate ACK", steps: pThen(open,
			s2c("PA", 301, 101, 100, est),
			c2s("A", 101, 301, 0, est)), want: DupAck},
		{name: "zero window", steps: pThen(open,
			c2s("A", 101, 301, 0, est)), window: map[int]bool{4: true}, want: ZeroWindow},
	} {
		t.Run(c.name, func(t *testing.T) {
			var m Machine
			m.Reset(Config{})
			now := t0
			for i, s := range c.steps {
				n := i + 1
				now = now.Add(10e6)
				seg := Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Len: s.len, Window: 1000, WScale: -1}
				if c.window[n] {
					seg.Window = 0
				}
				rep := m.Step(s.from, &seg, now, uint64(n))
				if got := states(&m); got != s.want {
					t.Fatalf("step %d: states %s, want %s", n, got, s.want)
				}
				switch {
				case n < len(c.steps) && rep.Kind.Contains(c.want):
					t.Errorf("step %d: kind %08b already has %08b", n, rep.Kind, c.want)
				case n == len(c.steps) && rep.Kind != c.want:
					t.Errorf("last step: kind %08b, want %08b", rep.Kind, c.want)
				}
			}
		})
	}
}

// TestKindContains: Contains is true for every sort of x in k, and only
// then.
func TestKindContains(t *testing.T) {
	k := Retransmission | Gap
	for _, c := range []struct {
		x    Kind
		want bool
	}{{Retransmission, true}, {Gap, true}, {Retransmission | Gap, true}, {KeepAlive, false}, {Gap | ZeroWindow, false}, {0, true}} {
		if got := k.Contains(c.x); got != c.want {
			t.Errorf("%08b.Contains(%08b) = %v, want %v", k, c.x, got, c.want)
		}
	}
}

// TestReportFits: Report keeps to four fields of plain values, the most
// the compiler returns in registers (see Report).
func TestReportFits(t *testing.T) {
	rt := reflect.TypeOf(Report{})
	if rt.NumField() > 4 {
		t.Fatalf("Report has %d fields: Step would return it through memory", rt.NumField())
	}
	for i := range rt.NumField() {
		if k := rt.Field(i).Type.Kind(); k == reflect.Struct || k == reflect.Array {
			t.Errorf("Report.%s is a %s: Step would return Report through memory", rt.Field(i).Name, k)
		}
	}
}
