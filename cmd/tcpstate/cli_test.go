package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

func sample(name string) string { return filepath.Join("..", "..", "pcaps", name) }

// TestErrors checks that bad input gives one clear line on stderr, nothing
// on stdout and the documented exit code.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("<!DOCTYPE html>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pcap")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string // in the one line on stderr
	}{
		{[]string{"netstat"}, exitError, "no capture given: use -r FILE"},
		{[]string{"conns", "-r", filepath.Join(dir, "missing.pcap")}, exitError, `open "` + filepath.Join(dir, "missing.pcap") + `"`},
		{[]string{"netstat", "-r", dir}, exitError, "is a directory"},
		{[]string{"netstat", "-r", text}, exitError, "not a pcap or pcapng file"},
		{[]string{"netstat", "-r", empty}, exitError, "empty"},
		{[]string{"netstat", "-r", "-", "-r", "-"}, exitError, "standard input (-r -) can be read only once"},
		{[]string{"netstat", "-r", sample("refused.pcap"), "--color=sometimes"}, exitError, "--color must be auto, always or never"},
		{[]string{"netstat", "-r", sample("refused.pcap"), "--at", "yesterday"}, exitError, `--at "yesterday"`},
		{[]string{"netstat", "-r", sample("refused.pcap"), "--bogus"}, exitError, "unknown flag: --bogus (see 'tcpstate netstat --help')"},
		{[]string{"netstat", "-r", sample("refused.pcap"), "extra"}, exitError, `filter "extra": unknown word "extra"`},
		{[]string{"netstat", "-r", sample("refused.pcap"), "--filter", "port 80", "port", "81"}, exitError, "a filter was given twice"},
		{[]string{"ladder", "-r", sample("refused.pcap"), "--filter", "port 80 and"}, exitError, `filter "port 80 and"`},
		{[]string{"conns", "-r", sample("refused.pcap"), "-i", "lo"}, exitError, "-r and -i cannot be combined"},
		{[]string{"conns", "-i", "tcpstate-none0"}, exitError, liveOpenFailure("tcpstate-none0")},
		{[]string{"conns", "-i", "lo", "-s", "0"}, exitError, "--snapshot-length must be at least 1"},
		{[]string{"frobnicate"}, exitError, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		out, errOut, code := runCLI(t, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, errOut)
		}
		if out != "" {
			t.Errorf("%v: wrote to stdout: %q", tt.args, out)
		}
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "tcpstate: ") || !strings.Contains(lines[0], tt.want) {
			t.Errorf("%v: stderr %q, want one line starting \"tcpstate: \" containing %q", tt.args, errOut, tt.want)
		}
	}
}

// liveOpenFailure is what opening a missing interface says: without the
// privilege to capture, that comes first.
func liveOpenFailure(iface string) string {
	switch {
	case runtime.GOOS != "linux":
		return "live capture needs Linux"
	case os.Geteuid() != 0:
		return "needs root or CAP_NET_RAW"
	}
	return fmt.Sprintf("no interface %q", iface)
}

// TestDamagedCapture checks that a capture cut mid-record still yields what
// came before the damage, with exit code 2.
func TestDamagedCapture(t *testing.T) {
	data, err := os.ReadFile(sample("handshake-close.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "conns", "-r", cut, "--json")
	if code != exitDamaged {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitDamaged, errOut)
	}
	var row connRow
	if err := json.Unmarshal([]byte(out), &row); err != nil {
		t.Fatalf("no connection printed before the damage: %v (%q)", err, out)
	}
	if row.C2S.Packets+row.S2C.Packets != 9 {
		t.Errorf("%d packets analysed before the damage, want 9", row.C2S.Packets+row.S2C.Packets)
	}
	if !strings.Contains(errOut, `"`+cut+`"`) || !strings.Contains(errOut, "packet 10") {
		t.Errorf("error does not name the file and packet: %q", errOut)
	}
}

func TestStdin(t *testing.T) {
	data, err := os.ReadFile(sample("handshake-close.pcap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"netstat", "-q", "-r", "-"}, bytes.NewReader(data), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	file, _, _ := runCLI(t, "netstat", "-q", "-r", sample("handshake-close.pcap"))
	if out.String() != file {
		t.Errorf("gzipped stdin gives\n%s\nthe file gives\n%s", out.String(), file)
	}
	if errOut.Len() != 0 {
		t.Errorf("-q still wrote %q", errOut.String())
	}
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "tcpstate ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	for _, cmd := range []string{"netstat", "conns"} {
		out, _, code := runCLI(t, cmd, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "tcpstate "+cmd+" -r") {
			t.Errorf("%s --help: exit %d, no examples:\n%s", cmd, code, out)
		}
	}
	out, _, _ = runCLI(t, "netstat", "--help")
	if !strings.Contains(out, "Recv-Q") || !strings.Contains(out, "always 0") {
		t.Error("netstat --help does not say that Recv-Q cannot be known")
	}
}

// TestNetstatHabits: netstat -tan, ss -tan and their parts are taken and
// change nothing, and the help says so.
func TestNetstatHabits(t *testing.T) {
	want, _, code := runCLI(t, "netstat", "-q", "-r", sample("kernel-states.pcap"))
	if code != 0 || want == "" {
		t.Fatalf("netstat: exit %d, %q", code, want)
	}
	for _, habit := range [][]string{{"-tan"}, {"-ant"}, {"-t", "-a", "-n"}, {"-a"}, {"--numeric", "--all", "--tcp"}} {
		got, errOut, code := runCLI(t, append([]string{"netstat", "-q", "-r", sample("kernel-states.pcap")}, habit...)...)
		if code != 0 || got != want {
			t.Errorf("netstat %v: exit %d, %s\n%s", habit, code, errOut, got)
		}
	}
	if help, _, _ := runCLI(t, "netstat", "--help"); !strings.Contains(help, "-t, -a and -n") {
		t.Error("netstat --help does not say what -t, -a and -n do")
	}
}

func TestColor(t *testing.T) {
	plain, _, _ := runCLI(t, "netstat", "-q", "-r", sample("half-close.pcap"), "--color=never")
	colored, _, _ := runCLI(t, "netstat", "-q", "-r", sample("half-close.pcap"), "--color=always")
	auto, _, _ := runCLI(t, "netstat", "-q", "-r", sample("half-close.pcap"))
	if strings.Contains(plain, "\x1b[") || strings.Contains(auto, "\x1b[") {
		t.Error("escape codes without --color=always (stdout is not a terminal)")
	}
	if !strings.Contains(colored, "\x1b[") {
		t.Error("--color=always wrote no escape codes")
	}
	if stripANSI(colored) != plain {
		t.Errorf("colour changed the text:\n%s\nvs\n%s", stripANSI(colored), plain)
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestColorEnabled(t *testing.T) {
	var buf bytes.Buffer
	if colorEnabled("auto", &buf) || !colorEnabled("always", &buf) || colorEnabled("never", &buf) {
		t.Error("--color modes on a buffer")
	}
	t.Setenv("NO_COLOR", "1")
	if colorEnabled("auto", os.Stdout) {
		t.Error("NO_COLOR ignored")
	}
}

// TestNetstatAt checks --at against a capture whose states are documented
// packet by packet (pcaps/README-crafted.md, simultaneous-close.pcap).
func TestNetstatAt(t *testing.T) {
	states := func(at string) string {
		out, errOut, code := runCLI(t, "netstat", "-q", "--json", "-r", sample("simultaneous-close.pcap"), "--at", at)
		if code != 0 {
			t.Fatalf("--at %s: %s", at, errOut)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r socketJSON
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Role+"="+r.State)
		}
		return strings.Join(got, " ")
	}
	if got, want := states("0s"), "client=SYN_SENT server=SYN_RECEIVED"; got != want {
		t.Errorf("--at 0s: %s, want %s", got, want)
	}
	if got, want := states("59.96ms"), "listener=LISTEN client=TIME_WAIT server=TIME_WAIT"; got != want {
		t.Errorf("--at 59.96ms: %s, want %s", got, want)
	}
	// Past the end of the capture the clock still runs: TIME_WAIT is over.
	if got, want := states("1h"), "listener=LISTEN"; got != want {
		t.Errorf("--at 1h: %s, want %s", got, want)
	}
	if got, want := states("2026-01-15T10:00:00.010Z"), "listener=LISTEN client=ESTABLISHED server=ESTABLISHED"; got != want {
		t.Errorf("--at 10ms as a time: %s, want %s", got, want)
	}
}

// TestOutputFiles checks -o and -w: the file appears complete, a capture
// being read is never overwritten (nor by --cpuprofile), and what -w saved
// analyses the same.
func TestOutputFiles(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	data, err := os.ReadFile(sample("lost-final-ack.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"ladder", "-r", in, "--format", "svg", "-o", in},
		{"diagram", "-r", in, "-o", in},
		{"netstat", "-r", in, "-w", in},
		{"conns", "-r", in, "--cpuprofile", in},
	} {
		_, errOut, code := runCLI(t, args...)
		if code != exitError || !strings.Contains(errOut, "it is the capture being read") {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
		if got, _ := os.ReadFile(in); !bytes.Equal(got, data) {
			t.Fatalf("%v changed the input", args)
		}
	}
	svg := filepath.Join(dir, "ladder.svg")
	if _, errOut, code := runCLI(t, "ladder", "-q", "-r", in, "--format", "svg", "-o", svg); code != 0 {
		t.Fatal(errOut)
	}
	want, _, _ := runCLI(t, "ladder", "-q", "-r", in, "--format", "svg")
	if got, _ := os.ReadFile(svg); string(got) != want {
		t.Error("-o wrote something else than standard output gets")
	}
	saved := filepath.Join(dir, "saved.pcapng")
	first, errOut, code := runCLI(t, "netstat", "-q", "-r", in, "-r", sample("refused.pcap"), "-w", saved)
	if code != 0 {
		t.Fatal(errOut)
	}
	again, errOut, code := runCLI(t, "netstat", "-q", "-r", saved)
	if code != 0 || again != first {
		t.Errorf("the -w file analyses differently (exit %d, %s):\n%s\nvs\n%s", code, errOut, again, first)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestFilterArgs checks that a filter expression given as arguments (or
// with --filter) selects the connections it names, and that the summary
// says how many packets it kept.
func TestFilterArgs(t *testing.T) {
	all, _, code := runCLI(t, "conns", "-q", "--json", "-r", sample("kernel-states.pcap"))
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, args := range [][]string{
		{"conns", "--json", "-r", sample("kernel-states.pcap"), "tcp", "port", "20003"},
		{"conns", "--json", "-r", sample("kernel-states.pcap"), "--filter", "tcp port 20003"},
	} {
		out, errOut, code := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		rows := strings.Split(strings.TrimSpace(out), "\n")
		if len(rows) != 1 || !strings.Contains(rows[0], `"client":"127.0.0.1:20003"`) {
			t.Errorf("%v: want the one connection from port 20003, got:\n%s", args, out)
		}
		if !strings.Contains(errOut, "matched the filter") {
			t.Errorf("%v: summary does not say what the filter kept: %q", args, errOut)
		}
	}
	if n := strings.Count(all, "\n"); n < 10 {
		t.Fatalf("unfiltered: %d connections, the sample should have more", n)
	}
}

// TestWorkersSameOutput checks that spreading connections over workers
// changes nothing the commands print, on a generated capture with port
// reuse, resets, retransmissions, IPv6 and VLAN tags.
func TestWorkersSameOutput(t *testing.T) {
	gen := filepath.Join(t.TempDir(), "gen.pcap")
	if out, err := exec.Command("go", "run", "../pcapgen", "-o", gen, "-conns", "3000", "-concurrency", "200", "-seed", "3").CombinedOutput(); err != nil {
		t.Fatalf("pcapgen: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"conns", "--json"}, {"conns", "--format", "zeek"}, {"netstat", "--json"}, {"netstat", "--at", "5s"}, {"stats", "--json"},
	} {
		var want string
		for _, workers := range []string{"1", "2", "3"} {
			out, errOut, code := runCLI(t, append(append([]string{}, args...), "-r", gen, "--workers", workers)...)
			if code != exitOK {
				t.Fatalf("%v --workers %s: exit %d: %s", args, workers, code, errOut)
			}
			if workers == "1" {
				want = out
				if strings.Count(out, "\n") < 10 {
					t.Fatalf("%v: too little output to compare:\n%s", args, out)
				}
				continue
			}
			if out != want {
				t.Errorf("%v: --workers %s prints something else than --workers 1", args, workers)
			}
		}
	}
}

// synConns returns n connections, each of one SYN, numbered 1 to n.
func synConns(n int) []*reassembly.Conn {
	t := reassembly.NewTable(reassembly.Config{})
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var cs []*reassembly.Conn
	for i := range n {
		s := capture.Segment{
			Src:   netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(40000+i)),
			Dst:   netip.MustParseAddrPort("192.0.2.2:80"),
			Flags: uint8(fsm.SYN), Seq: 1000,
		}
		c, _ := t.Add(&s, at, uint64(i+1))
		cs = append(cs, c)
	}
	return cs
}

// TestOrderedRows checks the order conns writes rows in: the order
// connections began, except that a connection open while more than the
// waiting limit of later ones ended comes when it ends.
func TestOrderedRows(t *testing.T) {
	var buf bytes.Buffer
	r := newOrderedRows(newConnsWriter(&buf, true, newPalette(false)))
	r.max = 4
	// Connection 1 stays open while 2..7 end; 9 ends before 8.
	conns := synConns(9)
	for _, id := range []uint64{3, 2, 4, 5, 6, 7, 1, 9, 8} {
		r.add(conns[id-1])
	}
	if err := r.close(nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var row connRow
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(row.ID))
	}
	// After 2..6 wait (5 > 4), the older half (2, 3) is written and
	// 4 follows; 1 comes when it ends; 8 and 9 in order.
	if want := "2 3 4 5 6 7 1 8 9"; strings.Join(got, " ") != want {
		t.Errorf("rows in order %s, want %s", strings.Join(got, " "), want)
	}
}

// TestLiveScreenDraw draws the live screen of an analysis whose table
// packs done connections: it must show every socket netstat's table shows.
func TestLiveScreenDraw(t *testing.T) {
	o := &sourceOptions{
		files: []string{sample("kernel-states.pcap")}, workers: 1, quiet: true,
		timeWait: 60 * time.Second, idleTimeout: 2 * time.Hour, handshakeTimeout: 2 * time.Minute,
		maxConns: reassembly.DefaultMaxConns,
	}
	var stdout, stderr bytes.Buffer
	a, err := analyze(o, &streams{stdout: &stdout, stderr: &stderr}, analyzeOptions{
		plain: true, recycle: true, visit: true, keep: func(*reassembly.Conn) bool { return false },
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "screen"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := newPalette(false)
	(&liveScreen{w: f, p: p, iface: "lo"}).draw(a, a.last)
	screen, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	rows := netstatRows(a)
	if len(rows) < 20 {
		t.Fatalf("%d sockets in kernel-states.pcap, want at least 20", len(rows))
	}
	var table bytes.Buffer
	writeNetstatTable(&table, rows, p)
	want := strings.Split(strings.TrimSpace(table.String()), "\n")
	// The screen (24 lines when not a terminal) shows the table's first
	// lines, then how many sockets did not fit.
	got := strings.Split(strings.TrimSuffix(string(screen), "\033[K\n\033[J"), "\033[K\n")[3:]
	more := fmt.Sprintf("... and %d more sockets (widen the terminal, or stop for the whole table)", len(want)-len(got)+1)
	if len(got) < 10 || got[len(got)-1] != more {
		t.Fatalf("screen:\n%s\nwant the table's first lines, then %q", screen, more)
	}
	for i, line := range got[:len(got)-1] {
		if line != want[i] {
			t.Errorf("screen line %d: %q, want %q", i+4, line, want[i])
		}
	}
}
