package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
)

// Source hands out captured packets in timestamp order.
type Source interface {
	// Next fills p with the next packet. It returns io.EOF after the last
	// packet. p.Data is valid only until the next call. Any other error is
	// final: later calls return it again. Every packet before the damage
	// that caused it has been returned by earlier calls; with several
	// files, the timeline stops where the damage is: at the broken record's
	// timestamp when its header could be read, else just after the damaged
	// file's last good packet, so the other files' packets before it come
	// first.
	Next(p *Packet) error
	// Close releases the files. It does not close OpenOptions.Stdin.
	Close() error
	// Progress says how far reading has got. It is safe to call from
	// another goroutine while Next runs.
	Progress() Progress
}

// Progress is how far a Source has read.
type Progress struct {
	// Bytes is how many bytes were read from the underlying files: the
	// compressed bytes for a gzip file. Reads are buffered, so it runs a
	// little ahead of the packets handed out.
	Bytes int64
	// Total is the sum of the sizes of the files, or 0 when it is not known
	// because one of the inputs is not a regular file (stdin, a pipe).
	Total int64
	// Packets is how many packets Next has returned. While reading it
	// lags by up to a few hundred packets; it is exact once Next has
	// returned an error or io.EOF.
	Packets uint64
}

// OpenOptions configures Open. The zero value reads "-" from os.Stdin.
//
// (It would be called Options, but that name is taken by the TCP options of
// a Segment.)
type OpenOptions struct {
	// Stdin is what the path "-" reads. Nil means os.Stdin.
	Stdin io.Reader
}

// Errors Open returns, wrapped with the name of the file; test for them with
// errors.Is.
var (
	// ErrNotCapture means a file is neither pcap nor pcapng, plain or gzip
	// compressed.
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	// ErrEmpty means a file has no bytes at all.
	ErrEmpty = errors.New("empty file")
)

// Open opens capture files for reading as one timeline. The format of each
// file is found from its first bytes, never its name: pcap (microsecond or
// nanosecond timestamps, either byte order), pcapng, or either of them
// compressed with gzip. The path "-" stands for opt.Stdin and may appear once.
//
// Several files are merged by timestamp, the way mergecap does it: packets
// with equal timestamps come in the order of their files in paths. Packet.Num
// counts packets over the merged timeline; Packet.File is the index of the
// packet's file in paths.
//
// Open reads and checks every file header, so a missing file, a directory or
// a file in another format fails here. Damage further in is reported by Next
// with the file name, the packet number within the file and the byte offset
// of the broken record (in the decompressed data for gzip files).
func Open(paths []string, opt OpenOptions) (Source, error) {
	if len(paths) == 0 {
		return nil, errors.New("capture: no capture files given")
	}
	stdin := opt.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	stdins := 0
	for _, path := range paths {
		if path == "-" {
			stdins++
		}
	}
	if stdins > 1 {
		return nil, errors.New(`capture: "-" (stdin) given more than once`)
	}
	m := &merger{files: make([]*file, 0, len(paths))}
	for i, path := range paths {
		f, err := openFile(path, i, stdin, &m.bytes)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.files = append(m.files, f)
		if f.size < 0 || m.total < 0 {
			m.total = -1
		} else {
			m.total += f.size
		}
	}
	if m.total < 0 {
		m.total = 0
	}
	return m, nil
}

// fileError is damage found in one file. It prints as one line:
//
//	capture: "x.pcap": packet 1234 at byte 567890: truncated record (unexpected EOF)
type fileError struct {
	name   string
	packet uint64 // 1-based number of the packet in the file; 0 if none
	offset int64  // where the broken record or block starts; -1 if unknown
	what   string // what is wrong; empty to use err alone
	err    error  // the cause, if any
}

func (e *fileError) Error() string {
	where := ""
	switch {
	case e.packet > 0 && e.offset >= 0:
		where = fmt.Sprintf("packet %d at byte %d: ", e.packet, e.offset)
	case e.packet > 0:
		where = fmt.Sprintf("packet %d: ", e.packet)
	case e.offset >= 0:
		where = fmt.Sprintf("at byte %d: ", e.offset)
	}
	what := e.what
	switch {
	case e.err == nil && what == "":
		what = "damaged"
	case what == "":
		what = lowerFirst(e.err.Error())
	case e.err != nil:
		what += " (" + lowerFirst(e.err.Error()) + ")"
	}
	// Messages from other packages are not ours to trust with one line.
	return fmt.Sprintf("capture: %q: %s%s", e.name, where, strings.ReplaceAll(what, "\n", " "))
}

func (e *fileError) Unwrap() error { return e.err }

// lowerFirst lower-cases the first letter of a message from a package that
// capitalises its errors, so that ours read as one sentence.
func lowerFirst(s string) string {
	if s != "" && 'A' <= s[0] && s[0] <= 'Z' && (len(s) == 1 || !('A' <= s[1] && s[1] <= 'Z')) {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

// countingReader counts the bytes read through it, for Progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
