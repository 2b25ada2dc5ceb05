package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestWriteAs(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.pcap")
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	frames := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 74)}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: stamp.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f) + i}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(src, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"out.pcap", "out.pcapng", "out.pcap.gz", "out.pcapng.gz"} {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(dir, name)
			if err := writeAs(src, dst, "lo"); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Ext(name) == ".gz" {
				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				var plain bytes.Buffer
				if _, err := plain.ReadFrom(zr); err != nil {
					t.Fatal(err)
				}
				data = plain.Bytes()
				name = name[:len(name)-3]
			}
			var r interface {
				ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
			}
			if filepath.Ext(name) == ".pcapng" {
				ng, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
				if err != nil {
					t.Fatal(err)
				}
				if ng.LinkType() != layers.LinkTypeEthernet {
					t.Errorf("link type %v", ng.LinkType())
				}
				r = ng
			} else {
				if !bytes.Equal(data, buf.Bytes()) {
					t.Fatalf("pcap copy differs from the source")
				}
				return
			}
			for i, f := range frames {
				got, ci, err := r.ReadPacketData()
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if !bytes.Equal(got, f) || ci.Length != len(f)+i || !ci.Timestamp.Equal(stamp.Add(time.Duration(i)*time.Millisecond)) {
					t.Errorf("packet %d: %d bytes, length %d, time %v", i, len(got), ci.Length, ci.Timestamp)
				}
			}
			if _, _, err := r.ReadPacketData(); err == nil {
				t.Errorf("extra packets")
			}
		})
	}
	if err := writeAs(src, filepath.Join(dir, "out.txt"), "lo"); err == nil {
		t.Errorf("writeAs to .txt succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "out.txt")); !os.IsNotExist(err) {
		t.Errorf("failed write left a file behind")
	}
}
