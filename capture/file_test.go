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
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// rec is a packet to write into a test capture.
type rec struct {
	t    time.Time
	data []byte
	orig int             // length on the wire; 0 means len(data)
	lt   layers.LinkType // pcapng: the link type of the interface to write it on
}

func (r rec) length() int {
	if r.orig != 0 {
		return r.orig
	}
	return len(r.data)
}

// t0 is the start of every test capture.
var t0 = time.Date(2024, 5, 17, 9, 30, 0, 123456000, time.UTC)

// someRecs returns n Ethernet packets, 1.5 ms apart.
func someRecs(n int) []rec {
	frames := [][]byte{frameSYN4, frameSYNACK6, frameData4, frameRST4}
	recs := make([]rec, n)
	for i := range recs {
		recs[i] = rec{t: t0.Add(time.Duration(i) * 1500 * time.Microsecond), data: frames[i%len(frames)], lt: layers.LinkTypeEthernet}
	}
	return recs
}

// pcapFile encodes recs as a pcap file with link type lt. Little-endian
// files come from pcapgo's writer; it writes no other byte order, so
// big-endian files are put together here.
func pcapFile(t testing.TB, order binary.ByteOrder, nanos bool, lt layers.LinkType, recs []rec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if order == binary.LittleEndian {
		w := pcapgo.NewWriter(&buf)
		if nanos {
			w = pcapgo.NewWriterNanos(&buf)
		}
		if err := w.WriteFileHeader(65535, lt); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			ci := gopacket.CaptureInfo{Timestamp: r.t, CaptureLength: len(r.data), Length: r.length()}
			if err := w.WritePacket(ci, r.data); err != nil {
				t.Fatal(err)
			}
		}
		return buf.Bytes()
	}
	magic, frac := uint32(0xa1b2c3d4), time.Microsecond
	if nanos {
		magic, frac = 0xa1b23c4d, time.Nanosecond
	}
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint16(b, 2)
	b = binary.BigEndian.AppendUint16(b, 4)
	b = binary.BigEndian.AppendUint64(b, 0) // time zone, sigfigs
	b = binary.BigEndian.AppendUint32(b, 65535)
	b = binary.BigEndian.AppendUint32(b, uint32(lt))
	for _, r := range recs {
		b = binary.BigEndian.AppendUint32(b, uint32(r.t.Unix()))
		b = binary.BigEndian.AppendUint32(b, uint32(r.t.Nanosecond()/int(frac)))
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.data)))
		b = binary.BigEndian.AppendUint32(b, uint32(r.length()))
		b = append(b, r.data...)
	}
	return b
}

// pcapngFile encodes recs as a pcapng file with one interface per link type
// in lts.
func pcapngFile(t testing.TB, lts []layers.LinkType, recs []rec) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{LinkType: lts[0]}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range lts[1:] {
		if _, err := w.AddInterface(pcapgo.NgInterface{LinkType: lt}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range recs {
		iface := -1
		for i, lt := range lts {
			if lt == r.lt {
				iface = i
			}
		}
		ci := gopacket.CaptureInfo{Timestamp: r.t, CaptureLength: len(r.data), Length: r.length(), InterfaceIndex: iface}
		if err := w.WritePacket(ci, r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gz compresses b with gzip.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// writeFile writes b to name in dir and returns the path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll reads a source to its end; err is what ended it, nil for io.EOF.
func readAll(t testing.TB, src Source) (pkts []Packet, err error) {
	t.Helper()
	for {
		var p Packet
		err := src.Next(&p)
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		p.Data = bytes.Clone(p.Data)
		pkts = append(pkts, p)
	}
}

// openAll opens paths and reads them to the end.
func openAll(t testing.TB, paths []string, opt OpenOptions) ([]Packet, error) {
	t.Helper()
	src, err := Open(paths, opt)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return readAll(t, src)
}

// checkPackets compares what was read with what was written, in order.
func checkPackets(t *testing.T, got []Packet, want []rec, file int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d packets, want %d", len(got), len(want))
	}
	for i, p := range got {
		w := want[i]
		if !p.Time.Equal(w.t) || !bytes.Equal(p.Data, w.data) || p.Length != w.length() ||
			p.LinkType != w.lt || p.Num != uint64(i+1) || p.File != file {
			t.Errorf("packet %d: got time %v len %d/%d link %v num %d file %d, want time %v len %d/%d link %v num %d file %d",
				i, p.Time, len(p.Data), p.Length, p.LinkType, p.Num, p.File,
				w.t, len(w.data), w.length(), w.lt, i+1, file)
		}
	}
}

func TestOpenFormats(t *testing.T) {
	recs := someRecs(7)
	recs[2].orig = 1514 // cut by a snaplen
	micro := make([]rec, len(recs))
	for i, r := range recs {
		r.t = r.t.Truncate(time.Microsecond)
		micro[i] = r
	}
	nano := make([]rec, len(recs))
	for i, r := range recs {
		r.t = r.t.Add(789 * time.Nanosecond)
		nano[i] = r
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		file []byte
		want []rec
	}{
		{"pcap µs little endian", pcapFile(t, binary.LittleEndian, false, layers.LinkTypeEthernet, micro), micro},
		{"pcap µs big endian", pcapFile(t, binary.BigEndian, false, layers.LinkTypeEthernet, micro), micro},
		{"pcap ns little endian", pcapFile(t, binary.LittleEndian, true, layers.LinkTypeEthernet, nano), nano},
		{"pcap ns big endian", pcapFile(t, binary.BigEndian, true, layers.LinkTypeEthernet, nano), nano},
		{"pcapng", pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, nano), nano},
	} {
		for _, compress := range []bool{false, true} {
			name, file := tt.name, tt.file
			if compress {
				name, file = name+" gzip", gz(file)
			}
			t.Run(name, func(t *testing.T) {
				// A name that says nothing true about the format.
				path := writeFile(t, dir, strings.ReplaceAll(name, " ", "_")+".txt", file)
				src, err := Open([]string{path}, OpenOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				got, err := readAll(t, src)
				if err != nil {
					t.Fatal(err)
				}
				checkPackets(t, got, tt.want, 0)
				size := int64(len(file))
				if p := src.Progress(); p.Bytes != size || p.Total != size || p.Packets != uint64(len(tt.want)) {
					t.Errorf("progress = %+v, want %d of %d bytes, %d packets", p, size, size, len(tt.want))
				}
				if err := src.Next(&Packet{}); err != io.EOF {
					t.Errorf("Next after the end = %v, want io.EOF", err)
				}
			})
		}
	}
}

// TestOpenPcapngLinkTypes reads a pcapng file whose interfaces have
// different link types, and decodes every packet with its own.
func TestOpenPcapngLinkTypes(t *testing.T) {
	lts := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL2}
	recs := []rec{
		{t: t0, data: frameSYN4, lt: layers.LinkTypeEthernet},
		{t: t0.Add(1), data: ip(frameSYNACK6), lt: layers.LinkTypeRaw},
		{t: t0.Add(2), data: sll2(ip(frameData4), 0x0800), lt: layers.LinkTypeLinuxSLL2},
		{t: t0.Add(3), data: frameRST4, lt: layers.LinkTypeEthernet},
	}
	wantSegs := []Segment{segSYN4, segSYNACK6, segData4, segRST4}
	path := writeFile(t, t.TempDir(), "multi.pcapng", pcapngFile(t, lts, recs))
	got, err := openAll(t, []string{path}, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkPackets(t, got, recs, 0)
	var d Decoder
	for i, p := range got {
		var s Segment
		if c := d.Decode(p.LinkType, p.Data, &s); c != ClassTCP || !sameSegment(s, wantSegs[i]) {
			t.Errorf("packet %d decodes to %v %+v", i+1, c, s)
		}
	}
}

// TestOpenPcapngSkipsBlocks checks that blocks the reader has no use for
// (statistics, name resolution, custom) are stepped over.
func TestOpenPcapngSkipsBlocks(t *testing.T) {
	recs := someRecs(3)
	file := pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, recs)
	offs := blockOffsets(t, file)
	// A custom block (type 0x00000BAD) with 9 bytes of data, padded, and a
	// name resolution block, before the second packet.
	custom := mustHex("ad0b0000 1c000000 7b000000 000102030405060708000000 1c000000")
	nrb := mustHex("04000000 1c000000 0100 0800 c0000201 666f6f00 0000 0000 1c000000")
	at := offs[3] // SHB, IDB, EPB 1, EPB 2
	file = cat(file[:at], custom, nrb, file[at:])
	got, err := openAll(t, []string{writeFile(t, t.TempDir(), "skip.pcapng", file)}, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkPackets(t, got, recs, 0)
}

// ngBlock encodes a pcapng block by hand: pcapgo writes only little-endian
// files with enhanced packet blocks.
func ngBlock(order binary.AppendByteOrder, typ uint32, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	n := uint32(12 + len(b))
	out := order.AppendUint32(order.AppendUint32(nil, typ), n)
	return order.AppendUint32(append(out, b...), n)
}

// handmadePcapng is a file of two sections: a big-endian one with each kind
// of packet block (enhanced, simple, obsolete) and a statistics block, and a
// little-endian one with another link type.
func handmadePcapng() []byte {
	be, le := binary.BigEndian, binary.LittleEndian
	// Timestamps in microseconds, the default resolution.
	us := uint64(t0.UnixMicro())
	hi, lo := uint32(us>>32), uint32(us)
	return cat(
		ngSHB(be),
		ngBlock(be, 1, u16(be, uint16(layers.LinkTypeEthernet)), u16(be, 0), u32(be, 64)), // snaplen 64
		ngBlock(be, 6, u32(be, 0), u32(be, hi), u32(be, lo), u32(be, uint32(len(frameSYN4))), u32(be, uint32(len(frameSYN4))), frameSYN4),
		ngBlock(be, 3, u32(be, uint32(len(frameData4))), frameData4[:64]),
		ngBlock(be, 2, u16(be, 0), u16(be, 0), u32(be, hi), u32(be, lo+2), u32(be, uint32(len(frameRST4))), u32(be, uint32(len(frameRST4))), frameRST4),
		ngBlock(be, 5, u32(be, 0), u32(be, hi), u32(be, lo)), // statistics: skipped
		ngSHB(le),
		ngBlock(le, 1, u16(le, uint16(layers.LinkTypeRaw)), u16(le, 0), u32(le, 0)),
		ngBlock(le, 6, u32(le, 0), u32(le, hi), u32(le, lo+3), u32(le, 40), u32(le, 40), ip(frameRST4)[:40]),
	)
}

func ngSHB(o binary.AppendByteOrder) []byte {
	return ngBlock(o, 0x0a0d0d0a, u32(o, 0x1a2b3c4d), u16(o, 1), u16(o, 0), mustHex("ffffffffffffffff"))
}

func u16(o binary.AppendByteOrder, v uint16) []byte { return o.AppendUint16(nil, v) }
func u32(o binary.AppendByteOrder, v uint32) []byte { return o.AppendUint32(nil, v) }

// TestOpenPcapngHandmade reads handmadePcapng.
func TestOpenPcapngHandmade(t *testing.T) {
	le := binary.LittleEndian
	file := handmadePcapng()
	want := []rec{
		{t: t0.Truncate(time.Microsecond), data: frameSYN4, lt: layers.LinkTypeEthernet},
		{t: time.Time{}, data: frameData4[:64], orig: len(frameData4), lt: layers.LinkTypeEthernet}, // a simple packet block has no time
		{t: t0.Truncate(time.Microsecond).Add(2 * time.Microsecond), data: frameRST4, lt: layers.LinkTypeEthernet},
		{t: t0.Truncate(time.Microsecond).Add(3 * time.Microsecond), data: ip(frameRST4)[:40], lt: layers.LinkTypeRaw},
	}
	got, err := openAll(t, []string{"-"}, OpenOptions{Stdin: bytes.NewReader(file)})
	if err != nil {
		t.Fatal(err)
	}
	checkPackets(t, got, want, 0)

	// Without a snaplen, a simple packet block that holds less than the
	// original length is broken.
	file = cat(ngSHB(le), ngBlock(le, 1, u16(le, 1), u16(le, 0), u32(le, 0)), ngBlock(le, 3, u32(le, 1000), frameSYN4))
	_, err = openAll(t, []string{"-"}, OpenOptions{Stdin: bytes.NewReader(file)})
	if want := `capture: "-": packet 1 at byte 48: captured length 1000 does not fit in a block of 92 bytes`; fmt.Sprint(err) != want {
		t.Errorf("simple packet block too short:\n got %v\nwant %s", err, want)
	}
}

// blockOffsets returns where each pcapng block of a little-endian file starts.
func blockOffsets(t testing.TB, b []byte) []int {
	t.Helper()
	var offs []int
	for off := 0; off < len(b); {
		offs = append(offs, off)
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 12 {
			t.Fatalf("bad block at %d", off)
		}
		off += n
	}
	return offs
}

func TestOpenStdin(t *testing.T) {
	recs := someRecs(5)
	for _, file := range [][]byte{
		pcapFile(t, binary.LittleEndian, true, layers.LinkTypeEthernet, recs),
		gz(pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, recs)),
	} {
		src, err := Open([]string{"-"}, OpenOptions{Stdin: bytes.NewReader(file)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, src)
		if err != nil {
			t.Fatal(err)
		}
		checkPackets(t, got, recs, 0)
		if p := src.Progress(); p.Total != 0 || p.Bytes != int64(len(file)) {
			t.Errorf("progress = %+v, want %d bytes of an unknown total", p, len(file))
		}
		src.Close()
	}

	_, err := Open([]string{"-", "-"}, OpenOptions{Stdin: bytes.NewReader(nil)})
	if err == nil || err.Error() != `capture: "-" (stdin) given more than once` {
		t.Errorf("two stdins: %v", err)
	}
}

// TestMerge merges files into one timeline: by timestamp, ties in the order
// of the files, numbered over the whole.
func TestMerge(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	a := []rec{{t: ms(1)}, {t: ms(3)}, {t: ms(5)}, {t: ms(5)}, {t: ms(9)}}
	b := []rec{{t: ms(0)}, {t: ms(3)}, {t: ms(4)}, {t: ms(5)}}
	c := []rec{{t: ms(2)}, {t: ms(5)}}
	// Each packet carries its file and index, to check the order by.
	for f, rs := range [][]rec{a, b, c} {
		for i := range rs {
			rs[i].data = []byte(fmt.Sprintf("%c%d", 'a'+f, i))
			rs[i].lt = layers.LinkTypeEthernet
		}
	}
	dir := t.TempDir()
	paths := []string{
		writeFile(t, dir, "a.pcap", pcapFile(t, binary.LittleEndian, true, layers.LinkTypeEthernet, a)),
		writeFile(t, dir, "b.pcapng", pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, b)),
		"-",
		writeFile(t, dir, "empty.pcap", pcapFile(t, binary.BigEndian, false, layers.LinkTypeRaw, nil)),
	}
	stdin := bytes.NewReader(gz(pcapFile(t, binary.BigEndian, true, layers.LinkTypeEthernet, c)))
	got, err := openAll(t, paths, OpenOptions{Stdin: stdin})
	if err != nil {
		t.Fatal(err)
	}
	want := "b0 a0 c0 a1 b1 b2 a2 a3 b3 c1 a4"
	var order []string
	for i, p := range got {
		order = append(order, string(p.Data))
		if p.Num != uint64(i+1) || p.File != int(p.Data[0]-'a') {
			t.Errorf("packet %s: num %d file %d", p.Data, p.Num, p.File)
		}
	}
	if strings.Join(order, " ") != want {
		t.Errorf("order %v, want %v", order, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	pcap := pcapFile(t, binary.LittleEndian, false, layers.LinkTypeEthernet, someRecs(2))
	writeFile(t, dir, "good.pcap", pcap)
	writeFile(t, dir, "notes.txt", []byte("<!DOCTYPE html>\n<html></html>\n"))
	writeFile(t, dir, "empty.pcap", nil)
	writeFile(t, dir, "short", []byte{0x0a, 0x0d})
	writeFile(t, dir, "empty.gz", gz(nil))
	writeFile(t, dir, "notes.gz", gz([]byte("hello, world")))
	writeFile(t, dir, "gzgz.gz", gz(gz(pcap)))
	writeFile(t, dir, "badgz.gz", []byte{0x1f, 0x8b, 0x00, 0x00})
	writeFile(t, dir, "header.pcap", pcap[:20])
	writeFile(t, dir, "v3.pcap", with(pcap, 4, 3))
	writeFile(t, dir, "badshb.pcapng", with(pcapngFile(t, []layers.LinkType{1}, nil), 8, 1, 2, 3, 4))
	writeFile(t, dir, "v2.pcapng", with(pcapngFile(t, []layers.LinkType{1}, nil), 12, 2))
	if err := os.Mkdir(filepath.Join(dir, "dir.pcap"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		paths []string
		msg   string
		is    error
	}{
		{[]string{"missing.pcap"}, `capture: open "missing.pcap": no such file or directory`, fs.ErrNotExist},
		{[]string{"good.pcap", "missing.pcap"}, `capture: open "missing.pcap": no such file or directory`, fs.ErrNotExist},
		{[]string{"dir.pcap"}, `capture: "dir.pcap" is a directory`, nil},
		{[]string{"notes.txt"}, `capture: "notes.txt": not a pcap or pcapng file (starts with 3c 21 44 4f)`, ErrNotCapture},
		{[]string{"short"}, `capture: "short": not a pcap or pcapng file (starts with 0a 0d)`, ErrNotCapture},
		{[]string{"notes.gz"}, `capture: "notes.gz": not a pcap or pcapng file (decompressed data starts with 68 65 6c 6c)`, ErrNotCapture},
		{[]string{"gzgz.gz"}, `capture: "gzgz.gz": not a pcap or pcapng file (decompressed data starts with 1f 8b 08 00)`, ErrNotCapture},
		{[]string{"empty.pcap"}, `capture: "empty.pcap": empty file`, ErrEmpty},
		{[]string{"empty.gz"}, `capture: "empty.gz": empty file (after gzip decompression)`, ErrEmpty},
		{[]string{"badgz.gz"}, `capture: "badgz.gz": bad gzip header (unexpected EOF)`, io.ErrUnexpectedEOF},
		{[]string{"header.pcap"}, `capture: "header.pcap": truncated file header (unexpected EOF)`, io.ErrUnexpectedEOF},
		{[]string{"v3.pcap"}, `capture: "v3.pcap": unsupported pcap version (03 00 04 00)`, nil},
		{[]string{"badshb.pcapng"}, `capture: "badshb.pcapng": at byte 0: bad byte-order magic 01 02 03 04 in section header`, nil},
		{[]string{"v2.pcapng"}, `capture: "v2.pcapng": at byte 0: unsupported pcapng version`, nil},
		{nil, `capture: no capture files given`, nil},
	} {
		src, err := Open(tt.paths, OpenOptions{})
		if err == nil {
			src.Close()
			t.Errorf("Open(%q) succeeded", tt.paths)
			continue
		}
		if err.Error() != tt.msg {
			t.Errorf("Open(%q):\n got %s\nwant %s", tt.paths, err, tt.msg)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("Open(%q) = %v, not %v", tt.paths, err, tt.is)
		}
	}
}

// TestDamagePcap cuts a pcap file at every byte. Every whole record before
// the cut comes out; then io.EOF if the cut is between records, or an error
// that points at the broken one.
func TestDamagePcap(t *testing.T) {
	recs := someRecs(4)
	file := pcapFile(t, binary.LittleEndian, true, layers.LinkTypeEthernet, recs)
	var starts []int // of each record, and the end
	for off, i := 24, 0; ; i++ {
		starts = append(starts, off)
		if i == len(recs) {
			break
		}
		off += 16 + len(recs[i].data)
	}
	for cut := 24; cut <= len(file); cut++ {
		got, err := openAll(t, []string{"-"}, OpenOptions{Stdin: bytes.NewReader(file[:cut])})
		whole := 0
		for whole+1 < len(starts) && starts[whole+1] <= cut {
			whole++
		}
		checkPackets(t, got, recs[:whole], 0)
		var want string
		switch {
		case cut == starts[whole]:
			// At a record boundary: a clean end.
		case cut < starts[whole]+16:
			want = fmt.Sprintf(`capture: "-": packet %d at byte %d: truncated record header (unexpected EOF)`, whole+1, starts[whole])
		default:
			want = fmt.Sprintf(`capture: "-": packet %d at byte %d: truncated record (unexpected EOF)`, whole+1, starts[whole])
		}
		if fmt.Sprint(err) != want && !(want == "" && err == nil) {
			t.Errorf("cut at %d: error %v, want %s", cut, err, want)
		}
		if want != "" && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: %v is not io.ErrUnexpectedEOF", cut, err)
		}
	}
}

// TestDamagePcapng cuts a pcapng file at every byte, like TestDamagePcap.
func TestDamagePcapng(t *testing.T) {
	recs := someRecs(4)
	recs[1].lt = layers.LinkTypeRaw
	recs[1].data = ip(recs[1].data)
	file := pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw}, recs)
	offs := append(blockOffsets(t, file), len(file)) // SHB, IDB, IDB, EPB...
	for cut := offs[1]; cut <= len(file); cut++ {
		got, err := openAll(t, []string{"-"}, OpenOptions{Stdin: bytes.NewReader(file[:cut])})
		block := 0 // the block the cut is in, or the one it comes before
		for block+1 < len(offs) && offs[block+1] <= cut {
			block++
		}
		whole := max(0, block-3)
		checkPackets(t, got, recs[:whole], 0)
		want := ""
		switch {
		case cut == offs[block]:
		case cut < offs[block]+8:
			want = fmt.Sprintf(`capture: "-": packet %d at byte %d: truncated block header (unexpected EOF)`, whole+1, offs[block])
		default:
			want = fmt.Sprintf(`capture: "-": packet %d at byte %d: truncated block (unexpected EOF)`, whole+1, offs[block])
		}
		if fmt.Sprint(err) != want && !(want == "" && err == nil) {
			t.Errorf("cut at %d: error %v, want %s", cut, err, want)
		}
	}
}

// TestDamageGzip cuts a compressed file at every byte: whatever comes out
// must be a prefix of the packets, and every error must be ours.
func TestDamageGzip(t *testing.T) {
	recs := someRecs(6)
	for _, file := range [][]byte{
		gz(pcapFile(t, binary.BigEndian, false, layers.LinkTypeEthernet, recs)),
		gz(pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, recs)),
	} {
		for cut := 1; cut <= len(file); cut++ {
			got, err := openAll(t, []string{"-"}, OpenOptions{Stdin: bytes.NewReader(file[:cut])})
			if cut == len(file) && (err != nil || len(got) != len(recs)) {
				t.Fatalf("whole file: %d packets, %v", len(got), err)
			}
			if cut < len(file) && err == nil {
				t.Errorf("cut at %d of %d: no error", cut, len(file))
			}
			if err != nil && !strings.HasPrefix(err.Error(), `capture: "-": `) {
				t.Errorf("cut at %d: error %q", cut, err)
			}
			if len(got) > len(recs) {
				t.Fatalf("cut at %d: %d packets", cut, len(got))
			}
			for i := range got {
				if !bytes.Equal(got[i].Data, recs[i].data) {
					t.Fatalf("cut at %d: packet %d differs", cut, i+1)
				}
			}
		}
	}
	// A bad checksum in the trailer.
	file := gz(pcapFile(t, binary.LittleEndian, false, layers.LinkTypeEthernet, recs))
	file = with(file, len(file)-8, ^file[len(file)-8])
	got, err := openAll(t, []string{"-"}, OpenOptions{Stdin: bytes.NewReader(file)})
	if !errors.Is(err, gzip.ErrChecksum) || len(got) > len(recs) {
		t.Errorf("bad checksum: %d packets, %v", len(got), err)
	}
}

// TestDamageLengths corrupts the lengths in record and block headers. The
// reader must stop there with an error, after the packets before, without
// allocating what the corrupt length asks for.
func TestDamageLengths(t *testing.T) {
	recs := someRecs(3)
	pcap := pcapFile(t, binary.LittleEndian, false, layers.LinkTypeEthernet, recs)
	rec2 := 24 + 16 + len(recs[0].data) // where the second record starts
	ng := pcapngFile(t, []layers.LinkType{layers.LinkTypeEthernet}, recs)
	epb2 := blockOffsets(t, ng)[3]
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	for _, tt := range []struct {
		name string
		file []byte
		msg  string
	}{
		{"pcap caplen 2 GiB", with(pcap, rec2+8, le32(0x7fffffff)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: record length 2147483647 exceeds the limit of 262144`, rec2)},
		{"pcap caplen 4 GiB, snaplen 4 GiB", with(with(pcap, 16, le32(0xffffffff)...), rec2+8, cat(le32(0xfffffff0), le32(0xfffffff0))...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: record length 4294967280 exceeds the limit of 262144`, rec2)},
		{"pcap caplen > length", with(pcap, rec2+12, le32(10)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: captured length %d exceeds packet length 10`, rec2, len(recs[1].data))},
		{"pcapng caplen 4 GiB", with(ng, epb2+20, le32(0xffffff00)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: captured length 4294967040 exceeds the limit of 262144`, epb2)},
		{"pcapng caplen past block", with(ng, epb2+20, le32(1000)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: captured length 1000 does not fit in a block of 128 bytes`, epb2)},
		{"pcapng block length 4 GiB", with(ng, epb2+4, le32(0xfffffff0)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: block length 4294967280 exceeds the limit of 1310720`, epb2)},
		{"pcapng block length odd", with(ng, epb2+4, le32(127)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: bad block length 127`, epb2)},
		{"pcapng block length 8", with(ng, epb2+4, le32(8)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: bad block length 8`, epb2)},
		{"pcapng epb too short", with(ng, epb2+4, le32(28)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: block length 28 too short for block type 6`, epb2)},
		{"pcapng unknown interface", with(ng, epb2+8, le32(7)...),
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: malformed block (interface id 7 not present in section (have only 1 interfaces))`, epb2)},
		{"pcapng skipped block 4 GiB", with(ng, epb2, cat(le32(0x0bad), le32(0xfffffff0))...), // a custom block, skipped to the end
			fmt.Sprintf(`capture: "-": packet 2 at byte %d: truncated block (unexpected EOF)`, epb2)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := openAll(t, []string{"-"}, OpenOptions{Stdin: bytes.NewReader(tt.file)})
			runtime.ReadMemStats(&after)
			checkPackets(t, got, recs[:1], 0)
			if fmt.Sprint(err) != tt.msg {
				t.Errorf("error:\n got %v\nwant %s", err, tt.msg)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
				t.Errorf("allocated %d bytes", n)
			}
		})
	}
}

// TestDamageMerged checks that damage in one of several files stops the
// timeline right there, after every earlier packet of that file.
func TestDamageMerged(t *testing.T) {
	recs := someRecs(6)
	var a, b []rec // alternate packets
	for i, r := range recs {
		if i%2 == 0 {
			a = append(a, r)
		} else {
			b = append(b, r)
		}
	}
	dir := t.TempDir()
	fa := pcapFile(t, binary.LittleEndian, false, layers.LinkTypeEthernet, a)
	fb := pcapFile(t, binary.LittleEndian, false, layers.LinkTypeEthernet, b)
	cut := 24 + 16 + len(b[0].data) + 10 // in the second record of b
	paths := []string{writeFile(t, dir, "a.pcap", fa), writeFile(t, dir, "b.pcap", fb[:cut])}
	got, err := openAll(t, paths, OpenOptions{})
	// a0 b0, then b1 is broken. Its timestamp is lost with it, so a1,
	// though earlier than b1 was, is after the last packet known good.
	if len(got) != 2 || !bytes.Equal(got[1].Data, b[0].data) {
		t.Errorf("read %d packets before the damage, want 2", len(got))
	}
	want := fmt.Sprintf(`capture: %q: packet 2 at byte %d: truncated record header (unexpected EOF)`, paths[1], 24+16+len(b[0].data))
	if fmt.Sprint(err) != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

// TestProgressConcurrent calls Progress while Next runs; run with -race.
func TestProgressConcurrent(t *testing.T) {
	file := pcapFile(t, binary.LittleEndian, false, layers.LinkTypeEthernet, someRecs(2000))
	src, err := Open([]string{"-"}, OpenOptions{Stdin: bytes.NewReader(file)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_ = src.Progress()
		}
	}()
	if _, err := readAll(t, src); err != nil {
		t.Fatal(err)
	}
	<-done
	if p := src.Progress(); p.Packets != 2000 || p.Bytes != int64(len(file)) {
		t.Errorf("progress = %+v", p)
	}
}

func BenchmarkRead(b *testing.B) {
	const n = 10000
	recs := someRecs(n)
	var size int64
	for _, r := range recs {
		size += int64(len(r.data))
	}
	dir := b.TempDir()
	pcap := pcapFile(b, binary.LittleEndian, true, layers.LinkTypeEthernet, recs)
	ng := pcapngFile(b, []layers.LinkType{layers.LinkTypeEthernet}, recs)
	for _, bb := range []struct {
		name   string
		paths  []string
		decode bool
	}{
		{"pcap", []string{writeFile(b, dir, "a.pcap", pcap)}, false},
		{"pcap+decode", []string{filepath.Join(dir, "a.pcap")}, true},
		{"pcapng", []string{writeFile(b, dir, "a.pcapng", ng)}, false},
		{"pcap.gz", []string{writeFile(b, dir, "a.pcap.gz", gz(pcap))}, false},
		{"merge2", []string{filepath.Join(dir, "a.pcap"), filepath.Join(dir, "a.pcapng")}, false},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size * int64(len(bb.paths)))
			var d Decoder
			var s Segment
			var p Packet
			for b.Loop() {
				src, err := Open(bb.paths, OpenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					err := src.Next(&p)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if bb.decode {
						d.Decode(p.LinkType, p.Data, &s)
					}
				}
				src.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*len(bb.paths)), "ns/packet")
		})
	}

	// The floor: pcapgo's readers on a buffered file, with no checks,
	// numbering or merging.
	for _, bb := range []struct {
		name string
		path string
		open func(io.Reader) (gopacket.ZeroCopyPacketDataSource, error)
	}{
		{"baseline-pcapgo", filepath.Join(dir, "a.pcap"), func(r io.Reader) (gopacket.ZeroCopyPacketDataSource, error) {
			return pcapgo.NewReader(r)
		}},
		{"baseline-pcapgo-ng", filepath.Join(dir, "a.pcapng"), func(r io.Reader) (gopacket.ZeroCopyPacketDataSource, error) {
			return pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				f, err := os.Open(bb.path)
				if err != nil {
					b.Fatal(err)
				}
				r, err := bb.open(bufio.NewReaderSize(f, fileBufSize))
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, _, err := r.ZeroCopyReadPacketData()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/packet")
		})
	}
}
