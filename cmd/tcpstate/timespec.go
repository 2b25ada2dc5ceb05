package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeSpec is a moment in a capture: an offset from its first packet
// ("2.5s", "+1m30s") or an absolute time (RFC 3339, or Unix seconds).
type timeSpec struct {
	offset   time.Duration
	absolute time.Time
	isAbs    bool
}

func parseTimeSpec(s string) (*timeSpec, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		if d < 0 {
			return nil, fmt.Errorf("--at %q: an offset into the capture cannot be negative", s)
		}
		return &timeSpec{offset: d}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return &timeSpec{absolute: t, isAbs: true}, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 1e8 {
		sec, frac := int64(f), f-float64(int64(f))
		return &timeSpec{absolute: time.Unix(sec, int64(frac*1e9)).UTC(), isAbs: true}, nil
	}
	return nil, fmt.Errorf("--at %q: want an offset into the capture such as 2.5s or 1m30s, a time such as 2026-01-15T10:00:02Z (UTC unless a zone is given), or Unix seconds", s)
}

// resolve turns the spec into a time, given the capture's first packet.
func (t *timeSpec) resolve(first time.Time) time.Time {
	if t.isAbs {
		return t.absolute
	}
	return first.Add(t.offset)
}
