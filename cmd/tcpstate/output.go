package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tcpstate/tcpstate/capture"
)

// atomicFile is an output file that appears complete or not at all: it is
// written under a temporary name beside its destination and renamed over
// it only by commit.
type atomicFile struct {
	*os.File
	path string
}

// createAtomic starts writing path. It refuses to write over any of the
// inputs, so a mistyped command line never destroys a capture.
func createAtomic(path string, inputs []string) (*atomicFile, error) {
	if err := notAnInput(path, inputs); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create %q: %w", path, errors.Unwrap(err))
	}
	// The temporary file is private; what it becomes is an ordinary file,
	// readable by others as tcpdump's and a shell redirection's are.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create %q: %w", path, errors.Unwrap(err))
	}
	return &atomicFile{File: f, path: path}, nil
}

// notAnInput reports an error when path is one of the input files.
func notAnInput(path string, inputs []string) error {
	out, err := os.Stat(path)
	if err != nil {
		return nil // it does not exist yet
	}
	for _, in := range inputs {
		if in == "-" {
			continue
		}
		if fi, err := os.Stat(in); err == nil && os.SameFile(fi, out) {
			return fmt.Errorf("refusing to write %q: it is the capture being read", path)
		}
	}
	return nil
}

// commit makes the file visible under its name.
func (f *atomicFile) commit() error {
	if err := f.Sync(); err != nil {
		f.abort()
		return fmt.Errorf("write %q: %w", f.path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %q: %w", f.path, err)
	}
	if err := os.Rename(f.Name(), f.path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %q: %w", f.path, errors.Unwrap(err))
	}
	return nil
}

// abort removes the temporary file: nothing appears.
func (f *atomicFile) abort() {
	f.Close()
	os.Remove(f.Name())
}

// renderTo writes what render produces to path atomically, or to w when
// path is empty.
func renderTo(path string, inputs []string, w io.Writer, render func(io.Writer) error) error {
	if path == "" {
		return render(w)
	}
	f, err := createAtomic(path, inputs)
	if err != nil {
		return err
	}
	if err := render(f); err != nil {
		f.abort()
		return err
	}
	return f.commit()
}

// packetWriter saves every packet read to a pcapng file (-w), one
// interface per link type, atomically.
type packetWriter struct {
	file   *atomicFile
	ng     *pcapgo.NgWriter
	ifaces map[layers.LinkType]int
	err    error // a failed flush
}

func newPacketWriter(path string, inputs []string) (*packetWriter, error) {
	f, err := createAtomic(path, inputs)
	if err != nil {
		return nil, err
	}
	return &packetWriter{file: f, ifaces: map[layers.LinkType]int{}}, nil
}

func (w *packetWriter) write(p *capture.Packet) error {
	id, ok := w.ifaces[p.LinkType]
	if !ok {
		intf := pcapgo.NgInterface{LinkType: p.LinkType, SnapLength: 262144, TimestampResolution: 9}
		var err error
		if w.ng == nil {
			w.ng, err = pcapgo.NewNgWriterInterface(w.file, intf, pcapgo.DefaultNgWriterOptions)
		} else {
			id, err = w.ng.AddInterface(intf)
		}
		if err != nil {
			return fmt.Errorf("write %q: %w", w.file.path, err)
		}
		w.ifaces[p.LinkType] = id
	}
	ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: max(p.Length, len(p.Data)), InterfaceIndex: id}
	if err := w.ng.WritePacket(ci, p.Data); err != nil {
		return fmt.Errorf("write %q: %w", w.file.path, err)
	}
	return nil
}

// flush pushes what is buffered to the file, so that a live capture's file
// holds the packets up to now. An error is kept for close to report.
func (w *packetWriter) flush() {
	if w.ng != nil && w.err == nil {
		if err := w.ng.Flush(); err != nil {
			w.err = fmt.Errorf("write %q: %w", w.file.path, err)
		}
	}
}

// close completes the file; with no packet at all it still holds a valid
// pcapng section with no interface.
func (w *packetWriter) close() error {
	if w.ng == nil {
		ng, err := pcapgo.NewNgWriterInterface(w.file, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: 262144}, pcapgo.DefaultNgWriterOptions)
		if err != nil {
			w.file.abort()
			return err
		}
		w.ng = ng
	}
	if w.err != nil {
		w.file.abort()
		return w.err
	}
	if err := w.ng.Flush(); err != nil {
		w.file.abort()
		return fmt.Errorf("write %q: %w", w.file.path, err)
	}
	return w.file.commit()
}

// errWriter is a buffered writer that remembers its first error and
// writes nothing after it, so that a long stream of rows can be written
// without checking each one.
type errWriter struct {
	b   *bufio.Writer
	err error
}

func newErrWriter(w io.Writer) *errWriter { return &errWriter{b: bufio.NewWriterSize(w, 64<<10)} }

func (w *errWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.b.Write(p)
	w.err = err
	return n, err
}

func (w *errWriter) WriteString(s string) {
	if w.err == nil {
		_, w.err = w.b.WriteString(s)
	}
}

func (w *errWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// flush writes what is buffered and returns the first error.
func (w *errWriter) flush() error {
	if w.err == nil {
		w.err = w.b.Flush()
	}
	return w.err
}
