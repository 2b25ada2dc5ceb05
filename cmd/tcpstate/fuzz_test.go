package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// maxFuzzInput bounds the captures FuzzPipeline reads, to keep each
// execution fast.
const maxFuzzInput = 64 << 10

// fuzzCommands are the command lines FuzzPipeline runs over each input, read
// from standard input.
var fuzzCommands = [][]string{
	{"netstat", "--json"},
	{"conns", "--json"},
	{"events", "--json"},
	{"ladder", "--ascii"},
}

// FuzzPipeline feeds whole captures through the whole program: capture
// reading, decoding, the connection table, the state machines and the
// renderers. Whatever the bytes, no command panics; each exits 0, 1 or 2;
// an error is one line starting "tcpstate: "; JSON output is JSON Lines;
// every command reads the same capture the same way, so all of them exit
// with the same code and the same error; and the bytes compressed with gzip
// read as they do plain.
func FuzzPipeline(f *testing.F) {
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.gz"} {
		files, err := filepath.Glob(filepath.Join("..", "..", "pcaps", pat))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) > maxFuzzInput {
				data = data[:maxFuzzInput]
			}
			f.Add(data)
		}
	}
	hs, err := os.ReadFile(sample("handshake-close.pcap"))
	if err != nil {
		f.Fatal(err)
	}
	ng, err := os.ReadFile(sample("server-close.pcapng"))
	if err != nil {
		f.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(ng)
	zw.Close()
	f.Add([]byte{})
	f.Add(hs[:24])         // a pcap without packets
	f.Add(hs[:len(hs)-10]) // cut in the last record
	f.Add(ng[:116])        // a pcapng section header alone
	f.Add(ng[:len(ng)-7])  // cut in the last block
	f.Add(gz.Bytes())      // a gzipped pcapng
	f.Add(gz.Bytes()[:gz.Len()/2])
	// pcapng in both byte orders, with four link types and every kind of
	// packet block.
	for _, order := range []appendByteOrder{binary.LittleEndian, binary.BigEndian} {
		mixed, _ := mixedPcapng(f, order, true)
		f.Add(mixed)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		var firstCode int
		var firstOut, firstErr string
		for i, cmd := range fuzzCommands {
			args := append(append([]string{}, cmd...), "-q", "--color=never", "-r", "-")
			out, errOut, code := runFuzz(t, args, data)
			checkFuzzRun(t, args, code, out, errOut)
			if i == 0 {
				firstCode, firstOut, firstErr = code, out, errOut
			} else if code != firstCode || errOut != firstErr {
				t.Fatalf("the commands read the capture differently:\n%v: exit %d, %q\n%v: exit %d, %q",
					fuzzCommands[0], firstCode, firstErr, cmd, code, errOut)
			}
		}

		// Compressed, the same bytes give the same result. (A gzip file
		// inside gzip is refused, and the message for a file that is not
		// a capture says it was decompressed.)
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			return
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		args := append(append([]string{}, fuzzCommands[0]...), "-q", "--color=never", "-r", "-")
		out, errOut, code := runFuzz(t, args, gz.Bytes())
		checkFuzzRun(t, args, code, out, errOut)
		if code != firstCode || out != firstOut || (code == exitDamaged && errOut != firstErr) {
			t.Fatalf("%v: gzipped, exit %d, stderr %q, stdout\n%s\nplain, exit %d, stderr %q, stdout\n%s",
				args, code, errOut, out, firstCode, firstErr, firstOut)
		}
	})
}

// runFuzz runs one command line over data as standard input.
func runFuzz(t *testing.T, args []string, data []byte) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%v panicked: %v\n%s", args, r, debug.Stack())
		}
	}()
	code = run(args, bytes.NewReader(data), &out, &errOut)
	return out.String(), errOut.String(), code
}

// checkFuzzRun checks what one command did with one input.
func checkFuzzRun(t *testing.T, args []string, code int, out, errOut string) {
	t.Helper()
	switch code {
	case exitOK:
		if errOut != "" {
			t.Fatalf("%v: exit 0 with -q, stderr %q", args, errOut)
		}
	case exitError, exitDamaged:
		line, ok := strings.CutSuffix(errOut, "\n")
		if !ok || strings.Contains(line, "\n") || !strings.HasPrefix(line, "tcpstate: ") {
			t.Fatalf("%v: exit %d, stderr %q: want one line starting \"tcpstate: \"", args, code, errOut)
		}
		if code == exitError && out != "" {
			t.Fatalf("%v: exit 1 (cannot open) but wrote %q", args, out)
		}
	default:
		t.Fatalf("%v: exit %d, want 0, 1 or 2; stderr %q", args, code, errOut)
	}
	if args[1] != "--json" || out == "" {
		return
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("%v: output does not end in a newline: %q", args, out[max(0, len(out)-200):])
	}
	for n, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !json.Valid([]byte(line)) || !strings.HasPrefix(line, "{") {
			t.Fatalf("%v: line %d is not a JSON object: %q", args, n+1, line)
		}
	}
}
