package main

import (
	"encoding/binary"
	"hash/fnv"
	"io"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// zeekFields are the conn.log columns written, in Zeek's order, with their
// Zeek types.
var zeekFields = []struct{ name, typ string }{
	{"ts", "time"}, {"uid", "string"},
	{"id.orig_h", "addr"}, {"id.orig_p", "port"}, {"id.resp_h", "addr"}, {"id.resp_p", "port"},
	{"proto", "enum"}, {"duration", "interval"}, {"orig_bytes", "count"}, {"resp_bytes", "count"},
	{"conn_state", "string"}, {"missed_bytes", "count"}, {"history", "string"},
	{"orig_pkts", "count"}, {"orig_ip_bytes", "count"}, {"resp_pkts", "count"}, {"resp_ip_bytes", "count"},
}

// zeekWriter writes connections as Zeek's conn.log, tab-separated with
// its header lines, or as Zeek's JSON lines, in the order they end.
type zeekWriter struct {
	w      *errWriter
	json   bool
	headed bool
	buf    []byte
}

func newZeekWriter(w io.Writer, json bool) *zeekWriter {
	return &zeekWriter{w: newErrWriter(w), json: json}
}

// zeekTime formats a time as Zeek's log header does. Zeek stamps #open and
// #close with the wall clock; tcpstate uses the first and last packet, so
// that the same capture always gives the same log.
func zeekTime(t time.Time) string { return t.UTC().Format("2006-01-02-15-04-05") }

func (z *zeekWriter) startedAt(first time.Time) {
	if z.json || z.headed {
		return
	}
	z.headed = true
	var b strings.Builder
	b.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n")
	b.WriteString("#open\t" + zeekTime(first) + "\n#fields")
	for _, f := range zeekFields {
		b.WriteString("\t" + f.name)
	}
	b.WriteString("\n#types")
	for _, f := range zeekFields {
		b.WriteString("\t" + f.typ)
	}
	b.WriteString("\n")
	z.w.WriteString(b.String())
}

func (z *zeekWriter) started(first time.Time) { z.startedAt(first) }

func (z *zeekWriter) add(c *reassembly.Conn) {
	z.startedAt(c.First())
	zc := &c.Zeek
	orig, resp := c.Client, c.Server
	if !c.FirstFromClient {
		orig, resp = resp, orig
	}
	if zc.Flipped() {
		orig, resp = resp, orig
	}
	o, r := zc.Orig(), zc.Resp()
	// Zeek logs the duration and the byte counts only when the connection
	// lasted (conn/main.zeek: set_conn).
	lasted := zc.Duration() > 0
	history := zc.History()

	b := z.buf[:0]
	sep := func() {
		if z.json {
			b = append(b, ',')
		} else {
			b = append(b, '\t')
		}
	}
	key := func(name string) {
		if z.json {
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, '"', ':')
		}
	}
	str := func(name, v string) {
		key(name)
		if z.json {
			b = strconv.AppendQuote(b, v)
		} else if v == "" {
			b = append(b, "(empty)"...)
		} else {
			b = append(b, v...)
		}
	}
	num := func(name string, v uint64) {
		key(name)
		b = strconv.AppendUint(b, v, 10)
	}
	secs := func(name string, d time.Duration) {
		key(name)
		b = strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64)
	}
	addr := func(name string, a netip.Addr) {
		key(name)
		if z.json {
			b = append(b, '"')
		}
		b = a.Unmap().AppendTo(b)
		if z.json {
			b = append(b, '"')
		}
	}
	unset := func() {
		// JSON leaves an unset field out; the TSV prints "-".
		if !z.json {
			b = append(b, '-')
		}
	}
	if z.json {
		b = append(b, '{')
	}
	key("ts")
	b = strconv.AppendFloat(b, float64(c.First().UnixNano())/1e9, 'f', 6, 64)
	sep()
	str("uid", zeekUID(c))
	sep()
	addr("id.orig_h", orig.Addr())
	sep()
	num("id.orig_p", uint64(orig.Port()))
	sep()
	addr("id.resp_h", resp.Addr())
	sep()
	num("id.resp_p", uint64(resp.Port()))
	sep()
	str("proto", "tcp")
	if lasted {
		sep()
		secs("duration", zc.Duration())
		sep()
		num("orig_bytes", o.Bytes)
		sep()
		num("resp_bytes", r.Bytes)
	} else if !z.json {
		for range 3 {
			sep()
			unset()
		}
	}
	sep()
	str("conn_state", zc.State())
	sep()
	num("missed_bytes", zc.MissedBytes())
	sep()
	str("history", history)
	sep()
	num("orig_pkts", o.Pkts)
	sep()
	num("orig_ip_bytes", o.IPBytes)
	sep()
	num("resp_pkts", r.Pkts)
	sep()
	num("resp_ip_bytes", r.IPBytes)
	if z.json {
		b = append(b, '}')
	}
	b = append(b, '\n')
	z.w.Write(b)
	z.buf = b
}

func (z *zeekWriter) close(a *analysis) error {
	if !z.json {
		if !z.headed {
			z.startedAt(a.first)
		}
		z.w.WriteString("#close\t" + zeekTime(a.last) + "\n")
	}
	return z.w.flush()
}

// zeekUID makes a Zeek-style connection uid ("C" and 17 base-62 digits)
// from what identifies the connection, so that the same capture always
// gives the same uids (Zeek draws them at random).
func zeekUID(c *reassembly.Conn) string {
	h := fnv.New128a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(c.First().UnixNano()))
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], c.ID)
	h.Write(b[:])
	h.Write([]byte(c.Client.String() + "-" + c.Server.String()))
	sum := h.Sum(nil)
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	uid := []byte{'C'}
	hi, lo := binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])
	for range 17 {
		// Divide the 128-bit number hi:lo by 62.
		var rem uint64
		hi, rem = bits.Div64(0, hi, 62)
		lo, rem = bits.Div64(rem, lo, 62)
		uid = append(uid, digits[rem])
	}
	return string(uid)
}
