package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// maxPacket is the longest record read: libpcap's MAXIMUM_SNAPLEN, which
// tcpdump and Wireshark also use. A longer record is damage, and a corrupt
// length must not make the reader allocate or read gigabytes.
const maxPacket = 262144

// Buffer sizes: the file buffer amortises system calls, the second one
// holds decompressed data.
const (
	fileBufSize = 256 << 10
	gzipBufSize = 256 << 10
)

// Magic numbers, as the bytes appear at the start of a file.
var (
	magicGzip        = []byte{0x1f, 0x8b}             // RFC 1952 section 2.3.1
	magicPcapngSHB   = []byte{0x0a, 0x0d, 0x0d, 0x0a} // pcapng section header block type
	magicPcapMicroLE = []byte{0xd4, 0xc3, 0xb2, 0xa1} // pcap, µs timestamps, little endian
	magicPcapMicroBE = []byte{0xa1, 0xb2, 0xc3, 0xd4}
	magicPcapNanoLE  = []byte{0x4d, 0x3c, 0xb2, 0xa1} // pcap, ns timestamps
	magicPcapNanoBE  = []byte{0xa1, 0xb2, 0x3c, 0x4d}
	pcapVersionLE    = []byte{2, 0, 4, 0} // 2.4, the only pcap version in use
	pcapVersionBE    = []byte{0, 2, 0, 4}
)

// pcap header sizes.
const (
	pcapFileHeaderLen = 24
	pcapRecordHdrLen  = 16
)

// file is one open capture file.
type file struct {
	name  string
	index int
	size  int64     // of a regular file; -1 for stdin or a pipe
	c     io.Closer // the os.File, nil for stdin

	// A pcap file's records are read straight from br (see nextPcap).
	br        *bufio.Reader
	bigEndian bool            // pcap: the byte order of the headers
	nanoUnit  int64           // pcap: nanoseconds in a unit of the fraction field (1 or 1000)
	linkType  layers.LinkType // of a pcap file
	ng        *pcapgo.NgReader
	framer    *ngFramer // under ng

	packets uint64 // read from this file so far
	offset  int64  // pcap: where the next record starts
	head    Packet // the packet read last, for the merger
	// brokenAt is the timestamp of the broken record, when its header
	// could be read; zero otherwise.
	brokenAt time.Time
	err      error // the damage that ended the file, for the merger
}

// openFile opens one path and reads its file header.
func openFile(path string, index int, stdin io.Reader, counter *atomic.Int64) (*file, error) {
	f := &file{name: path, index: index, size: -1}
	var r io.Reader
	if path == "-" {
		r = stdin
	} else {
		osf, err := os.Open(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("capture: open %q: %w", path, err)
		}
		st, err := osf.Stat()
		if err != nil {
			osf.Close()
			return nil, fmt.Errorf("capture: stat %q: %w", path, err)
		}
		if st.IsDir() {
			osf.Close()
			return nil, fmt.Errorf("capture: %q is a directory", path)
		}
		if st.Mode().IsRegular() {
			f.size = st.Size()
		}
		r, f.c = osf, osf
	}
	if err := f.sniff(bufio.NewReaderSize(countingReader{r, counter}, fileBufSize)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// sniff finds the format from the first bytes of br and opens the reader.
func (f *file) sniff(br *bufio.Reader) error {
	head, err := peek(br, 4)
	if err != nil {
		return fmt.Errorf("capture: read %q: %w", f.name, err)
	}
	if len(head) == 0 {
		return fmt.Errorf("capture: %q: %w", f.name, ErrEmpty)
	}
	inner := ""
	if bytes.HasPrefix(head, magicGzip) {
		// Multistream is the default: concatenated members read as one.
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &fileError{name: f.name, offset: -1, what: "bad gzip header", err: err}
		}
		br = bufio.NewReaderSize(zr, gzipBufSize)
		if head, err = peek(br, 4); err != nil {
			return &fileError{name: f.name, offset: -1, what: "bad gzip data", err: err}
		}
		if len(head) == 0 {
			return fmt.Errorf("capture: %q: %w (after gzip decompression)", f.name, ErrEmpty)
		}
		inner = "decompressed data "
	}
	switch {
	case bytes.HasPrefix(head, magicPcapngSHB):
		return f.openPcapng(br)
	case bytes.HasPrefix(head, magicPcapMicroLE), bytes.HasPrefix(head, magicPcapMicroBE),
		bytes.HasPrefix(head, magicPcapNanoLE), bytes.HasPrefix(head, magicPcapNanoBE):
		return f.openPcap(br)
	}
	// A gzip inside the gzip is refused like any other stranger: unwrapping
	// layer after layer would let a small file expand without limit.
	return fmt.Errorf("capture: %q: %w (%sstarts with % x)", f.name, ErrNotCapture, inner, head)
}

// peek returns up to n bytes from the start of br, fewer only at the end of
// the data.
func peek(br *bufio.Reader, n int) ([]byte, error) {
	b, err := br.Peek(n)
	if err == io.EOF || err == bufio.ErrBufferFull {
		err = nil
	}
	return b, err
}

// openPcap reads a pcap file header (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
func (f *file) openPcap(br *bufio.Reader) error {
	hdr, err := peek(br, pcapFileHeaderLen)
	if err != nil {
		return &fileError{name: f.name, offset: -1, what: "bad file header", err: err}
	}
	if len(hdr) < pcapFileHeaderLen {
		return &fileError{name: f.name, offset: -1, what: "truncated file header", err: io.ErrUnexpectedEOF}
	}
	if v := hdr[4:8]; !bytes.Equal(v, pcapVersionLE) && !bytes.Equal(v, pcapVersionBE) {
		return &fileError{name: f.name, offset: -1, what: fmt.Sprintf("unsupported pcap version (% x)", v)}
	}
	f.bigEndian = bytes.Equal(hdr[:4], magicPcapMicroBE) || bytes.Equal(hdr[:4], magicPcapNanoBE)
	f.nanoUnit = 1000
	if bytes.Equal(hdr[:4], magicPcapNanoLE) || bytes.Equal(hdr[:4], magicPcapNanoBE) {
		f.nanoUnit = 1
	}
	// br is a *bufio.Reader of at least 4 KiB, which pcapgo uses as it is
	// (in a buffer of its own, it would read ahead of the records that
	// nextPcap reads from br).
	r, err := pcapgo.NewReader(br)
	if err != nil {
		return &fileError{name: f.name, offset: -1, what: "bad file header", err: err}
	}
	// pcapgo has read and checked the file header; the records are read
	// here, in place in br (see nextPcap), up to maxPacket whatever
	// snaplen the file claims.
	f.br, f.linkType, f.offset = br, r.LinkType(), pcapFileHeaderLen
	return nil
}

// openPcapng reads the first section header of a pcapng file through an
// ngFramer, which checks the framing of every block before pcapgo reads it.
func (f *file) openPcapng(br *bufio.Reader) error {
	f.framer = &ngFramer{r: br}
	// The framer hands out at most one block per Read; a bufio.Reader that
	// is already one is used by pcapgo as it is, so that the framer's
	// current block is the one pcapgo is reading.
	ngBuf := bufio.NewReaderSize(f.framer, 64<<10)
	r, err := pcapgo.NewNgReader(ngBuf, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return f.damage(err, 0)
	}
	f.ng = r
	return nil
}

// next reads the file's next packet into p.
func (f *file) next(p *Packet) error {
	if f.ng != nil {
		return f.nextPcapng(p)
	}
	return f.nextPcap(p)
}

// nextPcap reads the next record of a pcap file. The record is read in
// place in the file's buffer, which holds any record up to maxPacket: its
// data is valid until the next read, as pcapgo's ZeroCopyReadPacketData's
// is, without pcapgo's copy of every packet into a buffer of its own and
// its two reads through interfaces (a third of the time of a bare read
// loop). What is damage and how it is told is pcapgo's: see pcapDamage.
func (f *file) nextPcap(p *Packet) error {
	hdr, err := f.br.Peek(pcapRecordHdrLen)
	if len(hdr) < pcapRecordHdrLen {
		if len(hdr) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return f.pcapDamage(err, 0, 0)
	}
	sec, frac := f.u32(hdr[0:4]), f.u32(hdr[4:8])
	caplen, length := int(f.u32(hdr[8:12])), int(f.u32(hdr[12:16]))
	ts := time.Unix(int64(sec), int64(frac)*f.nanoUnit).UTC()
	f.br.Discard(pcapRecordHdrLen)
	var data []byte
	switch {
	case caplen < 0 || caplen > maxPacket:
		err = fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, maxPacket)
		caplen = max(caplen, maxPacket+1) // negative on 32 bits: too long all the same
	case caplen > length:
		err = fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, length)
	default: // the buffer holds maxPacket (see bufsHoldARecord)
		data, err = f.br.Peek(caplen)
		if len(data) == caplen {
			err = nil
			f.br.Discard(caplen)
		} else if len(data) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil {
		if caplen != 0 || length != 0 {
			f.brokenAt = ts // the record header was read
		}
		return f.pcapDamage(err, caplen, length)
	}
	f.packets++
	f.offset += int64(pcapRecordHdrLen + len(data))
	p.set(data, ts, length, f.linkType, f.index)
	return nil
}

// u32 reads a pcap header field in the file's byte order.
func (f *file) u32(b []byte) uint32 {
	if f.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// bufsHoldARecord does not compile unless the buffers nextPcap peeks a
// record in (the file's, or gzip's) hold the longest record.
type bufsHoldARecord [2][0]struct {
	file [fileBufSize - maxPacket]struct{}
	gzip [gzipBufSize - maxPacket]struct{}
}

// pcapDamage turns an error from pcapgo.Reader into io.EOF at the clean end
// of the file, or a fileError.
func (f *file) pcapDamage(err error, caplen, length int) error {
	e := &fileError{name: f.name, packet: f.packets + 1, offset: f.offset, err: err}
	// pcapgo reads the 16-byte record header, checks it, then reads the
	// data. An error that comes with a zero header came from the header.
	header := caplen == 0 && length == 0
	switch {
	case err == io.EOF && header:
		return io.EOF // no bytes at all where the next record would start
	case header && errors.Is(err, io.ErrUnexpectedEOF):
		e.what = "truncated record header"
	case caplen > maxPacket:
		e.what, e.err = fmt.Sprintf("record length %d exceeds the limit of %d", caplen, maxPacket), nil
	case caplen > length:
		e.what, e.err = fmt.Sprintf("captured length %d exceeds packet length %d", caplen, length), nil
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		// io.ReadFull says EOF when not one byte of the data was there.
		e.what, e.err = "truncated record", io.ErrUnexpectedEOF
	}
	return e
}

// nextPcapng reads the next packet of a pcapng file.
func (f *file) nextPcapng(p *Packet) error {
	data, ci, err := f.ng.ZeroCopyReadPacketData()
	if err != nil {
		if err == io.EOF && f.framer.err == io.EOF {
			return io.EOF
		}
		return f.damage(err, f.packets+1)
	}
	f.packets++
	// With WantMixedLinkType, pcapgo puts the packet's interface's link type
	// in AncillaryData[0].
	lt := layers.LinkType(0)
	if len(ci.AncillaryData) > 0 {
		lt, _ = ci.AncillaryData[0].(layers.LinkType)
	}
	p.set(data, ci.Timestamp, ci.Length, lt, f.index)
	return nil
}

// damage wraps an error from pcapgo.NgReader, preferring the framer's own
// account of it, which knows where the broken block starts.
func (f *file) damage(err error, packet uint64) error {
	var be *blockError
	if errors.As(f.framer.err, &be) {
		return &fileError{name: f.name, packet: packet, offset: be.offset, what: be.what, err: be.err}
	}
	e := &fileError{name: f.name, packet: packet, offset: f.framer.blockStart, err: err}
	switch {
	case f.framer.err != nil && f.framer.err != io.EOF:
		e.err = f.framer.err // an error of the underlying reader, such as gzip's
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		e.what, e.err = "truncated block", io.ErrUnexpectedEOF
	case errors.Is(err, pcapgo.ErrNgVersionMismatch):
		e.what, e.err = "unsupported pcapng version", nil
	default:
		e.what = "malformed block"
	}
	return e
}

// Close closes the file, unless it is stdin.
func (f *file) Close() error {
	if f.c == nil {
		return nil
	}
	err := f.c.Close()
	f.c = nil
	return err
}
