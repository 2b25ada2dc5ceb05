package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// liveScreen redraws the socket table of a live capture in place on a
// terminal, like watch ss -tan: a header with the time, the counts of
// sockets in each state and the capture's counters, then the table, cut
// to the terminal's height.
type liveScreen struct {
	w     *os.File
	p     *palette
	iface string
	drawn bool
	buf   bytes.Buffer
}

// draw is the analysis's tick: it runs with the analysis locked.
func (s *liveScreen) draw(a *analysis, now time.Time) {
	// One connection at a time: packed ones stay packed.
	view := &analysis{table: a.table, visit: true, last: now}
	rows := netstatRows(view)
	counts := map[fsm.State]int{}
	for _, r := range rows {
		counts[r.state]++
	}
	var parts []string
	for _, st := range fsm.States() {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], s.p.State(st, 0)))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none yet"}
	}
	width, height := terminalSize(s.w)
	b := &s.buf
	b.Reset()
	// Home, then each line clears its own rest, then everything below:
	// no flicker from clearing the whole screen first.
	b.WriteString("\033[H")
	line := func(format string, args ...any) {
		fmt.Fprintf(b, format, args...)
		b.WriteString("\033[K\n")
	}
	line("%s", s.p.header.Sprintf("tcpstate netstat -i %s   %s   (Ctrl-C to stop)", s.iface, now.Local().Format("2006-01-02 15:04:05")))
	line("%s, %s; sockets: %s", plural(a.packets, "packet"), plural(a.table.Stats().Conns, "connection"), strings.Join(parts, ", "))
	line("")
	var table bytes.Buffer
	writeNetstatTable(&table, rows, s.p)
	lines := strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n")
	room := max(height-4, 3)
	if len(lines) > room {
		more := len(lines) - room + 1
		lines = append(lines[:room-1], fmt.Sprintf("... and %d more sockets (widen the terminal, or stop for the whole table)", more))
	}
	for _, l := range lines {
		if width > 0 && visibleLen(l) > width {
			l = cutVisible(l, width)
		}
		line("%s", l)
	}
	b.WriteString("\033[J")
	s.w.Write(b.Bytes())
	s.drawn = true
}

// clear wipes the screen before the final table is printed.
func (s *liveScreen) clear() {
	if s.drawn {
		fmt.Fprint(s.w, "\033[H\033[J")
	}
}

// visibleLen is the length of s without its colour escapes.
func visibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case esc:
			esc = r != 'm'
		case r == '\033':
			esc = true
		default:
			n++
		}
	}
	return n
}

// cutVisible cuts s to n visible characters, keeping its escapes and
// resetting the colour at the end.
func cutVisible(s string, n int) string {
	var b strings.Builder
	vis, esc := 0, false
	for _, r := range s {
		switch {
		case esc:
			esc = r != 'm'
		case r == '\033':
			esc = true
		default:
			if vis == n {
				b.WriteString("\033[0m")
				return b.String()
			}
			vis++
		}
		b.WriteRune(r)
	}
	return b.String()
}
