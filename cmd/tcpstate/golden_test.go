package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in pcaps/golden from the current output")

// samples returns the sample captures in pcaps/.
func samples(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "pcaps", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no sample captures in pcaps/")
	}
	return files
}

// runCLI runs the command line in-process and returns stdout, stderr and
// the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// golden compares got with the golden file name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "pcaps", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/tcpstate -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGolden runs every command in text and JSON on every sample capture
// and compares the output with pcaps/golden.
func TestGolden(t *testing.T) {
	commands := []struct {
		name string
		args []string
	}{
		{"netstat", []string{"netstat"}},
		{"netstat.json", []string{"netstat", "--json"}},
		{"conns", []string{"conns"}},
		{"conns.json", []string{"conns", "--json"}},
		{"conns.zeek", []string{"conns", "--format", "zeek"}},
		{"conns.zeek-json", []string{"conns", "--format", "zeek-json"}},
		{"events", []string{"events"}},
		{"events.json", []string{"events", "--json"}},
		{"ladder", []string{"ladder"}},
		{"ladder.ascii", []string{"ladder", "--ascii"}},
		{"ladder.mermaid", []string{"ladder", "--format", "mermaid"}},
		{"ladder.svg", []string{"ladder", "--format", "svg"}},
		{"diagram.svg", []string{"diagram"}},
		{"stats", []string{"stats"}},
		{"stats.json", []string{"stats", "--json"}},
	}
	// Ladders of the flood draw one half-open connection and the real one:
	// 200 alike add nothing.
	selection := map[string][]string{"half-open-flood.pcapng": {"1", "102"}}
	for _, file := range samples(t) {
		base := filepath.Base(file)
		t.Run(base, func(t *testing.T) {
			for _, c := range commands {
				args := append(append([]string{}, c.args...), "-r", file, "--color=never")
				if c.args[0] == "ladder" {
					args = append(args, selection[base]...)
				}
				out, errOut, code := runCLI(t, args...)
				if code != exitOK {
					t.Fatalf("%v: exit %d: %s", args, code, errOut)
				}
				name := base + "." + c.name
				if !strings.HasSuffix(name, ".svg") {
					name += ".txt"
				}
				golden(t, name, out)
				if c.name == "conns" {
					golden(t, base+".summary.txt", errOut)
				}
			}
		})
	}
}
