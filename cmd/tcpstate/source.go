package main

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"

	"github.com/tcpstate/tcpstate/capture"
)

// input is where a command's packets come from: capture files, or a live
// interface until it is stopped.
type input struct {
	src capture.Source
	// live is the same source when it is a live capture, else nil.
	live capture.LiveSource
	// name says where packets come from, for messages.
	name string

	// The filter, for files: compiled for each link type as packets of it
	// appear, and run in user space. A live capture's filter runs in the
	// kernel (see capture.OpenLive), so it never reaches here.
	filter  string
	filters map[layers.LinkType]*capture.Filter
}

// openInput opens the files or the interface the options name.
func openInput(o *sourceOptions, st *streams) (*input, error) {
	if o.iface != "" {
		live, err := capture.OpenLive(o.iface, capture.LiveOptions{
			Snaplen:     o.snaplen,
			Promiscuous: !o.noPromisc,
			Filter:      o.filter,
			BufferMiB:   o.bufferMiB,
		})
		if err != nil {
			return nil, err
		}
		return &input{src: live, live: live, name: o.iface}, nil
	}
	src, err := capture.Open(o.files, capture.OpenOptions{Stdin: st.stdin})
	if err != nil {
		return nil, err
	}
	in := &input{src: src, name: "the capture"}
	if o.filter != "" {
		in.filter = o.filter
		in.filters = map[layers.LinkType]*capture.Filter{}
	}
	return in, nil
}

// match reports whether the filter selects p. A link type the filter
// cannot be compiled for is an error, as in tcpdump: silently dropping
// every packet of it would be a surprise.
func (in *input) match(p *capture.Packet) (bool, error) {
	if in.filters == nil {
		return true, nil
	}
	f, ok := in.filters[p.LinkType]
	if !ok {
		var err error
		if f, err = capture.CompileFilter(in.filter, p.LinkType, 0); err != nil {
			return false, fmt.Errorf("%w (packet %d)", err, p.Num)
		}
		in.filters[p.LinkType] = f
	}
	return f.MatchLength(p.Data, max(p.Length, len(p.Data))), nil
}

func (in *input) Close() error { return in.src.Close() }
