package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCPUProfile: --cpuprofile writes a profile (gzip-compressed protobuf,
// as runtime/pprof writes) with the command's output unchanged, and writes
// it even when the command fails. (TestOutputFiles checks it never writes
// over the capture being read.)
func TestCPUProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	want, _, _ := runCLI(t, "conns", "-r", sample("kernel-states.pcap"))
	out, errOut, code := runCLI(t, "conns", "--cpuprofile", prof, "-r", sample("kernel-states.pcap"))
	if code != exitOK || out != want {
		t.Fatalf("with --cpuprofile: exit %d, output changed: %v (stderr %q)", code, out != want, errOut)
	}
	isProfile(t, prof)

	failed := filepath.Join(dir, "failed.pprof")
	if _, _, code := runCLI(t, "netstat", "--cpuprofile", failed, "-r", filepath.Join(dir, "missing.pcap")); code != exitError {
		t.Fatalf("a missing capture: exit %d, want %d", code, exitError)
	}
	isProfile(t, failed)

}

func isProfile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no profile: %v", err)
	}
	if len(b) < 20 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s: %d bytes, not a gzip-compressed profile", path, len(b))
	}
}
