package capture_test

import (
	"fmt"
	"io"
	"log"

	"github.com/tcpstate/tcpstate/capture"
)

// Read a capture and decode every packet: TCP segments are printed, the
// rest counted by class.
func Example() {
	src, err := capture.Open([]string{"testdata/handshake.pcap"}, capture.OpenOptions{})
	if err != nil {
		log.Fatal(err) // capture: open "testdata/handshake.pcap": no such file or directory
	}
	defer src.Close()

	var (
		p      capture.Packet
		s      capture.Segment
		d      capture.Decoder
		counts [capture.NumClasses]int
	)
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A damaged file: every packet before the damage was read.
			log.Print(err)
			break
		}
		c := d.Decode(p.LinkType, p.Data, &s)
		counts[c]++
		if c == capture.ClassTCP {
			fmt.Printf("%2d %v > %v flags %#02x seq %d ack %d len %d\n",
				p.Num, s.Src, s.Dst, s.Flags, s.Seq, s.Ack, s.PayloadLen)
		}
	}
	for c, n := range counts {
		if n > 0 {
			fmt.Printf("%s: %d\n", capture.Class(c), n)
		}
	}
	// Output:
	//  2 192.0.2.1:41952 > 198.51.100.7:80 flags 0x02 seq 2586524749 ack 0 len 0
	//  3 198.51.100.7:80 > 192.0.2.1:41952 flags 0x12 seq 287454020 ack 2586524750 len 0
	//  4 192.0.2.1:41952 > 198.51.100.7:80 flags 0x10 seq 2586524750 ack 287454021 len 0
	//  5 192.0.2.1:41952 > 198.51.100.7:80 flags 0x18 seq 2586524750 ack 287454021 len 37
	//  6 198.51.100.7:80 > 192.0.2.1:41952 flags 0x10 seq 287454021 ack 2586524787 len 0
	//  7 198.51.100.7:80 > 192.0.2.1:41952 flags 0x18 seq 287454021 ack 2586524787 len 27
	//  8 192.0.2.1:41952 > 198.51.100.7:80 flags 0x11 seq 2586524787 ack 287454048 len 0
	//  9 198.51.100.7:80 > 192.0.2.1:41952 flags 0x11 seq 287454048 ack 2586524788 len 0
	// 10 192.0.2.1:41952 > 198.51.100.7:80 flags 0x10 seq 2586524788 ack 287454049 len 0
	// tcp: 9
	// not IP: 1
}
