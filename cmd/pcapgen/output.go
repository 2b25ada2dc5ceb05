package main

// Capture file records, written by hand: a pcap or pcapng header, then one
// record per packet, formatted straight into large chunks. While the next
// chunk fills, a goroutine writes the previous ones; with gzip, workers
// compress chunks in parallel, each into a gzip member of its own (a gzip
// file may hold several members; readers concatenate them), and the writer
// puts them out in order, so the bytes do not depend on scheduling.

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"runtime"
	"sync/atomic"
	"time"
)

const (
	snaplen   = 262144
	chunkSize = 1 << 20
)

// chunk is a buffer of records on its way to the file.
type chunk struct {
	b    []byte
	z    bytes.Buffer  // b as a gzip member
	done chan struct{} // z is ready
}

// output formats records. Timestamps are microseconds (pcap's classic
// format, and pcapng's default resolution).
type output struct {
	ng     bool
	base   int64 // time 0 of the capture, µs since the Unix epoch
	cur    *chunk
	buf    []byte // cur.b
	work   chan *chunk
	order  chan *chunk
	free   chan *chunk
	done   chan error
	failed atomic.Bool
	bytes  int64 // bytes formatted (before compression)
}

func newOutput(w io.Writer, ng, gz bool, start time.Time) *output {
	workers := 0
	if gz {
		workers = runtime.GOMAXPROCS(0)
	}
	n := 2*workers + 3
	o := &output{
		ng:    ng,
		base:  start.UnixMicro(),
		order: make(chan *chunk, n),
		free:  make(chan *chunk, n),
		done:  make(chan error, 1),
	}
	for range n {
		o.free <- &chunk{b: make([]byte, 0, chunkSize), done: make(chan struct{}, 1)}
	}
	if gz {
		o.work = make(chan *chunk, n)
		for range workers {
			go compress(o.work)
		}
	}
	go o.write(w, gz)
	o.cur = <-o.free
	o.buf = o.cur.b
	if ng {
		o.pcapngHeader()
	} else {
		o.pcapHeader()
	}
	return o
}

// compress turns chunks into gzip members.
func compress(work <-chan *chunk) {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // the level is valid
	for c := range work {
		c.z.Reset()
		zw.Reset(&c.z)
		zw.Write(c.b) // writes to a bytes.Buffer do not fail
		zw.Close()
		c.done <- struct{}{}
	}
}

// write puts chunks out in order and recycles them.
func (o *output) write(w io.Writer, gz bool) {
	var err error
	for c := range o.order {
		data := c.b
		if gz {
			<-c.done
			data = c.z.Bytes()
		}
		if err == nil {
			if _, err = w.Write(data); err != nil {
				o.failed.Store(true)
			}
		}
		c.b = c.b[:0]
		o.free <- c
	}
	o.done <- err
}

// send hands the current chunk on.
func (o *output) send() {
	o.cur.b = o.buf
	if o.work != nil {
		o.work <- o.cur
	}
	o.order <- o.cur
}

// reserve returns the next n bytes of the chunk.
func (o *output) reserve(n int) []byte {
	if len(o.buf)+n > cap(o.buf) {
		o.send()
		o.cur = <-o.free
		o.buf = o.cur.b
	}
	i := len(o.buf)
	o.buf = o.buf[:i+n]
	o.bytes += int64(n)
	return o.buf[i : i+n]
}

// close writes what is left and returns the first write error.
func (o *output) close() error {
	if len(o.buf) > 0 {
		o.send()
	}
	if o.work != nil {
		close(o.work)
	}
	close(o.order)
	return <-o.done
}

var le = binary.LittleEndian

func (o *output) pcapHeader() {
	b := o.reserve(24)
	le.PutUint32(b[0:], 0xa1b2c3d4) // microsecond timestamps
	le.PutUint16(b[4:], 2)
	le.PutUint16(b[6:], 4)
	le.PutUint32(b[8:], 0)  // GMT offset
	le.PutUint32(b[12:], 0) // timestamp accuracy
	le.PutUint32(b[16:], snaplen)
	le.PutUint32(b[20:], 1) // LINKTYPE_ETHERNET
}

// pcapngHeader writes a section header block naming the application and
// one Ethernet interface block (no if_tsresol option: microseconds).
func (o *output) pcapngHeader() {
	const app = "tcpstate pcapgen" // 16 bytes: no padding
	b := o.reserve(52)
	le.PutUint32(b[0:], 0x0a0d0d0a)
	le.PutUint32(b[4:], 52)
	le.PutUint32(b[8:], 0x1a2b3c4d)
	le.PutUint16(b[12:], 1)
	le.PutUint16(b[14:], 0)
	le.PutUint64(b[16:], ^uint64(0)) // section length not given
	le.PutUint16(b[24:], 4)          // shb_userappl
	le.PutUint16(b[26:], uint16(len(app)))
	copy(b[28:44], app)
	le.PutUint32(b[44:], 0) // opt_endofopt
	le.PutUint32(b[48:], 52)

	b = o.reserve(32)
	le.PutUint32(b[0:], 1)
	le.PutUint32(b[4:], 32)
	le.PutUint16(b[8:], 1) // LINKTYPE_ETHERNET
	le.PutUint16(b[10:], 0)
	le.PutUint32(b[12:], snaplen)
	le.PutUint16(b[16:], 2) // if_name
	le.PutUint16(b[18:], 4)
	copy(b[20:24], "eth0")
	le.PutUint32(b[24:], 0) // opt_endofopt
	le.PutUint32(b[28:], 32)
}

// packet writes one record: the frame built from h and t, at time t µs.
func (o *output) packet(at int64, h *linkIP, t *tcpHeader, ipID uint16, payload []byte, psum uint32) {
	n := frameLen(h, t, len(payload))
	ts := o.base + at
	if o.ng {
		padded := (n + 3) &^ 3
		total := 28 + padded + 4
		b := o.reserve(total)
		le.PutUint32(b[0:], 6) // enhanced packet block
		le.PutUint32(b[4:], uint32(total))
		le.PutUint32(b[8:], 0) // interface 0
		le.PutUint32(b[12:], uint32(uint64(ts)>>32))
		le.PutUint32(b[16:], uint32(ts))
		le.PutUint32(b[20:], uint32(n))
		le.PutUint32(b[24:], uint32(n))
		build(b[28:28+n], h, t, ipID, payload, psum)
		clear(b[28+n : 28+padded])
		le.PutUint32(b[28+padded:], uint32(total))
		return
	}
	b := o.reserve(16 + n)
	le.PutUint32(b[0:], uint32(ts/1_000_000))
	le.PutUint32(b[4:], uint32(ts%1_000_000))
	le.PutUint32(b[8:], uint32(n))
	le.PutUint32(b[12:], uint32(n))
	build(b[16:], h, t, ipID, payload, psum)
}
