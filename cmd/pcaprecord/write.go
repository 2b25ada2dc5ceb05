package main

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gopacket/gopacket/pcapgo"
)

// writeAs writes the pcap file src to dst in the format dst's name asks for:
// ".pcap" is a copy, ".pcapng" a conversion to pcapng (its interface block
// named iface), and a ".gz" suffix gzips either.
func writeAs(src, dst, iface string) (err error) {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	var w io.Writer = f
	name := dst
	if base, ok := strings.CutSuffix(name, ".gz"); ok {
		zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		}()
		w, name = zw, base
	}
	switch {
	case strings.HasSuffix(name, ".pcapng"):
		return toPcapng(src, iface, w)
	case strings.HasSuffix(name, ".pcap"):
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(w, in)
		return err
	default:
		return fmt.Errorf("write %s: want a .pcap, .pcapng or .gz name", dst)
	}
}

// toPcapng rewrites a pcap file as pcapng: one section, one interface, the
// packets with their original timestamps and lengths.
func toPcapng(src, iface string, w io.Writer) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	intf := pcapgo.DefaultNgInterface
	intf.Name = iface
	intf.LinkType = r.LinkType()
	intf.SnapLength = r.Snaplen()
	intf.OS = "Linux"
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		OS:          "Linux",
		Application: "tcpstate pcaprecord (tcpdump capture converted by gopacket pcapgo)",
	}}
	ng, err := pcapgo.NewNgWriterInterface(w, intf, opts)
	if err != nil {
		return err
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", src, err)
		}
		if err := ng.WritePacket(ci, data); err != nil {
			return err
		}
	}
	return ng.Flush()
}
