// Package capture turns capture files into TCP segments: it is where bytes
// from outside enter tcpstate.
//
// It owns three things:
//
//   - Sources. Open reads pcap and pcapng files, plain or gzip compressed,
//     with the format found from the first bytes, and merges several files
//     into one timeline by timestamp. A damaged file yields every packet up
//     to the damage, then an error that names the file, the packet and the
//     byte offset. Nothing read from a file can make it panic or allocate
//     more than a bounded buffer. pcapgo reads the file headers and the
//     pcapng blocks; pcap records are read in place in the file buffer,
//     without a copy (FuzzOpen holds them to pcapgo's reading). OpenLive (Linux) reads an interface
//     through an AF_PACKET TPACKET_V3 ring, "any" as Linux cooked capture,
//     in pure Go. Built with -tags libpcap (cgo, libpcap-dev), OpenLive
//     goes through libpcap instead: the route to live capture on other
//     systems, with libpcap's filter compiler (which, unlike ours, does not
//     correct for VLAN tags the kernel took off; see live_libpcap.go).
//   - Filters. CompileFilter compiles a tcpdump expression to classic BPF,
//     run in the kernel for live capture and by Filter.Match for files, so
//     that both select the same packets as tcpdump does.
//   - Decoding. Decoder.Decode takes one frame of a known link type
//     (Ethernet with any VLAN/QinQ tags, Linux cooked SLL and SLL2, raw IP,
//     BSD loopback) through IPv4 or IPv6 (with extension headers) to a TCP
//     header, and fills a Segment in place. It never fails and never
//     allocates: a frame that is not a usable TCP segment gets a Class
//     (not IP, not TCP, fragment, truncated, malformed, unknown link) for
//     the caller to count.
//
// The package knows nothing of connections or states; reassembly and fsm
// take it from the Segment on.
package capture
