package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// damagedCommands are the commands every damaged input goes through.
var damagedCommands = [][]string{
	{"netstat"},
	{"conns", "--json"},
	{"ladder"},
}

// damageCase is one damaged (or deliberately odd but valid) input.
type damageCase struct {
	name  string
	files []string         // the -r arguments
	stdin func() io.Reader // what -r - reads; nil for none
	code  int              // the exit code README.md documents
	// errFile is the name the error must quote (%q); empty: the last of
	// files.
	errFile string
	// where are more substrings of the error line: the packet and byte
	// offset where reading went wrong, the reason.
	where []string
	// prefix are the -r arguments of clean captures that must give the
	// same standard output: the intact part before the damage. nil: standard
	// output must be empty (exit code 1).
	prefix []string
	// summary, when set, is a substring the summary line (without -q) must
	// hold.
	summary string
	// maxAlloc, when set, bounds the bytes the run may allocate: a corrupt
	// length must not make the reader allocate what it claims.
	maxAlloc uint64
	skip     string
}

// TestDamagedInputs runs netstat, conns --json and ladder over damaged
// captures and checks the promises of README.md's "Exit codes": exit 1 when
// a capture cannot be opened, exit 2 when it breaks off, with everything
// before the damage printed; one error line naming the file and where it
// went wrong; no panic.
func TestDamagedInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var cases []damageCase
	add := func(c damageCase) { cases = append(cases, c) }

	// pcap: cut at several points of a small and a larger capture, and of
	// a big-endian nanosecond copy of the small one.
	hsData := readSample(t, "handshake-close.pcap")
	ksData := readSample(t, "kernel-states.pcap")
	beData := toBigEndianNanos(t, hsData)
	pcaps := []struct {
		name string
		data []byte
	}{
		{"handshake-close.pcap", hsData},
		{"kernel-states.pcap", ksData},
		{"handshake-close-be-ns.pcap", beData},
	}
	for _, p := range pcaps {
		recs := pcapLayout(t, p.data)
		last := len(recs)
		for _, n := range []int{1, 2, last / 2, last} {
			r := recs[n-1]
			prefix := writePcapPrefix(t, dir, p.name, p.data, n-1, 0)
			at := fmt.Sprintf("packet %d at byte %d: ", n, r.off)
			cuts := []struct {
				name string
				cut  int
				what string
			}{
				{"record-header-1", r.off + 1, "truncated record header"},
				{"record-header-15", r.off + pcapRecordHeader - 1, "truncated record header"},
				{"record-no-data", r.off + pcapRecordHeader, "truncated record"},
				{"record-data-half", r.off + pcapRecordHeader + r.caplen/2, "truncated record"},
				{"record-data-last-byte", r.end() - 1, "truncated record"},
			}
			for _, c := range cuts {
				name := fmt.Sprintf("%s/cut-%s-of-%d", p.name, c.name, n)
				add(damageCase{
					name:   name,
					files:  []string{write(safeName(name), p.data[:c.cut])},
					code:   exitDamaged,
					where:  []string{at + c.what},
					prefix: []string{prefix},
				})
			}
			// A cut between two records is a clean, shorter capture.
			name := fmt.Sprintf("%s/cut-after-%d", p.name, n)
			add(damageCase{
				name:   name,
				files:  []string{write(safeName(name), p.data[:r.end()])},
				code:   exitOK,
				prefix: []string{writePcapPrefix(t, dir, p.name, p.data, n, 0)},
			})
		}
		for _, cut := range []int{1, 4, 8, pcapFileHeader - 1} {
			name := fmt.Sprintf("%s/cut-file-header-%d", p.name, cut)
			c := damageCase{
				name:  name,
				files: []string{write(safeName(name), p.data[:cut])},
				code:  exitError,
			}
			if cut >= 4 { // shorter, the magic number is not there to say it is pcap
				c.where = []string{"truncated file header"}
			}
			add(c)
		}
		// Only the file header: a capture without packets.
		name := p.name + "/header-only"
		add(damageCase{
			name:   name,
			files:  []string{write(safeName(name), p.data[:pcapFileHeader])},
			code:   exitOK,
			prefix: []string{writePcapPrefix(t, dir, p.name, p.data, 0, 0)},
		})
	}

	// pcap: corrupt record lengths, in the middle of kernel-states.pcap.
	{
		recs := pcapLayout(t, ksData)
		n := len(recs) / 2
		r := recs[n-1]
		prefix := writePcapPrefix(t, dir, "kernel-states.pcap", ksData, n-1, 0)
		at := fmt.Sprintf("packet %d at byte %d: ", n, r.off)
		corrupt := func(name string, caplen, length uint32, snaplen uint32, code int, where string, prefix string, maxAlloc uint64) {
			d := bytes.Clone(ksData)
			if snaplen != 0 {
				binary.LittleEndian.PutUint32(d[16:], snaplen)
			}
			binary.LittleEndian.PutUint32(d[r.off+8:], caplen)
			binary.LittleEndian.PutUint32(d[r.off+12:], length)
			c := damageCase{
				name:     "kernel-states.pcap/" + name,
				files:    []string{write("corrupt-"+name+".pcap", d)},
				code:     code,
				prefix:   []string{prefix},
				maxAlloc: maxAlloc,
			}
			if where != "" {
				c.where = []string{at + where}
			}
			add(c)
		}
		orig := uint32(r.caplen)
		corrupt("caplen-huge", 0xfffffff0, 0xfffffff0, 0, exitDamaged, "record length 4294967280 exceeds the limit of 262144", prefix, 64<<20)
		corrupt("caplen-2GiB", 0x7fffffff, 0x7fffffff, 0, exitDamaged, "record length 2147483647 exceeds the limit of 262144", prefix, 64<<20)
		corrupt("caplen-over-snaplen-limit", 262145, 262145, 0, exitDamaged, "record length 262145 exceeds the limit of 262144", prefix, 64<<20)
		// Over the file's snaplen but under the limit, as libpcap reads
		// it: here the record claims more than the rest of the file.
		corrupt("caplen-over-snaplen-past-eof", 65536, 65536, 65535, exitDamaged, "truncated record", prefix, 64<<20)
		corrupt("caplen-over-length", orig+1, orig, 0, exitDamaged, fmt.Sprintf("captured length %d exceeds packet length %d", orig+1, orig), prefix, 0)
		corrupt("caplen-over-length-huge", orig, 0, 0, exitDamaged, fmt.Sprintf("captured length %d exceeds packet length 0", orig), prefix, 0)
		// A writer that did not cut its records to the snaplen it declared
		// (dpkt does this): tcpdump and Wireshark read them whole, and so
		// does tcpstate.
		d := bytes.Clone(ksData)
		binary.LittleEndian.PutUint32(d[16:], 64)
		add(damageCase{
			name:   "kernel-states.pcap/records-over-declared-snaplen",
			files:  []string{write("snaplen-64.pcap", d)},
			code:   exitOK,
			prefix: []string{sample("kernel-states.pcap")},
		})
	}

	// Unknown link types: every packet is counted as skipped.
	{
		d := bytes.Clone(hsData)
		binary.LittleEndian.PutUint32(d[20:], 147) // LINKTYPE_USER0
		add(damageCase{
			name:    "unknown-link-type/pcap-user0",
			files:   []string{write("user0.pcap", d)},
			code:    exitOK,
			prefix:  []string{writePcapPrefix(t, dir, "handshake-close.pcap", hsData, 0, 0)},
			summary: "tcpstate: 10 packets, 0 TCP segments, 0 connections (0 not closed at the end); skipped 10 unknown link type",
		})
		ng := readSample(t, "server-close.pcapng")
		blocks := ngLayout(t, ng)
		idb := blocks[1]
		if idb.typ != 1 {
			t.Fatalf("server-close.pcapng: block 2 is type %d, want an interface description", idb.typ)
		}
		d = bytes.Clone(ng)
		binary.LittleEndian.PutUint16(d[idb.off+8:], 147)
		add(damageCase{
			name:    "unknown-link-type/pcapng-user0",
			files:   []string{write("user0.pcapng", d)},
			code:    exitOK,
			prefix:  []string{write("server-close-no-packets.pcapng", ng[:blocks[2].off])},
			summary: "skipped 10 unknown link type",
		})
	}

	// pcapng.
	for _, s := range []string{"server-close.pcapng", "half-open-flood.pcapng"} {
		ng := readSample(t, s)
		blocks := ngLayout(t, ng)
		packets := ngPacketBlocks(blocks)
		clean := func(n int) string { // the first n packets, cut at a block boundary
			if n == 0 {
				return write(s+"-0.pcapng", ng[:packets[0].off])
			}
			return write(fmt.Sprintf("%s-%d.pcapng", s, n), ng[:packets[n-1].end()])
		}
		for _, n := range []int{1, 2, len(packets) / 2, len(packets)} {
			b := packets[n-1]
			at := fmt.Sprintf("packet %d at byte %d: ", n, b.off)
			prefix := clean(n - 1)
			cuts := []struct {
				name string
				cut  int
				what string
			}{
				{"block-header-4", b.off + 4, "truncated block header"},
				{"block-fixed-fields", b.off + 12, "truncated block"},
				{"block-data", b.off + 30, "truncated block"},
				{"block-trailer", b.end() - 2, "truncated block"},
			}
			for _, c := range cuts {
				name := fmt.Sprintf("%s/cut-%s-of-%d", s, c.name, n)
				add(damageCase{
					name:   name,
					files:  []string{write(safeName(name), ng[:c.cut])},
					code:   exitDamaged,
					where:  []string{at + c.what},
					prefix: []string{prefix},
				})
			}
			malformed := []struct {
				name  string
				patch func(d []byte)
				what  string
			}{
				{"length-8", func(d []byte) { put32(d, b.off+4, 8) }, "bad block length 8"},
				{"length-not-multiple-of-4", func(d []byte) { put32(d, b.off+4, uint32(b.length+2)) }, fmt.Sprintf("bad block length %d", b.length+2)},
				{"length-huge", func(d []byte) { put32(d, b.off+4, 0xfffffff0) }, "block length 4294967280 exceeds the limit"},
				{"length-too-short", func(d []byte) { put32(d, b.off+4, 24) }, "block length 24 too short for block type 6"},
				{"caplen-past-block", func(d []byte) { put32(d, b.off+20, uint32(b.length)) }, fmt.Sprintf("captured length %d does not fit in a block of %d bytes", b.length, b.length)},
				{"caplen-huge", func(d []byte) { put32(d, b.off+20, 0xffffff00) }, "captured length 4294967040 exceeds the limit of 262144"},
				{"interface-id", func(d []byte) { put32(d, b.off+8, 7) }, ""},
				{"trailer-mismatch", func(d []byte) { put32(d, b.end()-4, uint32(b.length-4)) }, ""},
				{"trailer-zero", func(d []byte) { put32(d, b.end()-4, 0) }, ""},
			}
			for _, m := range malformed {
				if strings.HasPrefix(m.name, "trailer") && n != len(packets)/2 {
					continue // one place is enough
				}
				d := bytes.Clone(ng)
				m.patch(d)
				name := fmt.Sprintf("%s/malformed-%s-at-%d", s, m.name, n)
				add(damageCase{
					name:     name,
					files:    []string{write(safeName(name), d)},
					code:     exitDamaged,
					where:    []string{at + m.what},
					prefix:   []string{prefix},
					maxAlloc: 64 << 20,
				})
			}
		}
		// Cut inside the section header: the file cannot be opened.
		for _, cut := range []int{4, 10, blocks[0].end() - 1} {
			name := fmt.Sprintf("%s/cut-in-section-header-at-%d", s, cut)
			add(damageCase{
				name:  name,
				files: []string{write(safeName(name), ng[:cut])},
				code:  exitError,
			})
		}
		// Cut inside the interface description: a section header alone is
		// a capture without packets, and what follows it is damaged.
		shbOnly := write(s+"-shb.pcapng", ng[:blocks[0].end()])
		for _, cut := range []int{blocks[1].off + 6, blocks[1].off + 12, blocks[1].end() - 1} {
			name := fmt.Sprintf("%s/cut-in-interface-at-%d", s, cut)
			what := "truncated block"
			if cut < blocks[1].off+8 {
				what = "truncated block header"
			}
			add(damageCase{
				name:   name,
				files:  []string{write(safeName(name), ng[:cut])},
				code:   exitDamaged,
				where:  []string{fmt.Sprintf("packet 1 at byte %d: %s", blocks[1].off, what)},
				prefix: []string{shbOnly},
			})
		}
		// Header blocks only: a capture without packets.
		name := s + "/no-packets"
		add(damageCase{
			name:   name,
			files:  []string{write(safeName(name), ng[:packets[0].off])},
			code:   exitOK,
			prefix: []string{clean(0)},
		})

		// Blocks tcpstate does not need, known and unknown, big and
		// small, are skipped wherever they are.
		mid := packets[len(packets)/2].off
		extra := [][]byte{
			ngBlock(0x00000bad, 20),     // custom block
			ngBlock(0x40000bad, 0),      // custom block, not to be copied
			ngBlock(0x0bad0bad, 100),    // unknown
			ngBlock(4, 8),               // name resolution
			ngBlock(5, 12),              // interface statistics
			ngBlock(0x0000000a, 16),     // decryption secrets
			ngBlock(0x7fffffff, 1<<20),  // unknown, bigger than every buffer
			ngBlock(0x00000bad, 300000), // bigger than a packet may be
		}
		for i, blk := range extra {
			for _, pos := range []struct {
				name string
				off  int
			}{{"after-idb", blocks[1].end()}, {"mid", mid}, {"end", len(ng)}} {
				d := append(append(append([]byte{}, ng[:pos.off]...), blk...), ng[pos.off:]...)
				name := fmt.Sprintf("%s/extra-block-%d-type-%#x-%s", s, i, binary.LittleEndian.Uint32(blk), pos.name)
				add(damageCase{
					name:     name,
					files:    []string{write(safeName(name), d)},
					code:     exitOK,
					prefix:   []string{sample(s)},
					maxAlloc: 64 << 20,
				})
			}
		}
		// A packet of the largest length taken, its block longer than
		// the reader's buffer: read whole when sound, refused when its
		// trailing length is wrong.
		{
			b := packets[len(packets)/2]
			k := len(packets) / 2
			big := bigEPB(ng[b.off:b.end()])
			d := append(append(append([]byte{}, ng[:b.off]...), big...), ng[b.end():]...)
			add(damageCase{
				name:     s + "/max-length-packet",
				files:    []string{write(s+"-max-length.pcapng", d)},
				code:     exitOK,
				prefix:   []string{sample(s)},
				maxAlloc: 64 << 20,
			})
			d = bytes.Clone(d)
			put32(d, b.off+len(big)-4, uint32(len(big)-4))
			add(damageCase{
				name:   s + "/max-length-packet-trailer-mismatch",
				files:  []string{write(s+"-max-length-trailer.pcapng", d)},
				code:   exitDamaged,
				where:  []string{fmt.Sprintf("packet %d at byte %d: ", k+1, b.off)},
				prefix: []string{clean(k)},
			})
		}
		// An unknown block cut short, and one with a bad length.
		blk := ngBlock(0x0bad0bad, 4096)
		d := append(append(append([]byte{}, ng[:mid]...), blk...), ng[mid:]...)
		k := len(packets) / 2 // packets before mid
		add(damageCase{
			name:   s + "/extra-block-cut",
			files:  []string{write(s+"-extra-cut.pcapng", d[:mid+100])},
			code:   exitDamaged,
			where:  []string{fmt.Sprintf("packet %d at byte %d: truncated block", k+1, mid)},
			prefix: []string{clean(k)},
		})
		put32(d, mid+4, 4098)
		add(damageCase{
			name:   s + "/extra-block-bad-length",
			files:  []string{write(s+"-extra-bad.pcapng", d)},
			code:   exitDamaged,
			where:  []string{fmt.Sprintf("packet %d at byte %d: bad block length 4098", k+1, mid)},
			prefix: []string{clean(k)},
		})
		put32(d, mid+4, uint32(len(blk)))
		put32(d, mid+len(blk)-4, 12)
		add(damageCase{
			name:   s + "/extra-block-trailer-mismatch",
			files:  []string{write(s+"-extra-trailer.pcapng", d)},
			code:   exitDamaged,
			where:  []string{fmt.Sprintf("packet %d at byte %d: ", k+1, mid)},
			prefix: []string{clean(k)},
		})
	}

	// gzip, cut mid-stream, and with a bad checksum.
	{
		gzSample := readSample(t, "handshake-close.pcap.gz")
		ksGz := gzipBytes(t, ksData)
		ngGz := gzipBytes(t, readSample(t, "half-open-flood.pcapng"))
		gzs := []struct {
			name  string
			data  []byte
			pcap  []byte // the decompressed data, for pcap
			ngRaw []byte // the decompressed data, for pcapng
		}{
			{"handshake-close.pcap.gz", gzSample, hsData, nil},
			{"kernel-states.pcap.gz", ksGz, ksData, nil},
			{"half-open-flood.pcapng.gz", ngGz, nil, readSample(t, "half-open-flood.pcapng")},
		}
		for _, g := range gzs {
			if raw := gunzip(t, g.data); !bytes.Equal(raw, g.pcap) && !bytes.Equal(raw, g.ngRaw) {
				t.Fatalf("%s does not hold the capture it is meant to", g.name)
			}
			for _, cut := range []int{5, 12, len(g.data) / 3, len(g.data) / 2, 2 * len(g.data) / 3, len(g.data) - 9, len(g.data) - 4, len(g.data) - 1} {
				name := fmt.Sprintf("%s/cut-at-%d", g.name, cut)
				path := write(safeName(name), g.data[:cut])
				raw := gunzip(t, g.data[:cut]) // all that can be decompressed
				c := damageCase{name: name, files: []string{path}}
				switch {
				case g.pcap != nil && len(raw) >= pcapFileHeader:
					n, off := completeRecords(t, raw)
					c.code = exitDamaged
					c.where = []string{fmt.Sprintf("packet %d at byte %d: ", n+1, off)}
					c.prefix = []string{writePcapPrefix(t, dir, g.name, g.pcap, n, 0)}
				case g.ngRaw != nil && len(raw) >= ngLayout(t, g.ngRaw)[0].end():
					// From the end of the section header on, the file
					// opens, and what breaks off is damage.
					n, off := completeBlocks(t, raw)
					c.code = exitDamaged
					c.where = []string{fmt.Sprintf("packet %d at byte %d: ", n+1, off)}
					c.prefix = []string{write(safeName(name)+"-clean.pcapng", raw[:off])}
				default:
					c.code = exitError // not even the file header
				}
				add(c)
			}
			d := bytes.Clone(g.data)
			d[len(d)-8] ^= 0xff // the CRC-32
			add(damageCase{
				name:   g.name + "/bad-checksum",
				files:  []string{write(g.name+"-bad-crc.gz", d)},
				code:   exitDamaged,
				where:  []string{"checksum"},
				prefix: []string{gunzipTo(t, dir, g.name, g.data)},
			})
		}
	}

	// pcapng in both byte orders, with several interfaces of different
	// link types, and every kind of packet block: the byte order changes
	// nothing.
	{
		le, leOffs := mixedPcapng(t, binary.LittleEndian, false)
		be, beOffs := mixedPcapng(t, binary.BigEndian, false)
		lePath := write("mixed-le.pcapng", le)
		add(damageCase{
			name:   "mixed-pcapng/big-endian",
			files:  []string{write("mixed-be.pcapng", be)},
			code:   exitOK,
			prefix: []string{lePath},
		})
		for _, n := range []int{1, 11, len(beOffs) / 2, len(beOffs)} {
			off := beOffs[n-1]
			name := fmt.Sprintf("mixed-pcapng/big-endian-cut-in-%d", n)
			add(damageCase{
				name:   name,
				files:  []string{write(safeName(name), be[:off+21])},
				code:   exitDamaged,
				where:  []string{fmt.Sprintf("packet %d at byte %d: truncated block", n, off)},
				prefix: []string{write(safeName(name)+"-clean-le.pcapng", le[:leOffs[n-1]])},
			})
		}
		// A simple packet block has no timestamp (pcapng section 4.4):
		// its packet is taken to come at the time of the one before it,
		// not at the zero time, 2026 years before the capture.
		for _, order := range []appendByteOrder{binary.LittleEndian, binary.BigEndian} {
			spb, _ := mixedPcapng(t, order, true)
			add(damageCase{
				name:   "mixed-pcapng/simple-packet-block-time-" + order.String(),
				files:  []string{write("mixed-spb-"+order.String()+".pcapng", spb)},
				code:   exitOK,
				prefix: []string{lePath},
			})
		}
	}

	// Files that cannot be opened.
	{
		add(damageCase{name: "open/empty", files: []string{write("empty.pcap", nil)}, code: exitError, where: []string{"empty file"}})
		add(damageCase{name: "open/text", files: []string{write("notes.txt", []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))}, code: exitError, where: []string{"not a pcap or pcapng file"}})
		add(damageCase{name: "open/one-byte", files: []string{write("one.pcap", []byte{0xd4})}, code: exitError})
		add(damageCase{name: "open/binary", files: []string{write("random.bin", bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 1000))}, code: exitError, where: []string{"not a pcap or pcapng file"}})
		add(damageCase{name: "open/gzip-of-text", files: []string{write("notes.txt.gz", gzipBytes(t, []byte("hello, world\n")))}, code: exitError, where: []string{"not a pcap or pcapng file"}})
		add(damageCase{name: "open/gzip-of-nothing", files: []string{write("nothing.gz", gzipBytes(t, nil))}, code: exitError, where: []string{"empty"}})
		add(damageCase{name: "open/gzip-in-gzip", files: []string{write("twice.pcap.gz.gz", gzipBytes(t, readSample(t, "handshake-close.pcap.gz")))}, code: exitError, where: []string{"not a pcap or pcapng file"}})
		bad := bytes.Clone(hsData)
		binary.LittleEndian.PutUint16(bad[4:], 3)
		add(damageCase{name: "open/pcap-version", files: []string{write("version.pcap", bad)}, code: exitError, where: []string{"unsupported pcap version"}})
		sub := filepath.Join(dir, "a-directory")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		add(damageCase{name: "open/directory", files: []string{sub}, code: exitError, where: []string{"is a directory"}})
		add(damageCase{name: "open/missing", files: []string{filepath.Join(dir, "missing.pcap")}, code: exitError, where: []string{"no such file or directory"}})
		locked := write("locked.pcap", hsData)
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		c := damageCase{name: "open/unreadable", files: []string{locked}, code: exitError, where: []string{"permission denied"}}
		switch {
		case runtime.GOOS == "windows":
			c.skip = "chmod 000 does not make a file unreadable on Windows"
		case os.Geteuid() == 0:
			c.skip = "running as root, which reads a chmod 000 file anyway: the unreadable case cannot be made"
		}
		add(c)
		// A file that opens but cannot be read: on Linux, this process's
		// memory, whose address 0 is not mapped; readable as root too.
		c = damageCase{name: "open/read-error", files: []string{"/proc/self/mem"}, code: exitError, where: []string{"input/output error"}}
		if runtime.GOOS != "linux" {
			c.skip = "needs Linux's /proc/self/mem for a file that fails to read"
		}
		add(c)
		// The error names the file that failed, and nothing is printed
		// for the good one before it.
		add(damageCase{name: "open/good-then-missing", files: []string{sample("handshake-close.pcap"), filepath.Join(dir, "missing2.pcap")}, code: exitError})
		add(damageCase{name: "open/good-then-text", files: []string{sample("handshake-close.pcap"), filepath.Join(dir, "notes.txt")}, code: exitError, where: []string{"not a pcap or pcapng file"}})
	}

	// Standard input that ends early or fails.
	{
		recs := pcapLayout(t, ksData)
		n := len(recs) / 2
		r := recs[n-1]
		prefix := writePcapPrefix(t, dir, "kernel-states.pcap", ksData, n-1, 0)
		at := fmt.Sprintf("packet %d at byte %d: ", n, r.off)
		ioErr := errors.New("read /dev/stdin: input/output error")
		stdinCases := []struct {
			name  string
			cut   int
			err   error
			where string
		}{
			{"eof-in-record-header", r.off + 7, io.EOF, at + "truncated record header"},
			{"eof-in-record-data", r.off + pcapRecordHeader + 3, io.EOF, at + "truncated record"},
			{"unexpected-eof-in-record-header", r.off + 7, io.ErrUnexpectedEOF, at + "truncated record header"},
			{"unexpected-eof-in-record-data", r.off + pcapRecordHeader + 3, io.ErrUnexpectedEOF, at + "truncated record"},
			{"unexpected-eof-between-records", r.off, io.ErrUnexpectedEOF, at},
			{"io-error-between-records", r.off, ioErr, at + "read /dev/stdin: input/output error"},
			{"io-error-in-record-data", r.off + pcapRecordHeader + 3, ioErr, at + "read /dev/stdin: input/output error"},
		}
		for _, sc := range stdinCases {
			data, err := ksData[:sc.cut], sc.err
			add(damageCase{
				name:    "stdin/" + sc.name,
				files:   []string{"-"},
				stdin:   func() io.Reader { return &failingReader{data: data, err: err} },
				code:    exitDamaged,
				errFile: "-",
				where:   []string{sc.where},
				prefix:  []string{prefix},
			})
		}
		add(damageCase{
			name:    "stdin/eof-in-file-header",
			files:   []string{"-"},
			stdin:   func() io.Reader { return &failingReader{data: ksData[:10], err: io.EOF} },
			code:    exitError,
			errFile: "-",
			where:   []string{"truncated file header"},
		})
		add(damageCase{
			name:    "stdin/nothing",
			files:   []string{"-"},
			stdin:   func() io.Reader { return strings.NewReader("") },
			code:    exitError,
			errFile: "-",
			where:   []string{"empty file"},
		})
		// Readers that hand out data a byte at a time, or with the error
		// and the last data together, are no damage.
		add(damageCase{
			name:   "stdin/one-byte-reads",
			files:  []string{"-"},
			stdin:  func() io.Reader { return iotest.OneByteReader(bytes.NewReader(ksData)) },
			code:   exitOK,
			prefix: []string{sample("kernel-states.pcap")},
		})
		add(damageCase{
			name:   "stdin/data-with-eof",
			files:  []string{"-"},
			stdin:  func() io.Reader { return iotest.DataErrReader(bytes.NewReader(ksData)) },
			code:   exitOK,
			prefix: []string{sample("kernel-states.pcap")},
		})
		ng := readSample(t, "half-open-flood.pcapng")
		packets := ngPacketBlocks(ngLayout(t, ng))
		b := packets[len(packets)/2]
		add(damageCase{
			name:    "stdin/pcapng-eof-in-block",
			files:   []string{"-"},
			stdin:   func() io.Reader { return iotest.OneByteReader(&failingReader{data: ng[:b.off+40], err: io.EOF}) },
			code:    exitDamaged,
			errFile: "-",
			where:   []string{fmt.Sprintf("packet %d at byte %d: truncated block", len(packets)/2+1, b.off)},
			prefix:  []string{write("flood-clean-half.pcapng", ng[:b.off])},
		})
		add(damageCase{
			name:    "stdin/pcapng-io-error-between-blocks",
			files:   []string{"-"},
			stdin:   func() io.Reader { return &failingReader{data: ng[:b.off], err: ioErr} },
			code:    exitDamaged,
			errFile: "-",
			where:   []string{fmt.Sprintf("packet %d at byte %d: ", len(packets)/2+1, b.off), "input/output error"},
			prefix:  []string{write("flood-clean-half.pcapng", ng[:b.off])},
		})
		gz := gzipBytes(t, ksData)
		cut := gz[:len(gz)/2]
		raw := gunzip(t, cut)
		k, off := completeRecords(t, raw)
		add(damageCase{
			name:    "stdin/gzip-cut",
			files:   []string{"-"},
			stdin:   func() io.Reader { return bytes.NewReader(cut) },
			code:    exitDamaged,
			errFile: "-",
			where:   []string{fmt.Sprintf("packet %d at byte %d: ", k+1, off)},
			prefix:  []string{writePcapPrefix(t, dir, "kernel-states.pcap", ksData, k, 0)},
		})
	}

	// Several files, merged by time, one of them damaged. The second file
	// is kernel-states.pcap moved to after the end of handshake-close.pcap,
	// so that the merged timeline is the first file, then the second.
	{
		first := sample("handshake-close.pcap")
		hsTimes := pcapTimes(t, hsData)
		shift := hsTimes[len(hsTimes)-1].Sub(pcapTimes(t, ksData)[0]) + time.Hour
		later := writePcapPrefix(t, dir, "kernel-states-later.pcap", ksData, -1, shift)
		laterData, err := os.ReadFile(later)
		if err != nil {
			t.Fatal(err)
		}
		recs := pcapLayout(t, laterData)
		for _, n := range []int{1, len(recs) / 2, len(recs)} {
			r := recs[n-1]
			name := fmt.Sprintf("several/second-cut-in-%d", n)
			cutPath := write(safeName(name), laterData[:r.off+pcapRecordHeader+2])
			add(damageCase{
				name:   name,
				files:  []string{first, cutPath},
				code:   exitDamaged,
				where:  []string{fmt.Sprintf("packet %d at byte %d: truncated record", n, r.off)},
				prefix: []string{first, writePcapPrefix(t, dir, "kernel-states-later.pcap", ksData, n-1, shift)},
			})
		}
		// Three files, the damaged one in the middle of the list but last
		// in time.
		r := recs[len(recs)/2]
		cutPath := write("several-middle.pcap", laterData[:r.off+5])
		add(damageCase{
			name:    "several/middle-of-three",
			files:   []string{first, cutPath, sample("handshake-close.pcap.gz")},
			code:    exitDamaged,
			errFile: cutPath,
			where:   []string{fmt.Sprintf("packet %d at byte %d: truncated record header", len(recs)/2+1, r.off)},
			prefix:  []string{first, writePcapPrefix(t, dir, "kernel-states-later.pcap", ksData, len(recs)/2, shift), sample("handshake-close.pcap.gz")},
		})
		// The first file damaged: the timeline stops at its last good
		// packet (capture.Source), before the later file begins.
		hsRecs := pcapLayout(t, hsData)
		h := hsRecs[4]
		cutFirst := write("several-first-cut.pcap", hsData[:h.off+20])
		add(damageCase{
			name:    "several/first-cut",
			files:   []string{cutFirst, later},
			code:    exitDamaged,
			errFile: cutFirst,
			where:   []string{fmt.Sprintf("packet 5 at byte %d: truncated record", h.off)},
			prefix:  []string{writePcapPrefix(t, dir, "handshake-close.pcap", hsData, 4, 0)},
		})
		// The same capture twice, the second copy cut: packets alternate
		// between the copies, and the timeline stops at the second copy's
		// last good packet, as if both copies ended there.
		if !increasing(hsTimes) {
			t.Fatal("handshake-close.pcap has packets with equal times: the copies would not alternate")
		}
		cutCopy := write("several-copy-cut.pcap", hsData[:h.off+3])
		p4 := writePcapPrefix(t, dir, "handshake-close.pcap", hsData, 4, 0)
		add(damageCase{
			name:   "several/same-capture-second-cut",
			files:  []string{first, cutCopy},
			code:   exitDamaged,
			where:  []string{fmt.Sprintf("packet 5 at byte %d: truncated record header", h.off)},
			prefix: []string{p4, p4},
		})
		// A damaged pcapng after a good pcap, moved to before it.
		ng := readSample(t, "server-close.pcapng")
		packets := ngPacketBlocks(ngLayout(t, ng))
		b := packets[3]
		ngCut := write("several-ng-cut.pcapng", ng[:b.off+9])
		refused := readSample(t, "refused.pcap")
		earlier := writePcapPrefix(t, dir, "refused-earlier.pcap", refused, -1, -time.Hour)
		add(damageCase{
			name:   "several/pcapng-second-cut",
			files:  []string{earlier, ngCut},
			code:   exitDamaged,
			where:  []string{fmt.Sprintf("packet 4 at byte %d: truncated block", b.off)},
			prefix: []string{earlier, write("several-ng-clean.pcapng", ng[:b.off])},
		})
		// Standard input as the damaged second file.
		stdinCut := laterData[:r.off+pcapRecordHeader+1]
		add(damageCase{
			name:    "several/stdin-second-cut",
			files:   []string{first, "-"},
			stdin:   func() io.Reader { return bytes.NewReader(stdinCut) },
			code:    exitDamaged,
			errFile: "-",
			where:   []string{fmt.Sprintf("packet %d at byte %d: truncated record", len(recs)/2+1, r.off)},
			prefix:  []string{first, writePcapPrefix(t, dir, "kernel-states-later.pcap", ksData, len(recs)/2, shift)},
		})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				t.Skip(c.skip)
			}
			for _, cmd := range damagedCommands {
				checkDamaged(t, cmd, c)
			}
		})
	}
}

// checkDamaged runs one command over one damaged input.
func checkDamaged(t *testing.T, cmd []string, c damageCase) {
	t.Helper()
	args := append(append([]string{}, cmd...), "--color=never")
	for _, f := range c.files {
		args = append(args, "-r", f)
	}
	quiet := append(append([]string{}, args...), "-q")
	var stdin io.Reader = strings.NewReader("")
	if c.stdin != nil {
		stdin = c.stdin()
	}
	var before runtime.MemStats
	if c.maxAlloc > 0 {
		runtime.GC()
		runtime.ReadMemStats(&before)
	}
	out, errOut, code := runNoPanic(t, quiet, stdin)
	if c.maxAlloc > 0 {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > c.maxAlloc {
			t.Errorf("%s: allocated %d bytes, want at most %d", strings.Join(cmd, " "), n, c.maxAlloc)
		}
	}
	name := strings.Join(cmd, " ")
	if code != c.code {
		t.Errorf("%s: exit %d, want %d; stderr %q", name, code, c.code, errOut)
	}
	errLine := ""
	if c.code == exitOK {
		if errOut != "" {
			t.Errorf("%s -q: stderr %q, want nothing", name, errOut)
		}
	} else {
		errLine = checkErrorLine(t, name, errOut, c)
	}
	want := ""
	if c.prefix != nil {
		want = cleanOutput(t, cmd, c.prefix)
	}
	if out != want {
		t.Errorf("%s: stdout is not that of the intact part %v\n--- got\n%s\n--- want\n%s", name, c.prefix, out, want)
	}

	// Without -q the summary of what was read comes first, then the
	// error, the same line as with -q.
	if c.code == exitError {
		return
	}
	if c.stdin != nil {
		stdin = c.stdin()
	}
	out2, errOut2, code2 := runNoPanic(t, args, stdin)
	if out2 != out || code2 != code {
		t.Errorf("%s: -q changed stdout or the exit code (%d, %d)", name, code, code2)
	}
	lines := strings.Split(strings.TrimSuffix(errOut2, "\n"), "\n")
	wantLines := 1
	if c.code == exitDamaged {
		wantLines = 2
	}
	if len(lines) != wantLines || !strings.HasPrefix(lines[0], "tcpstate: ") || !strings.Contains(lines[0], " packet") {
		t.Errorf("%s: stderr without -q\n%s\nwant the summary line%s", name, errOut2, map[bool]string{true: " and the error line", false: ""}[wantLines == 2])
		return
	}
	if wantLines == 2 && lines[1] != errLine {
		t.Errorf("%s: error line without -q %q, with -q %q", name, lines[1], errLine)
	}
	if c.summary != "" && !strings.Contains(lines[0], c.summary) {
		t.Errorf("%s: summary %q does not say %q", name, lines[0], c.summary)
	}
}

// checkErrorLine checks that stderr is one line starting "tcpstate: " that
// quotes the file and holds every c.where, and returns it.
func checkErrorLine(t *testing.T, name, errOut string, c damageCase) string {
	t.Helper()
	line, ok := strings.CutSuffix(errOut, "\n")
	if !ok || strings.Contains(line, "\n") || !strings.HasPrefix(line, "tcpstate: ") {
		t.Errorf("%s: stderr %q, want one line starting \"tcpstate: \"", name, errOut)
		return line
	}
	file := c.errFile
	if file == "" {
		file = c.files[len(c.files)-1]
	}
	if q := strconv.Quote(file); !strings.Contains(line, q) {
		t.Errorf("%s: error %q does not name the file %s", name, line, q)
	}
	for _, w := range c.where {
		if !strings.Contains(line, w) {
			t.Errorf("%s: error %q does not say %q", name, line, w)
		}
	}
	if strings.Contains(strings.ToLower(line), "panic") || strings.Contains(line, "goroutine ") {
		t.Errorf("%s: error %q", name, line)
	}
	return line
}

// cleanOutput is the standard output of cmd over clean captures, which
// must read without error.
func cleanOutput(t *testing.T, cmd, files []string) string {
	t.Helper()
	args := append(append([]string{}, cmd...), "--color=never", "-q")
	for _, f := range files {
		args = append(args, "-r", f)
	}
	out, errOut, code := runNoPanic(t, args, strings.NewReader(""))
	if code != exitOK || errOut != "" {
		t.Fatalf("clean capture: %v: exit %d, stderr %q", args, code, errOut)
	}
	return out
}

// runNoPanic runs the command line in-process, turning a panic into a test
// failure that shows the arguments.
func runNoPanic(t *testing.T, args []string, stdin io.Reader) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%v panicked: %v\n%s", args, r, debug.Stack())
			}
		}()
		code = run(args, stdin, &out, &errOut)
	}()
	return out.String(), errOut.String(), code
}

// failingReader returns data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// pcap and pcapng layout, read here without the package under test.

const (
	pcapFileHeader   = 24
	pcapRecordHeader = 16
)

// record is where one pcap record or pcapng block lies.
type record struct {
	off    int
	caplen int // pcap: the captured length
	length int // pcapng: the block length
	typ    uint32
}

func (r record) end() int {
	if r.length > 0 {
		return r.off + r.length
	}
	return r.off + pcapRecordHeader + r.caplen
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(sample(name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pcapOrder returns the byte order of a pcap file, and whether its
// timestamps are in nanoseconds.
func pcapOrder(t *testing.T, data []byte) (binary.ByteOrder, bool) {
	t.Helper()
	if len(data) < 4 {
		t.Fatal("not a pcap file")
	}
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4:
		return binary.LittleEndian, false
	case 0xa1b23c4d:
		return binary.LittleEndian, true
	}
	switch binary.BigEndian.Uint32(data) {
	case 0xa1b2c3d4:
		return binary.BigEndian, false
	case 0xa1b23c4d:
		return binary.BigEndian, true
	}
	t.Fatalf("not a pcap file: % x", data[:4])
	return nil, false
}

// pcapLayout lists the records of a whole pcap file.
func pcapLayout(t *testing.T, data []byte) []record {
	t.Helper()
	n, off := completeRecords(t, data)
	if off != len(data) {
		t.Fatalf("pcap sample has %d bytes after its last record", len(data)-off)
	}
	recs := make([]record, 0, n)
	order, _ := pcapOrder(t, data)
	for off := pcapFileHeader; off < len(data); {
		r := record{off: off, caplen: int(order.Uint32(data[off+8:]))}
		recs = append(recs, r)
		off = r.end()
	}
	return recs
}

// completeRecords counts the whole records at the start of data and
// returns where the first incomplete one starts.
func completeRecords(t *testing.T, data []byte) (n, off int) {
	t.Helper()
	order, _ := pcapOrder(t, data)
	off = pcapFileHeader
	for off+pcapRecordHeader <= len(data) {
		end := off + pcapRecordHeader + int(order.Uint32(data[off+8:]))
		if end > len(data) {
			break
		}
		n, off = n+1, end
	}
	return n, off
}

// pcapTimes returns the times of the packets.
func pcapTimes(t *testing.T, data []byte) []time.Time {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var times []time.Time
	for {
		_, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, ci.Timestamp)
	}
	if len(times) == 0 {
		t.Fatal("no packets")
	}
	return times
}

// increasing reports whether every time is later than the one before.
func increasing(ts []time.Time) bool {
	for i := 1; i < len(ts); i++ {
		if !ts[i].After(ts[i-1]) {
			return false
		}
	}
	return true
}

// writePcapPrefix writes, with pcapgo, a clean pcap file holding the first
// n packets of data (all of them if n < 0), their times moved by shift,
// and returns its path.
func writePcapPrefix(t *testing.T, dir, name string, data []byte, n int, shift time.Duration) string {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("clean-%s-%d-%d.pcap", safeName(name), n, shift))
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		t.Fatal(err)
	}
	for i := 0; n < 0 || i < n; i++ {
		pkt, ci, err := r.ReadPacketData()
		if err == io.EOF && n < 0 {
			break
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", name, i+1, err)
		}
		ci.Timestamp = ci.Timestamp.Add(shift)
		if err := w.WritePacket(ci, pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// toBigEndianNanos rewrites a little-endian microsecond pcap file as a
// big-endian nanosecond one.
func toBigEndianNanos(t *testing.T, data []byte) []byte {
	t.Helper()
	order, nanos := pcapOrder(t, data)
	if order != binary.LittleEndian || nanos {
		t.Fatal("want a little-endian microsecond pcap")
	}
	be := binary.BigEndian
	out := make([]byte, len(data))
	copy(out, data)
	be.PutUint32(out, 0xa1b23c4d)
	be.PutUint16(out[4:], 2)
	be.PutUint16(out[6:], 4)
	for _, i := range []int{8, 12, 16, 20} {
		be.PutUint32(out[i:], order.Uint32(data[i:]))
	}
	for _, r := range pcapLayout(t, data) {
		be.PutUint32(out[r.off:], order.Uint32(data[r.off:]))
		be.PutUint32(out[r.off+4:], order.Uint32(data[r.off+4:])*1000)
		be.PutUint32(out[r.off+8:], order.Uint32(data[r.off+8:]))
		be.PutUint32(out[r.off+12:], order.Uint32(data[r.off+12:]))
	}
	return out
}

// ngLayout lists the blocks of a whole little-endian pcapng file.
func ngLayout(t *testing.T, data []byte) []record {
	t.Helper()
	var blocks []record
	for off := 0; off < len(data); {
		if off+12 > len(data) {
			t.Fatalf("pcapng: %d bytes after the last block", len(data)-off)
		}
		b := record{off: off, typ: binary.LittleEndian.Uint32(data[off:]), length: int(binary.LittleEndian.Uint32(data[off+4:]))}
		if b.typ == 0x0a0d0d0a && binary.LittleEndian.Uint32(data[off+8:]) != 0x1a2b3c4d {
			t.Fatal("pcapng sample is not little-endian")
		}
		if b.length < 12 || b.end() > len(data) {
			t.Fatalf("pcapng: bad block at %d", off)
		}
		blocks = append(blocks, b)
		off = b.end()
	}
	return blocks
}

// ngPacketBlocks returns the enhanced packet blocks.
func ngPacketBlocks(blocks []record) []record {
	var p []record
	for _, b := range blocks {
		if b.typ == 6 {
			p = append(p, b)
		}
	}
	return p
}

// completeBlocks counts the packet blocks among the whole blocks at the
// start of data and returns where the first incomplete block starts.
func completeBlocks(t *testing.T, data []byte) (n, off int) {
	t.Helper()
	for off+8 <= len(data) {
		length := int(binary.LittleEndian.Uint32(data[off+4:]))
		if off+length > len(data) {
			break
		}
		if binary.LittleEndian.Uint32(data[off:]) == 6 {
			n++
		}
		off += length
	}
	return n, off
}

// ngBlock builds a little-endian block of the given type with a body of n
// bytes (rounded up to a multiple of 4).
func ngBlock(typ uint32, n int) []byte {
	n = (n + 3) &^ 3
	b := make([]byte, 12+n)
	binary.LittleEndian.PutUint32(b, typ)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	for i := range n {
		b[8+i] = byte(i)
	}
	binary.LittleEndian.PutUint32(b[len(b)-4:], uint32(len(b)))
	return b
}

func put32(d []byte, off int, v uint32) { binary.LittleEndian.PutUint32(d[off:], v) }

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gunzip returns everything that can be decompressed from data, which may
// be cut short.
func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := zr.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.Bytes()
		}
	}
}

// gunzipTo writes the decompressed content of a whole gzip file (its
// checksum unchecked) and returns the path.
func gunzipTo(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, "gunzipped-"+safeName(name))
	if err := os.WriteFile(path, gunzip(t, data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// safeName turns a subtest name into a file name.
func safeName(s string) string {
	return strings.NewReplacer("/", "_", " ", "_").Replace(s)
}

type appendByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// mixedPcapng builds a pcapng file in the given byte order with one
// interface per sample (Ethernet, Linux SLL, raw IP, BSD loopback) holding
// its packets, one after another. Most packets are in enhanced packet
// blocks; the first of each sample is in an obsolete packet block. With
// spb, the Ethernet sample's last packet is in a simple packet block, which
// has no timestamp; without, it is in an enhanced packet block with the
// time of the packet before it. It returns the file and where each
// packet's block starts.
func mixedPcapng(t testing.TB, order appendByteOrder, spb bool) ([]byte, []int) {
	t.Helper()
	samples := []string{"handshake-close.pcap", "any-sll.pcap", "raw-ip.pcap", "bsd-loopback.pcap"}
	block := func(b []byte, typ uint32, body []byte) []byte {
		body = append(body, make([]byte, -len(body)&3)...)
		n := uint32(12 + len(body))
		b = order.AppendUint32(b, typ)
		b = order.AppendUint32(b, n)
		b = append(b, body...)
		return order.AppendUint32(b, n)
	}
	// Section header: byte-order magic, version 1.0, unknown section length.
	shb := order.AppendUint32(nil, 0x1a2b3c4d)
	shb = order.AppendUint16(shb, 1)
	shb = order.AppendUint16(shb, 0)
	shb = order.AppendUint64(shb, 0xffffffffffffffff)
	out := block(nil, 0x0a0d0d0a, shb)
	type pkt struct {
		iface  int
		data   []byte
		ts     time.Time
		length int
	}
	var pkts []pkt
	for i, name := range samples {
		f, err := os.Open(sample(name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		idb := order.AppendUint16(nil, uint16(r.LinkType()))
		idb = order.AppendUint16(idb, 0)
		idb = order.AppendUint32(idb, 262144)
		out = block(out, 1, idb)
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, pkt{i, data, ci.Timestamp, ci.Length})
		}
		f.Close()
	}
	var offs []int
	for i, p := range pkts {
		offs = append(offs, len(out))
		us := uint64(p.ts.UnixMicro())
		first := i == 0 || pkts[i-1].iface != p.iface
		switch {
		case spb && p.iface == 0 && (i+1 == len(pkts) || pkts[i+1].iface != 0):
			// A simple packet block: interface 0, no time.
			b := order.AppendUint32(nil, uint32(p.length))
			out = block(out, 3, append(b, p.data...))
		case first:
			b := order.AppendUint16(nil, uint16(p.iface))
			b = order.AppendUint16(b, 0) // drops
			b = order.AppendUint32(b, uint32(us>>32))
			b = order.AppendUint32(b, uint32(us))
			b = order.AppendUint32(b, uint32(len(p.data)))
			b = order.AppendUint32(b, uint32(p.length))
			out = block(out, 2, append(b, p.data...))
		default:
			if !spb && p.iface == 0 && (i+1 == len(pkts) || pkts[i+1].iface != 0) {
				us = uint64(pkts[i-1].ts.UnixMicro())
			}
			b := order.AppendUint32(nil, uint32(p.iface))
			b = order.AppendUint32(b, uint32(us>>32))
			b = order.AppendUint32(b, uint32(us))
			b = order.AppendUint32(b, uint32(len(p.data)))
			b = order.AppendUint32(b, uint32(p.length))
			out = block(out, 6, append(b, p.data...))
		}
	}
	return out, offs
}

// bigEPB rebuilds a little-endian enhanced packet block without options
// around the same frame padded with zeros to 262144 bytes, the longest
// packet taken, which leaves the IP and TCP headers as they were.
func bigEPB(epb []byte) []byte {
	const caplen = 262144
	le := binary.LittleEndian
	frame := epb[28 : 28+le.Uint32(epb[20:])]
	b := le.AppendUint32(nil, 6)
	b = le.AppendUint32(b, 32+caplen)
	b = append(b, epb[8:20]...) // interface, timestamp
	b = le.AppendUint32(b, caplen)
	b = le.AppendUint32(b, caplen)
	b = append(b, frame...)
	b = append(b, make([]byte, caplen-len(frame))...)
	return le.AppendUint32(b, 32+caplen)
}
