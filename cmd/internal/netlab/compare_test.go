package netlab

import (
	"strings"
	"testing"
)

func row(state, local, remote string) Socket {
	return Socket{State: state, Local: local, Remote: remote}
}

func TestCompare(t *testing.T) {
	kernel := []Socket{
		{Proto: "tcp", State: "LISTEN", Local: "0.0.0.0:8001", Remote: "0.0.0.0:*"},
		{Proto: "tcp6", State: "LISTEN", Local: "[::1]:8001", Remote: "[::]:*"},
		{Proto: "tcp6", State: "LISTEN", Local: "*:9000", Remote: "*:*"},
		{Proto: "tcp", State: "LISTEN", Local: "0.0.0.0:7000", Remote: "0.0.0.0:*"},
		row("ESTABLISHED", "127.0.0.1:20001", "127.0.0.1:8001"),
		row("ESTABLISHED", "127.0.0.1:8001", "127.0.0.1:20001"),
		row("TIME_WAIT", "127.0.0.1:20003", "127.0.0.1:8001"),
		row("SYN_RECEIVED", "[::1]:8001", "[::1]:21006"),
		row("ESTABLISHED", "[::1]:21006", "[::1]:8001"),
		row("ESTABLISHED", "[::ffff:127.0.0.1]:9000", "[::ffff:127.0.0.1]:30000"),
		{State: "FIN_WAIT_1", Local: "127.0.0.1:20007", Remote: "127.0.0.1:8001", SendQ: 1},
	}
	inferred := []Socket{
		{Proto: "tcp", State: "LISTEN", Local: "127.0.0.1:8001", Remote: "*:*"},
		{Proto: "tcp", State: "LISTEN", Local: "192.0.2.1:8001", Remote: "*:*"}, // same family and port: one listener
		{Proto: "tcp6", State: "LISTEN", Local: "[::1]:8001", Remote: "*:*"},
		{Proto: "tcp", State: "LISTEN", Local: "127.0.0.1:9000", Remote: "*:*"}, // kernel's dual-stack "*"
		{Proto: "tcp", State: "LISTEN", Local: "127.0.0.1:6000", Remote: "*:*"}, // kernel has none
		row("ESTABLISHED", "127.0.0.1:20001", "127.0.0.1:8001"),
		row("CLOSE_WAIT", "127.0.0.1:8001", "127.0.0.1:20001"), // wrong state
		row("TIME_WAIT", "127.0.0.1:20003", "127.0.0.1:8001"),
		row("ESTABLISHED", "[::1]:8001", "[::1]:21006"), // wrong state
		row("ESTABLISHED", "[::1]:21006", "[::1]:8001"),
		row("ESTABLISHED", "127.0.0.1:9000", "127.0.0.1:30000"), // kernel prints it v4-mapped
		row("FIN_WAIT_2", "127.0.0.1:20009", "127.0.0.1:8001"),  // kernel has none
		row("FIN_WAIT_1", "127.0.0.1:20007", "127.0.0.1:8001"),  // Send-Q misses the FIN
	}
	c := Compare(kernel, inferred)
	if got, want := c.Summary(), "7 of 13 sockets agree"; got != want {
		var b strings.Builder
		c.Report(&b)
		t.Fatalf("Summary = %q, want %q\n%s", got, want, b.String())
	}
	var lines []string
	for _, v := range c.Disagreements() {
		lines = append(lines, strings.Join(strings.Fields(v.String()), " "))
	}
	want := []string{
		"DISAGREE tcp listen port 6000 kernel absent, tcpstate LISTEN on 127.0.0.1:6000",
		"DISAGREE tcp listen port 7000 kernel LISTEN on 0.0.0.0:7000, tcpstate absent",
		"DISAGREE tcp 127.0.0.1:8001 -> 127.0.0.1:20001 kernel ESTABLISHED send-q 0, tcpstate CLOSE_WAIT send-q 0",
		"DISAGREE tcp 127.0.0.1:20007 -> 127.0.0.1:8001 kernel FIN_WAIT_1 send-q 1, tcpstate FIN_WAIT_1 send-q 0",
		"DISAGREE tcp 127.0.0.1:20009 -> 127.0.0.1:8001 kernel absent, tcpstate FIN_WAIT_2 send-q 0",
		"DISAGREE tcp6 [::1]:8001 -> [::1]:21006 kernel SYN_RECEIVED send-q 0, tcpstate ESTABLISHED send-q 0",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestCompareDuplicates(t *testing.T) {
	// Two inferred rows for one 4-tuple (a port reused out of TIME_WAIT, say):
	// the one in the kernel's state agrees, the other is extra.
	kernel := []Socket{row("ESTABLISHED", "127.0.0.1:1", "127.0.0.1:2")}
	inferred := []Socket{row("TIME_WAIT", "127.0.0.1:1", "127.0.0.1:2"), row("ESTABLISHED", "127.0.0.1:1", "127.0.0.1:2")}
	c := Compare(kernel, inferred)
	if c.Summary() != "1 of 2 sockets agree" {
		t.Errorf("Summary = %q", c.Summary())
	}
}

func TestCompareEmpty(t *testing.T) {
	if got := Compare(nil, nil).Summary(); got != "0 of 0 sockets agree" {
		t.Errorf("Summary = %q", got)
	}
}
