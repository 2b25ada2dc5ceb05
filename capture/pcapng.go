package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// pcapng block types (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html, section 4).
const (
	ngSectionHeader       = 0x0a0d0d0a
	ngInterfaceDescriptor = 1
	ngPacket              = 2 // obsolete, still read
	ngSimplePacket        = 3
	ngEnhancedPacket      = 6
)

const (
	ngByteOrderMagic = 0x1a2b3c4d
	// maxMetaBlock bounds a section header or interface description block:
	// their options are a few names and numbers, each at most 64 KiB.
	maxMetaBlock = 1 << 20
)

// ngFramer sits between a pcapng stream and pcapgo.NgReader. It reads the
// header of every block before the NgReader does and checks the framing:
// the total length is at least 12 and a multiple of 4, a packet's captured
// length fits in its block and under maxPacket. pcapgo trusts these
// lengths; a corrupt one would make it allocate, or read past the block.
//
// It passes on only the blocks the analyzer needs (section headers,
// interface descriptions and packets) and skips the rest (statistics, name
// resolution, decryption secrets, custom blocks) without reading them into
// memory. A Read never returns bytes of two blocks, so the block the
// NgReader is in is the one the framer served last, whose offset errors
// report.
type ngFramer struct {
	r          *bufio.Reader
	off        int64 // bytes of the stream consumed so far
	blockStart int64 // where the block being served starts
	left       int   // bytes of that block not yet served
	// tail is the length the block must end with, when it is too long to
	// check in nextBlock; 0 when it was checked there.
	tail      uint32
	bigEndian bool // byte order of the current section
	snaplen   uint32
	ifaces    int   // interface descriptions seen in the current section
	err       error // io.EOF at the clean end, a *blockError, or the stream's error
}

// blockError is a framing error the framer found.
type blockError struct {
	offset int64
	what   string
	err    error
}

func (e *blockError) Error() string {
	if e.err != nil {
		return e.what + " (" + e.err.Error() + ")"
	}
	return e.what
}

func (e *blockError) Unwrap() error { return e.err }

func (f *ngFramer) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	for f.left == 0 {
		if err := f.nextBlock(); err != nil {
			f.err = err
			return 0, err
		}
	}
	want := min(len(p), f.left)
	if f.tail != 0 {
		// The block's trailing length is served on its own, once checked.
		if f.left > 4 {
			want = min(want, f.left-4)
		} else if f.left == 4 {
			end, err := f.peek(4)
			if err == nil && len(end) == 4 && f.u32(end) != f.tail {
				err = &blockError{offset: f.blockStart, what: fmt.Sprintf("block length %d at its end does not match %d at its start", f.u32(end), f.tail)}
			}
			if err != nil {
				f.err = err
				return 0, err
			}
		}
	}
	n, err := f.r.Read(p[:want])
	f.left -= n
	f.off += int64(n)
	switch {
	case err == io.EOF:
		// The block header promised more.
		f.err = &blockError{offset: f.blockStart, what: "truncated block", err: io.ErrUnexpectedEOF}
	case err != nil:
		f.err = err
	}
	if n > 0 {
		return n, nil // the error, if any, on the next call
	}
	return 0, f.err
}

// nextBlock reads and checks the next block header, skipping blocks that are
// not passed on. It returns io.EOF at a clean end of the stream.
func (f *ngFramer) nextBlock() error {
	start := f.off
	f.blockStart = start // errors from here on are about this block
	bad := func(format string, args ...any) error {
		return &blockError{offset: start, what: fmt.Sprintf(format, args...)}
	}
	hdr, err := f.peek(8)
	if err != nil {
		return err
	}
	if len(hdr) == 0 {
		return io.EOF // the stream ends between blocks: the clean end
	}
	if len(hdr) < 8 {
		return &blockError{offset: start, what: "truncated block header", err: io.ErrUnexpectedEOF}
	}
	typ := binary.LittleEndian.Uint32(hdr) // the section header type reads the same both ways
	if typ == ngSectionHeader {
		// The byte-order magic that follows sets the order of the section.
		if hdr, err = f.peek(12); err != nil {
			return err
		}
		if len(hdr) < 12 {
			return &blockError{offset: start, what: "truncated block header", err: io.ErrUnexpectedEOF}
		}
		switch {
		case binary.BigEndian.Uint32(hdr[8:]) == ngByteOrderMagic:
			f.bigEndian = true
		case binary.LittleEndian.Uint32(hdr[8:]) == ngByteOrderMagic:
			f.bigEndian = false
		default:
			return bad("bad byte-order magic % x in section header", hdr[8:12])
		}
		f.ifaces, f.snaplen = 0, 0
	} else {
		typ = f.u32(hdr)
	}
	length := f.u32(hdr[4:])
	if length < 12 || length%4 != 0 {
		return bad("bad block length %d", length)
	}

	// The smallest length of each block passed on; the fixed fields.
	var fixed uint32
	switch typ {
	case ngSectionHeader:
		fixed = 28
	case ngInterfaceDescriptor:
		fixed = 20
	case ngEnhancedPacket, ngPacket:
		fixed = 32
	case ngSimplePacket:
		fixed = 16
	default:
		// Not needed: skip it without reading it into memory, checking
		// that it ends with its length again, as every block does.
		n, err := f.r.Discard(int(length) - 4)
		f.off += int64(n)
		if err == nil {
			var end []byte
			if end, err = f.peek(4); err == nil && len(end) < 4 {
				err = io.EOF
			}
			if err == nil && f.u32(end) != length {
				return bad("block length %d at its end does not match %d at its start", f.u32(end), length)
			}
			if err == nil {
				n, err = f.r.Discard(4)
				f.off += int64(n)
			}
		}
		if err == io.EOF {
			return &blockError{offset: start, what: "truncated block", err: io.ErrUnexpectedEOF}
		}
		return err
	}
	if length < fixed {
		return bad("block length %d too short for block type %d", length, typ)
	}
	if hdr, err = f.peek(int(fixed) - 4); err != nil {
		return err
	}
	if len(hdr) < int(fixed)-4 {
		return &blockError{offset: start, what: "truncated block", err: io.ErrUnexpectedEOF}
	}
	room := length - fixed // for packet data and options
	switch typ {
	case ngSectionHeader, ngInterfaceDescriptor:
		if length > maxMetaBlock {
			return bad("block length %d exceeds the limit of %d", length, maxMetaBlock)
		}
		if typ == ngInterfaceDescriptor {
			if f.ifaces == 0 {
				f.snaplen = f.u32(hdr[12:])
			}
			f.ifaces++
		}
	case ngEnhancedPacket, ngPacket:
		caplen := f.u32(hdr[20:])
		if err := f.checkPacket(caplen, room, length); err != nil {
			return bad("%s", err)
		}
	case ngSimplePacket:
		// The captured length is the original length cut to the snaplen
		// of the section's first interface (pcapng section 4.4), which is
		// what pcapgo reads.
		caplen := f.u32(hdr[8:])
		if f.snaplen != 0 && caplen > f.snaplen {
			caplen = f.snaplen
		}
		if err := f.checkPacket(caplen, room, length); err != nil {
			return bad("%s", err)
		}
	}
	// The block ends with its length again (pcapng section 3.1): a block
	// whose two lengths differ is corrupt, and none of it is passed on.
	f.tail = 0
	if int(length) > f.r.Size() {
		f.tail = length // checked as it is served
	} else {
		blk, err := f.peek(int(length))
		if err != nil {
			return err
		}
		if len(blk) < int(length) {
			return &blockError{offset: start, what: "truncated block", err: io.ErrUnexpectedEOF}
		}
		if end := f.u32(blk[length-4:]); end != length {
			return bad("block length %d at its end does not match %d at its start", end, length)
		}
	}
	f.left = int(length)
	return nil
}

// checkPacket checks a packet block's captured length against the room its
// block leaves for data and against maxPacket.
func (f *ngFramer) checkPacket(caplen, room, length uint32) error {
	switch {
	case caplen > maxPacket:
		return fmt.Errorf("captured length %d exceeds the limit of %d", caplen, maxPacket)
	case caplen > room:
		return fmt.Errorf("captured length %d does not fit in a block of %d bytes", caplen, length)
	case length > maxPacket+maxMetaBlock:
		return fmt.Errorf("block length %d exceeds the limit of %d", length, maxPacket+maxMetaBlock)
	}
	return nil
}

// peek returns up to n bytes without consuming them; fewer only at the end
// of the stream.
func (f *ngFramer) peek(n int) ([]byte, error) {
	b, err := f.r.Peek(n)
	if err == io.EOF {
		err = nil
	}
	return b, err
}

func (f *ngFramer) u32(b []byte) uint32 {
	if f.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}
