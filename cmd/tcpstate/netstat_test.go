package main

import (
	"testing"
	"time"
)

// appendTime prints what AppendFormat with timeLayout prints, for any time.
func FuzzAppendTime(f *testing.F) {
	for _, t := range []time.Time{
		{},
		time.Unix(0, 0),
		time.Date(2026, 1, 15, 10, 0, 0, 75_000, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 2, 30, 0, 1_000, time.FixedZone("CEST", 2*3600)),
	} {
		f.Add(t.Unix(), int64(t.Nanosecond()))
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("x", int(nsec%86400)))
		want := tm.UTC().Format(timeLayout)
		if got := string(appendTime([]byte("x"), tm)); got != "x"+want {
			t.Errorf("appendTime(%v) = %q, want %q", tm, got, "x"+want)
		}
		// stamps, given times in the same second and in others.
		var st stamps
		for _, d := range []time.Duration{0, time.Duration(nsec % 1e9), 1, -1, time.Second, 0, -time.Duration(sec % 1e12)} {
			tm = tm.Add(d)
			want := tm.UTC().Format(timeLayout)
			if got := string(st.append([]byte("x"), tm)); got != "x"+want {
				t.Fatalf("stamps.append(%v) = %q, want %q", tm, got, "x"+want)
			}
		}
	})
}
