package reassembly

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// randomBody fills a body's plain words as connections fill them: most
// zero, the others of every length from 1 to 8 bytes.
func randomBody(r *rand.Rand) *body {
	b := new(body)
	for i := range plainWords(b) {
		switch r.IntN(3) {
		case 0:
		case 1:
			plainWords(b)[i] = r.Uint64() >> (8 * r.IntN(8))
		default:
			plainWords(b)[i] = r.Uint64()
		}
	}
	return b
}

// TestPackRoundTrip: unpacking an image restores every byte, whatever the
// body that unpacks it held before, against no template, a template of
// random words, the body's own words (an image of nothing but its bitmap)
// or those of a body like it.
func TestPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	into := randomBody(r)
	for i := range 2000 {
		b := randomBody(r)
		switch {
		case i == 0:
			b = new(body)
		case i%4 == 0:
			// A few short words: the lengths are among the image's
			// last bytes.
			b = new(body)
			for range r.IntN(4) + 1 {
				plainWords(b)[r.IntN(bodyWords)] = r.Uint64() >> (8 * r.IntN(8))
			}
		}
		cd := &plain
		switch i % 3 {
		case 1:
			cd = &codec{tpl: *plainWords(randomBody(r)), preds: randomPredictors(r)}
		case 2:
			cd = &codec{tpl: *plainWords(b)}
			for range r.IntN(3) {
				cd.tpl[r.IntN(bodyWords)] ^= r.Uint64() >> (8 * r.IntN(8))
			}
		}
		before := *plainWords(b)
		image := pack(nil, b, cd)
		if *plainWords(b) != before {
			t.Fatalf("body %d: packing changed it", i)
		}
		if len(image) > maxImage {
			t.Fatalf("image of %d bytes, more than maxImage %d", len(image), maxImage)
		}
		unpack(into, image, cd)
		if *plainWords(into) != *plainWords(b) {
			t.Fatalf("body %d: unpacked differs", i)
		}
		// With no room past the image, as the images a table keeps have
		// none when their length is their class's: the last bytes are
		// read one at a time.
		unpack(into, exactly(image), cd)
		if *plainWords(into) != *plainWords(b) {
			t.Fatalf("body %d: unpacked from an image with no room past it differs", i)
		}
	}
}

// randomPredictors returns predictors as a learner's are: in order of
// the word predicted, each from an earlier word, some from a predicted one.
func randomPredictors(r *rand.Rand) []predictor {
	var ps []predictor
	for i := 1; i < bodyWords; i++ {
		if r.IntN(6) == 0 {
			ps = append(ps, predictor{uint8(i), uint8(r.IntN(i)), r.IntN(2) == 0})
		}
	}
	return ps
}

// exactly returns a copy of image whose capacity is its length.
func exactly(image []byte) []byte {
	c := make([]byte, len(image))
	copy(c, image)
	return c[:len(c):len(c)]
}

// FuzzPack packs and unpacks bodies made of the fuzzer's bytes, against a
// template made of the bytes after the body's, and predictors made of
// those after the template's.
func FuzzPack(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80})
	f.Add([]byte(strings.Repeat("\xff\x00\x00\x01", 400)))
	f.Add([]byte(strings.Repeat("\x01\x00\x00\x00\x00\x00\x00\x02", 2*bodyWords)))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, into := new(body), new(body)
		w := plainWords(b)
		var tpl words
		for i := range w {
			for j := range 8 {
				if k := i*8 + j; k < len(data) {
					w[i] |= uint64(data[k]) << (8 * j)
				}
				if k := (bodyWords+i)*8 + j; k < len(data) {
					tpl[i] |= uint64(data[k]) << (8 * j)
				}
			}
		}
		cd := &codec{tpl: tpl}
		for k := 2 * bodyWords * 8; k+1 < len(data); k += 2 {
			// A word and how far back its predictor is, in order.
			i := int(data[k])
			if i >= bodyWords || len(cd.preds) > 0 && i <= int(cd.preds[len(cd.preds)-1].i) {
				break
			}
			if back := int(data[k+1]>>1) + 1; back <= i {
				cd.preds = append(cd.preds, predictor{uint8(i), uint8(i - back), data[k+1]&1 == 1})
			}
		}
		image := pack(nil, b, cd)
		if len(image) > maxImage {
			t.Fatalf("image of %d bytes, more than maxImage %d", len(image), maxImage)
		}
		unpack(into, image, cd)
		if *plainWords(into) != *w {
			t.Fatal("unpacked differs")
		}
		unpack(into, exactly(image), cd)
		if *plainWords(into) != *w {
			t.Fatal("unpacked from an image with no room past it differs")
		}
	})
}

// packs counts the connections a tracker packed, and those of them packed
// against a template.
func packs(tr tracker) (all, xor uint64) {
	var tables []*Table
	switch tr := tr.(type) {
	case tableTracker:
		tables = append(tables, tr.Table)
	case *Sharded:
		if tr.single != nil {
			tables = append(tables, tr.single)
		}
		for _, sh := range tr.shards {
			tables = append(tables, sh.t)
		}
	}
	for _, t := range tables {
		all += t.packs
		xor += t.xorPacks
	}
	return all, xor
}

// TestCompactMatchesPlain runs captures through tables that pack done
// connections (alone, with Recycle, and sharded) and through one that does
// not, and wants the same results: every connection whole (machines,
// counters, Zeek's and Wireshark's views) in the order Finished saw them,
// the snapshot in the middle, the live ones at the end, listeners and
// stats. It also wants the packing to have happened, against a template
// too.
func TestCompactMatchesPlain(t *testing.T) {
	files := generatedCaptures(t)
	paths := []string{files["reuse.pcap"], files["flood.pcapng"]}
	samples, err := filepath.Glob("../pcaps/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, samples...)
	var packed, xor uint64
	for _, path := range paths {
		recs := readCapture(t, path)
		for _, timers := range []struct {
			name string
			cfg  Config
		}{{"default timers", Config{}}, {"short timers", shortTimers}} {
			want := runTable(recs, timers.cfg)
			for _, v := range []struct {
				name    string
				recycle bool
				workers int
			}{{"compact", false, 1}, {"compact+recycle", true, 1}, {"compact, 2 workers", false, 2}, {"compact+recycle, 3 workers", true, 3}} {
				t.Run(fmt.Sprintf("%s/%s/%s", filepath.Base(path), timers.name, v.name), func(t *testing.T) {
					cfg := timers.cfg
					cfg.Compact, cfg.Recycle = true, v.recycle
					var tr tracker
					got := run(recs, cfg, func(cfg Config) tracker {
						if v.workers > 1 {
							tr = NewSharded(cfg, v.workers)
						} else {
							tr = tableTracker{NewTable(cfg)}
						}
						return tr
					})
					compare(t, want, got)
					all, x := packs(tr)
					packed += all
					xor += x
				})
			}
		}
	}
	if packed < 1000 || xor < 500 {
		t.Errorf("%d connections packed in all, %d against a template: the comparison hardly tests packing", packed, xor)
	}
	t.Logf("%d connections packed, %d against a template", packed, xor)
}

// TestCompactTransitions: packing changes nothing in the transitions a
// table hands out, nor in their order.
func TestCompactTransitions(t *testing.T) {
	files := generatedCaptures(t)
	recs := readCapture(t, files["reuse.pcap"])
	stream := func(compact bool) ([]string, uint64) {
		var out []string
		tab := NewTable(Config{Compact: compact, Recycle: compact, Transition: func(c *Conn, tr *fsm.Transition) {
			out = append(out, fmt.Sprintf("%d %s %v %s>%s %v %v", c.ID, tr.Time.Format(time.StampMicro), tr.Role, tr.From, tr.To, tr.Cause, tr.Certain))
		}})
		for i := range recs {
			tab.Add(&recs[i].seg, recs[i].ts, recs[i].pkt)
		}
		tab.Settle(tab.Now())
		tab.Flush()
		return out, tab.packs
	}
	want, _ := stream(false)
	got, packed := stream(true)
	if packed == 0 {
		t.Fatal("nothing was packed")
	}
	if len(got) != len(want) {
		t.Fatalf("%d transitions packed, %d plain", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("transition %d: packed %q, plain %q", i, got[i], want[i])
		}
	}
	t.Logf("%d transitions, %d connections packed", len(want), packed)
}

// TestEachKeepsPacked: Each shows packed connections unpacked, as Conns
// does, and leaves them packed.
func TestEachKeepsPacked(t *testing.T) {
	files := generatedCaptures(t)
	recs := readCapture(t, files["reuse.pcap"])
	for _, workers := range []int{1, 2} {
		tr := NewSharded(Config{Compact: true, Recycle: true}, workers)
		for i := range recs {
			tr.Add(&recs[i].seg, recs[i].ts, recs[i].pkt)
		}
		tr.Settle(recs[len(recs)-1].ts)
		packed := func() (n int) {
			for _, c := range tr.conns() {
				if c.body == nil {
					n++
				}
			}
			return n
		}
		if tr.single != nil {
			packed = func() (n int) {
				for _, c := range tr.single.list() {
					if c.body == nil {
						n++
					}
				}
				return n
			}
		}
		see := func(c *Conn) string {
			return fmt.Sprintf("%d %v/%v %+v %s %s %v", c.ID, c.Machine.State(fsm.Client), c.Machine.State(fsm.Server),
				c.Dir, c.Zeek.State(), c.Zeek.History(), c.FlagCounts.Map())
		}
		before := packed()
		if before == 0 {
			t.Fatalf("%d workers: nothing packed", workers)
		}
		var got []string
		tr.Each(func(c *Conn) { got = append(got, see(c)) })
		if after := packed(); after != before {
			t.Errorf("%d workers: %d connections packed before Each, %d after", workers, before, after)
		}
		var want []string
		for _, c := range tr.Conns() {
			want = append(want, see(c))
		}
		if packed() != 0 {
			t.Errorf("%d workers: Conns left connections packed", workers)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%d workers: Each and Conns differ", workers)
		}
		tr.Close()
	}
}

// TestImagesKeepTheirClass checks that a packed connection's image is of
// its own length's class, however long the images of the connections that
// used its Conn before were (kept with the Conn, images would only grow),
// and that the pool of spare images stays bounded.
func TestImagesKeepTheirClass(t *testing.T) {
	recs := readCapture(t, generatedCaptures(t)["reuse.pcap"])
	tb := NewTable(Config{Compact: true, Recycle: true, Finished: func(*Conn) {}})
	classes := map[int]int{}
	for i := range recs {
		tb.Add(&recs[i].seg, recs[i].ts, recs[i].pkt)
		if i%100 != 0 {
			continue
		}
		for c := range tb.conns.all() {
			if c.body != nil {
				continue
			}
			n := len(c.image())
			if want := imageClass(n) * imageStep; cap(c.image()) != want {
				t.Fatalf("segment %d: connection %d has an image of %d bytes in %d, want %d", i, c.ID, n, cap(c.image()), want)
			}
			classes[imageClass(n)]++
		}
		if tb.images.n > maxPooledImages {
			t.Fatalf("segment %d: %d images pooled, more than %d", i, tb.images.n, maxPooledImages)
		}
	}
	if len(classes) < 2 {
		t.Fatalf("images of %d class only (%v): the capture does not test reuse across classes", len(classes), classes)
	}
	t.Logf("images seen by class of %d bytes: %v", imageStep, classes)
}

// BenchmarkPack measures packing and unpacking a body about as full as a
// closed connection's (about half its words set).
func BenchmarkPack(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	src := new(body)
	for i := range plainWords(src) {
		if r.IntN(2) == 0 {
			plainWords(src)[i] = r.Uint64() >> (8 * r.IntN(8))
		}
	}
	into := new(body)
	var buf []byte
	b.Run("pack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = pack(buf[:0], src, &plain)
		}
		b.ReportMetric(float64(len(buf)), "image-B")
	})
	b.Run("unpack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			unpack(into, buf, &plain)
		}
	})
}

// BenchmarkPackCapture packs and unpacks the bodies of the connections of a
// capture as they leave the table: TCPSTATE_BENCH_FILE's (the first 4096
// done), or the sample captures', against the template the first
// learnBodies make. Their words are what the codec meets in use, where
// BenchmarkPack's are random.
//
//	TCPSTATE_BENCH_FILE=bench-1m.pcap go test -run - -bench PackCapture ./reassembly
func BenchmarkPackCapture(b *testing.B) {
	files := []string{os.Getenv("TCPSTATE_BENCH_FILE")}
	if files[0] == "" {
		var err error
		if files, err = filepath.Glob("../pcaps/*.pcap*"); err != nil || len(files) == 0 {
			b.Fatalf("no sample captures in ../pcaps (%v)", err)
		}
	}
	const most = 4096
	var bodies []*body
	for _, f := range files {
		t := NewTable(Config{Finished: func(c *Conn) {
			if len(bodies) < most && c.Machine.HistoryInline() {
				cp := *c.body
				bodies = append(bodies, &cp)
			}
		}})
		trackInto(b, f, t)
		t.Flush()
	}
	if len(bodies) == 0 {
		b.Fatal("no connection in the captures")
	}
	var l learner
	for _, bd := range bodies[:min(learnBodies, len(bodies))] {
		l.vote(bd)
	}
	cd := l.codec()
	images := make([][]byte, len(bodies))
	size := 0
	for i, bd := range bodies {
		images[i] = pack(nil, bd, cd)
		size += len(images[i])
	}
	var buf []byte
	b.Run("pack", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			buf = pack(buf[:0], bodies[i], cd)
			i = (i + 1) % len(bodies)
		}
		b.ReportMetric(float64(size)/float64(len(bodies)), "image-B")
	})
	into := new(body)
	b.Run("unpack", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			unpack(into, images[i], cd)
			i = (i + 1) % len(bodies)
		}
	})
}
