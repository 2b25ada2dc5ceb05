package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestBrokenPipe runs the real binary with its standard output going to a
// reader that leaves after the first line, as `tcpstate ... | head -1`
// does: the program must end with status 0 and say nothing on standard
// error (README.md, "Exit codes"), whether the pipe closes while it
// analyses (events streams its output) or while it prints a table.
func TestBrokenPipe(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGPIPE on Windows")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the binary: %v", err)
	}
	if sigpipeIgnored() {
		t.Log("SIGPIPE is ignored by the test process, so by the binary too whatever main does: only the EPIPE path is checked")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tcpstate")
	build := exec.Command(gotool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Output far bigger than any pipe buffer, so that the writer is still
	// writing when the reader leaves: copies of the SYN flood, three hours
	// apart so that every copy makes its own 201 connections.
	big := floodCopies(t, dir, 40, 3*time.Hour)
	flood := sample("half-open-flood.pcapng")
	var repeated []string
	for range 20 {
		repeated = append(repeated, "-r", flood)
	}
	tests := []struct {
		name  string
		args  []string
		first string // how the first line starts
	}{
		{"conns", []string{"conns", "-r", big}, "ID  CLIENT"},
		{"conns-json", []string{"conns", "--json", "-r", big}, `{"id":1,`},
		{"events", []string{"events", "-r", big}, "0.000000  pkt 1 "},
		{"events-json", []string{"events", "--json", "-r", big}, `{"time":`},
		{"ladder-ascii", []string{"ladder", "--ascii", "-r", big}, "Connection 1: "},
		{"ladder-r-x20", append([]string{"ladder"}, repeated...), "Connection 1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The whole output, to be sure it is big enough, and its first
			// line.
			var full bytes.Buffer
			whole := exec.Command(bin, tt.args...)
			whole.Stdout = &full
			if err := whole.Run(); err != nil {
				t.Fatalf("%v: %v", tt.args, err)
			}
			if full.Len() < 1<<20 {
				t.Fatalf("%v writes %d bytes: too few to fill a pipe", tt.args, full.Len())
			}
			firstLine, _, _ := strings.Cut(full.String(), "\n")
			if !strings.HasPrefix(strings.TrimSpace(firstLine), tt.first) {
				t.Fatalf("%v: first line %q, want it to start %q", tt.args, firstLine, tt.first)
			}

			// The reader leaves after the first line, or before the first
			// byte.
			for _, lines := range []int{1, 0} {
				t.Run(fmt.Sprintf("pipe-%d-line", lines), func(t *testing.T) {
					pr, pw, err := os.Pipe()
					if err != nil {
						t.Fatal(err)
					}
					var stderr bytes.Buffer
					cmd := exec.Command(bin, tt.args...)
					cmd.Stdout, cmd.Stderr = pw, &stderr
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					pw.Close()
					line := ""
					if lines > 0 {
						line, err = bufio.NewReader(pr).ReadString('\n')
						if err != nil {
							t.Errorf("reading the first line: %v", err)
						}
						if line != firstLine+"\n" {
							t.Errorf("first line %q, want %q", line, firstLine+"\n")
						}
					}
					pr.Close() // the reader goes away
					done := make(chan error, 1)
					go func() { done <- cmd.Wait() }()
					select {
					case err = <-done:
					case <-time.After(time.Minute):
						cmd.Process.Kill()
						t.Fatalf("%v still running a minute after its reader left", tt.args)
					}
					if err != nil {
						t.Errorf("%v: %v, want exit status 0", tt.args, err)
					}
					if stderr.Len() != 0 {
						t.Errorf("%v: stderr %q, want nothing", tt.args, stderr.String())
					}
				})
			}

			t.Run("sh-head", func(t *testing.T) {
				if _, err := exec.LookPath("sh"); err != nil {
					t.Skip("no sh")
				}
				if _, err := exec.LookPath("head"); err != nil {
					t.Skip("no head")
				}
				errFile := filepath.Join(t.TempDir(), "stderr")
				statusFile := filepath.Join(t.TempDir(), "status")
				// The status of the left side of the pipeline, which sh
				// does not return.
				script := `{ "$TCPSTATE" "$@" 2>"$ERRFILE"; echo $? >"$STATUSFILE"; } | head -n 1`
				cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, tt.args...)...)
				cmd.Env = append(os.Environ(), "TCPSTATE="+bin, "ERRFILE="+errFile, "STATUSFILE="+statusFile)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("sh: %v\n%s", err, stderr.String())
				}
				if string(out) != firstLine+"\n" {
					t.Errorf("head -1 got %q, want %q", out, firstLine+"\n")
				}
				status, err := os.ReadFile(statusFile)
				if err != nil {
					t.Fatal(err)
				}
				if s := strings.TrimSpace(string(status)); s != "0" {
					t.Errorf("%v | head -1: tcpstate exit status %s, want 0", tt.args, s)
				}
				if e, _ := os.ReadFile(errFile); len(e) != 0 || stderr.Len() != 0 {
					t.Errorf("%v | head -1: stderr %q %q, want nothing", tt.args, e, stderr.String())
				}
			})
		})
	}
}

// floodCopies writes a pcap file holding n copies of half-open-flood.pcapng,
// each gap later than the one before, and returns its path.
func floodCopies(t *testing.T, dir string, n int, gap time.Duration) string {
	t.Helper()
	f, err := os.Open(sample("half-open-flood.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	type packet struct {
		data []byte
		at   time.Time
		orig int
	}
	var pkts []packet
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, packet{data, ci.Timestamp, ci.Length})
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(262144, r.LinkType()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for _, p := range pkts {
			ci := gopacket.CaptureInfo{Timestamp: p.at.Add(time.Duration(i) * gap), CaptureLength: len(p.data), Length: p.orig}
			if err := w.WritePacket(ci, p.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(dir, fmt.Sprintf("flood-x%d.pcap", n))
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sigpipeIgnored reports whether this process ignores SIGPIPE, which the
// binary would inherit (Linux only; false elsewhere).
func sigpipeIgnored() bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			var m uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(mask), "%x", &m); err != nil {
				return false
			}
			return m&(1<<(13-1)) != 0 // SIGPIPE is 13
		}
	}
	return false
}
