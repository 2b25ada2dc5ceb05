package netlab

import (
	"slices"
	"strings"
	"testing"
)

// ssSample starts with real `ss -tan` output (Linux 6.18) from a namespace
// with a v4 listener, a v6-only listener, a dual-stack one ("*") and
// connections to them; the rows after them, one per other state, are written
// in the same format, some with made-up queue values to check the column
// order (Recv-Q before Send-Q) and a link-local row with zones.
const ssSample = `State      Recv-Q Send-Q      Local Address:Port        Peer Address:Port Process
LISTEN     0      128               0.0.0.0:7003             0.0.0.0:*           
ESTAB      0      0               127.0.0.1:44102          127.0.0.1:7001        
LISTEN     1      128                  [::]:7002                [::]:*           
LISTEN     1      128                     *:7001                   *:*           
ESTAB      0      0                   [::1]:51834              [::1]:7002        
ESTAB      0      0      [::ffff:127.0.0.1]:7001  [::ffff:127.0.0.1]:44102       
SYN-SENT   0      1               127.0.0.1:20005          127.0.0.1:8001        
SYN-RECV   0      0               127.0.0.1:8001           127.0.0.1:20006       
FIN-WAIT-1 0      1               127.0.0.1:20007          127.0.0.1:8001        
FIN-WAIT-2 0      0               127.0.0.1:20002          127.0.0.1:8001        
CLOSE-WAIT 1      0               127.0.0.1:8001           127.0.0.1:20002       
LAST-ACK   1      1                   [::1]:8001               [::1]:21008       
TIME-WAIT  0      0                   [::1]:21003              [::1]:8001        
CLOSING    0      1       [fe80::1]%veth0:22          [fe80::2]%veth0:40000 timer:(on,200ms,1)
`

func TestParseSS(t *testing.T) {
	got, err := ParseSS(ssSample)
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{"tcp", "LISTEN", "0.0.0.0:7003", "0.0.0.0:*", 128, 0},
		{"tcp", "ESTABLISHED", "127.0.0.1:44102", "127.0.0.1:7001", 0, 0},
		{"tcp6", "LISTEN", "[::]:7002", "[::]:*", 128, 1},
		{"tcp6", "LISTEN", "*:7001", "*:*", 128, 1},
		{"tcp6", "ESTABLISHED", "[::1]:51834", "[::1]:7002", 0, 0},
		{"tcp", "ESTABLISHED", "127.0.0.1:7001", "127.0.0.1:44102", 0, 0},
		{"tcp", "SYN_SENT", "127.0.0.1:20005", "127.0.0.1:8001", 1, 0},
		{"tcp", "SYN_RECEIVED", "127.0.0.1:8001", "127.0.0.1:20006", 0, 0},
		{"tcp", "FIN_WAIT_1", "127.0.0.1:20007", "127.0.0.1:8001", 1, 0},
		{"tcp", "FIN_WAIT_2", "127.0.0.1:20002", "127.0.0.1:8001", 0, 0},
		{"tcp", "CLOSE_WAIT", "127.0.0.1:8001", "127.0.0.1:20002", 0, 1},
		{"tcp6", "LAST_ACK", "[::1]:8001", "[::1]:21008", 1, 1},
		{"tcp6", "TIME_WAIT", "[::1]:21003", "[::1]:8001", 0, 0},
		{"tcp6", "CLOSING", "[fe80::1]:22", "[fe80::2]:40000", 1, 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseSS:\ngot  %v\nwant %v", got, want)
	}

	// -H output (no header) parses the same.
	_, body, _ := strings.Cut(ssSample, "\n")
	got2, err := ParseSS(body)
	if err != nil || !slices.Equal(got2, want) {
		t.Errorf("ParseSS without header: %v, %v", got2, err)
	}
}

func TestParseSSErrors(t *testing.T) {
	for _, text := range []string{
		"ESTAB 0 0 127.0.0.1:1\n",               // too few columns
		"WEIRD 0 0 127.0.0.1:1 127.0.0.1:2\n",   // unknown state
		"ESTAB x 0 127.0.0.1:1 127.0.0.1:2\n",   // queue not a number
		"ESTAB 0 0 127.0.0.1 127.0.0.1:2\n",     // no port
		"ESTAB 0 0 127.0.0.1:99999 1.2.3.4:2\n", // port out of range
		"ESTAB 0 0 nonsense:1 127.0.0.1:2\n",    // not an address
	} {
		if _, err := ParseSS(text); err == nil || !strings.HasPrefix(err.Error(), "netlab: ss line 1") {
			t.Errorf("ParseSS(%q) error = %v, want a netlab: ss line 1 error", text, err)
		}
	}
}

func TestStateName(t *testing.T) {
	for ss, want := range map[string]string{
		"SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECEIVED", "FIN-WAIT-1": "FIN_WAIT_1",
		"FIN-WAIT-2": "FIN_WAIT_2", "TIME-WAIT": "TIME_WAIT", "CLOSE-WAIT": "CLOSE_WAIT",
		"LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING", "ESTAB": "ESTABLISHED", "LISTEN": "LISTEN",
	} {
		if got, ok := StateName(ss); !ok || got != want {
			t.Errorf("StateName(%q) = %q, %v; want %q", ss, got, ok, want)
		}
	}
	if _, ok := StateName("ESTABLISHED"); ok {
		t.Errorf("StateName accepts a name ss does not print")
	}
}

func TestParseCaptureStats(t *testing.T) {
	got := parseCaptureStats("tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n" +
		"24 packets captured\n48 packets received by filter\n0 packets dropped by kernel\n")
	if want := (CaptureStats{Captured: 24, Received: 48}); got != want {
		t.Errorf("parseCaptureStats = %+v, want %+v", got, want)
	}
}
