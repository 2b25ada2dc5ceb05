package reassembly

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"time"
	"unsafe"

	"github.com/tcpstate/tcpstate/fsm"
)

// Compact keeps connections whose both ends are done (in TIME_WAIT or
// CLOSED) packed: the bytes of their body, about 1.6 KiB of plain values
// most of which are zero or small, in about a third of that. A capture of
// short connections leaves most of the table in TIME_WAIT, where a
// connection only waits for its timer and for late segments: packed, it
// costs about 0.9 KiB with its Conn and index slot instead of 2.1 KiB.
//
// The table packs them in sweeps, every sweepEvery segments and at every
// tick of its clock, so that a connection is not packed between two
// segments of its close;
// anything that needs the body again (a late segment, its departure,
// Conns) unpacks it first. The end of its TIME_WAIT does not: what the
// timers will do is worked out when it is packed, and they run at the next
// unpacking (see expireTimeWait). Packing and unpacking restore every
// byte, so nothing the table reports depends on them.

// bodyPlain is where the plain values of a body begin: after the Machine's
// overflow history, a slice header, its first word. TestBodyLayout checks
// that nothing after it holds a pointer.
const bodyPlain = unsafe.Sizeof([]byte(nil))

// bodyWords is the number of 8-byte words packed.
const bodyWords = int((unsafe.Sizeof(body{}) - bodyPlain) / 8)

// maxImage is the longest image pack writes: the bitmap, a length nibble
// and 8 bytes for every word, and 8 bytes of slack for its whole-word
// stores.
const maxImage = (bodyWords+7)/8 + (bodyWords+1)/2 + 8*bodyWords + 8

// plainWords returns the plain part of b as words.
func plainWords(b *body) *[bodyWords]uint64 {
	return (*[bodyWords]uint64)(unsafe.Add(unsafe.Pointer(b), bodyPlain))
}

// words is the plain part of a body, or a template.
type words = [bodyWords]uint64

// codec is what a table packs against, once it has learned it from the
// first bodies it packed (see learner): a template of the words most
// connections share, and predictors of words from earlier ones.
type codec struct {
	tpl   words
	preds []predictor // by the word predicted, in order
}

// predictor says that word i is packed as its difference from word j
// (j < i), or as the two XORed: sequence numbers, acknowledgments and
// times that differ from one connection to the next but little from
// another of the same connection's.
type predictor struct {
	i, j uint8
	sub  bool
}

// plain is the codec of an image packed before its table had one: nothing.
var plain codec

// pack appends the image of b against the codec cd to dst: a bitmap of the
// words that differ from the template's, then for each of those in order
// a nibble saying how many of the low bytes (1 to 8) of the word XOR the
// template's word matter, two to a byte, then those bytes. Words hold
// small counters, sequence numbers and times, so most bytes are zero or
// high zero bytes; most of the rest are the same in most connections of a
// capture (states, flags, the kinds of their transitions), which the
// template holds. A predicted word is first replaced by what its
// predictor leaves of it (and put back after).
func pack(dst []byte, b *body, cd *codec) []byte {
	const (
		mapLen  = (bodyWords + 7) / 8
		maxLens = (bodyWords + 1) / 2
	)
	w := plainWords(b)
	// From the last, so that each is predicted from words not yet
	// replaced.
	for k := len(cd.preds) - 1; k >= 0; k-- {
		p := cd.preds[k]
		if p.sub {
			w[p.i] -= w[p.j]
		} else {
			w[p.i] ^= w[p.j]
		}
	}
	tpl := &cd.tpl
	start := len(dst)
	dst = slices.Grow(dst, maxImage)[:start+maxImage]
	img := dst[start:]
	// The bytes go after room for every length, and move down to the
	// lengths' end once their number is known.
	bitmap, lens, data := img[:mapLen], img[mapLen:mapLen+maxLens], img[mapLen+maxLens:]
	clear(bitmap)
	n, at := 0, 0
	for i, v := range w {
		v ^= tpl[i]
		if v == 0 {
			continue
		}
		bitmap[i/8] |= 1 << (i % 8)
		l := (bits.Len64(v) + 7) / 8
		if n%2 == 0 {
			lens[n/2] = byte(l - 1)
		} else {
			lens[n/2] |= byte(l-1) << 4
		}
		n++
		binary.LittleEndian.PutUint64(data[at:], v)
		at += l
	}
	used := mapLen + (n+1)/2
	copy(img[used:], data[:at])
	cd.restore(w)
	return dst[:start+used+at]
}

// restore puts back the predicted words of w from what their predictors
// left of them, from the first: each from words already put back.
func (cd *codec) restore(w *words) {
	for _, p := range cd.preds {
		if p.sub {
			w[p.i] += w[p.j]
		} else {
			w[p.i] ^= w[p.j]
		}
	}
}

// unpack fills b from an image pack wrote against the codec cd. It leaves
// the overflow history as it is: pack is only used on bodies whose
// overflow holds nothing.
//
// The bitmap is read 64 words at a time, the lengths 16 at a time (one
// 8-byte load, used 4 bits a word), and a word's bytes with one 8-byte
// load while the image's capacity has 8 bytes left from it (the bytes past
// the word are masked off): a few bytes before the end of the image, one
// at a time. The loop keeps its few values in registers: a length read a
// byte at a time and an index checked on every word made the compiler keep
// some on the stack, and unpacking took 310 ns a connection at the end of
// a capture.
func unpack(b *body, image []byte, cd *codec) {
	w := plainWords(b)
	*w = cd.tpl
	const mapLen = (bodyWords + 7) / 8
	var bitmap [(bodyWords + 63) / 64]uint64
	n := 0
	for q := range bitmap {
		var m uint64
		if at := 8 * q; at+8 <= mapLen {
			m = binary.LittleEndian.Uint64(image[at:])
		} else {
			for j := mapLen - 1; j >= at; j-- {
				m = m<<8 | uint64(image[j])
			}
		}
		bitmap[q] = m
		n += bits.OnesCount64(m)
	}
	whole := image[:cap(image)]
	lens := mapLen         // where the next lengths are
	at := mapLen + (n+1)/2 // where the next word's bytes are
	fast := len(whole) - 8 // the last place an 8-byte load may start
	var nib uint64         // lengths not yet used, low first
	left := 0              // lengths in nib
	// Ranging over bitmap[:], not bitmap: an array ranged over is copied
	// first, with wide loads of the words just stored (a stall).
	for q, m := range bitmap[:] {
		ws := w[64*q:]
		for ; m != 0; m &= m - 1 {
			if left == 0 {
				if lens <= fast {
					nib = binary.LittleEndian.Uint64(whole[lens:])
				} else {
					nib = 0
					for j := len(whole) - 1; j >= lens; j-- {
						nib = nib<<8 | uint64(whole[j])
					}
				}
				lens += 8
				left = 16
			}
			l := int(nib&0xf) + 1
			nib >>= 4
			left--
			var v uint64
			if at <= fast {
				v = binary.LittleEndian.Uint64(whole[at:]) & (^uint64(0) >> (uint(64-8*l) & 63))
			} else {
				for j := at + l; j > at; j-- {
					v = v<<8 | uint64(whole[j-1])
				}
			}
			at += l
			ws[bits.TrailingZeros64(m)&63] ^= v
		}
	}
	cd.restore(w)
}

// sweepEvery is how many segments go between two sweeps: each sweep looks
// only at the connections filed since the one before, so it costs about
// nothing when nothing closed.
const sweepEvery = 256

// maxPooled bounds the bodies a table keeps for reuse.
const maxPooled = 512

// getBody returns a body to fill in: a pooled one, or a new one.
func (t *Table) getBody() *body {
	if n := len(t.bodies); n > 0 {
		b := t.bodies[n-1]
		t.bodies = t.bodies[:n-1]
		return b
	}
	if t.cfg.Recycle {
		if len(t.bodySlab) == 0 {
			t.bodySlab = make([]body, slabConns)
		}
		b := &t.bodySlab[0]
		t.bodySlab = t.bodySlab[1:]
		return b
	}
	return new(body)
}

// putBody keeps b for reuse. Its overflow history must hold nothing.
func (t *Table) putBody(b *body) {
	if len(t.bodies) < maxPooled {
		t.bodies = append(t.bodies, b)
	}
}

// sleep packs c, which is done, and lets its body go.
func (t *Table) sleep(c *Conn) {
	if c.body == nil || !c.Machine.HistoryInline() {
		return
	}
	cd := t.codecFor(c.body)
	if c.xor = cd != &plain; c.xor {
		t.xorPacks++
	}
	t.scratch = pack(t.scratch[:0], c.body, cd)
	img := c.image()
	if n := len(t.scratch); imageClass(cap(img)) != imageClass(n) || cap(img) < n {
		t.images.put(img)
		img = t.images.get(n)
	}
	c.setImage(append(img[:0], t.scratch...))
	c.timer = 0
	var last int64 // the latest deadline
	for _, r := range [...]fsm.Role{fsm.Client, fsm.Server} {
		if c.Machine.State(r) == fsm.TimeWait {
			at := c.Machine.TimeWaitSince(r).Add(t.cfg.FSM.TimeWait()).UnixNano()
			if c.timer == 0 || at < c.timer {
				c.timer = at
			}
			last = max(last, at)
		}
	}
	c.expiry = 0
	if c.timer != 0 && t.cfg.Transition == nil {
		// What the timers will do, worked out on a copy of the machine
		// (its history is inline, so the copy shares nothing of it). A
		// history that would outgrow its inline room is left to the
		// timers of an unpacked connection.
		m := c.Machine
		if n := m.Advance(time.Unix(0, last)); n > 0 && m.HistoryInline() {
			c.setExpiry(uint8(n), classOf(&m))
		}
	}
	t.putBody(c.body)
	c.body = nil
	t.packs++
}

// codecFor returns what sleep packs b against: the table's codec once it
// has learned one, else plain (b's words then count towards it).
func (t *Table) codecFor(b *body) *codec {
	if t.codec != nil {
		return t.codec
	}
	if t.learn == nil {
		t.learn = new(learner)
	}
	if t.learn.vote(b); t.learn.seen == learnBodies {
		t.codec, t.learn = t.learn.codec(), nil
	}
	return &plain
}

// learner works out a codec from the first bodies a table packs. The
// template holds, for each word, the value most of them hold (Boyer and
// Moore's majority vote: the value held by more than half of them if there
// is one, else one of the commonest, in one pass). On a capture of 90k
// short connections, the template of the first 256 left the images 29%
// smaller (437 bytes on average against 312), on a steady one 16% (422
// against 354); it packs and unpacks faster too, with fewer words to
// write. The predictors are then chosen on the first learnSamples bodies
// (see predict).
type learner struct {
	value, votes words
	seen         int
	samples      []words
}

const (
	// learnBodies is how many bodies a table learns its codec from.
	learnBodies = 256
	// learnSamples is how many of them the predictors are chosen on.
	learnSamples = 64
)

// vote counts b's words.
func (l *learner) vote(b *body) {
	if len(l.samples) < learnSamples {
		l.samples = append(l.samples, *plainWords(b))
	}
	for i, v := range plainWords(b) {
		switch {
		case l.votes[i] == 0:
			l.value[i], l.votes[i] = v, 1
		case l.value[i] == v:
			l.votes[i]++
		default:
			l.votes[i]--
		}
	}
	l.seen++
}

// codec returns the codec learned: the template, and the predictors that
// save the samples at least a byte a word on average.
func (l *learner) codec() *codec {
	cd := &codec{tpl: l.value}
	for i := range bodyWords {
		if p, ok := l.predict(i, &cd.tpl); ok {
			cd.preds = append(cd.preds, p)
			cd.tpl[i] = 0
		}
	}
	return cd
}

// predictReach is how far before a word its predictor may be: far enough
// for the same field of the other end of the connection, and for the
// transition before in the history.
const predictReach = 24

// predict returns the best predictor of word i, and whether it saves the
// samples at least a byte a word against the template alone. A word costs
// half a byte for its length and its bytes.
func (l *learner) predict(i int, tpl *words) (predictor, bool) {
	cost := func(v uint64) int { // in half bytes
		if v == 0 {
			return 0
		}
		return 1 + 2*((bits.Len64(v)+7)/8)
	}
	base := 0
	for s := range l.samples {
		base += cost(l.samples[s][i] ^ tpl[i])
	}
	need := 2 * len(l.samples) // a byte a word
	if base < need {
		return predictor{}, false
	}
	best, found := base-need+1, predictor{}
	for j := max(0, i-predictReach); j < i; j++ {
		for _, sub := range [...]bool{false, true} {
			c := 0
			for s := range l.samples {
				w := &l.samples[s]
				r := w[i] ^ w[j]
				if sub {
					r = w[i] - w[j]
				}
				if c += cost(r); c >= best {
					break
				}
			}
			if c < best {
				best, found = c, predictor{uint8(i), uint8(j), sub}
			}
		}
	}
	return found, best <= base-need
}

// imagePool keeps the images of connections that left, by class, for
// the next connections packed. An image is only reused for one of its own
// class: were a connection to keep its image for the next one, as it
// keeps its body, every image would in time grow to the largest length
// seen, and the smaller ones it left would scatter holes through the heap.
type imagePool struct {
	free [imageClasses][][]byte
	n    int // images in free
}

const (
	// imageStep is the width of an image class: the allocator's size
	// classes are 32 bytes apart up to 512 bytes, where most images are
	// (about 200 to 500 bytes against a template), and 64 apart above,
	// so an image of a class wastes no more than the allocator would.
	// (64-byte classes left 0.5-1 MiB more of a 1M-packet capture's 75.)
	imageStep    = 32
	imageClasses = (maxImage+imageStep-1)/imageStep + 1
	// maxPooledImages bounds the images a table keeps for reuse.
	maxPooledImages = 1024
)

// imageClass returns the class of an image of n bytes: its length rounded
// up to imageStep, in steps.
func imageClass(n int) int { return (n + imageStep - 1) / imageStep }

// get returns an empty image with room for n bytes.
func (p *imagePool) get(n int) []byte {
	k := imageClass(n)
	if f := p.free[k]; len(f) > 0 {
		img := f[len(f)-1]
		p.free[k] = f[:len(f)-1]
		p.n--
		return img
	}
	return make([]byte, 0, k*imageStep)
}

// put keeps img for reuse, unless the pool is full.
func (p *imagePool) put(img []byte) {
	k := cap(img) / imageStep // the class whose lengths all fit
	if k == 0 || k >= imageClasses || p.n >= maxPooledImages {
		return
	}
	p.free[k] = append(p.free[k], img[:0])
	p.n++
}

// timerDue reports whether c's TIME_WAIT may have run out at now: always
// for a connection not packed, whose timer is not noted.
func (c *Conn) timerDue(now time.Time) bool {
	// A microsecond early: the machine's own clock decides.
	return c.body != nil || c.timer != 0 && now.UnixNano()+1000 >= c.timer
}

// wake unpacks c if it is packed, and runs the TIME_WAIT timers it owes.
func (t *Table) wake(c *Conn) {
	if c.body != nil {
		return
	}
	b := t.getBody()
	cd := &plain
	if c.xor {
		cd = t.codec
	}
	unpack(b, c.image(), cd)
	c.body = b
	c.imageLen = 0 // the image is kept for the next sleep
	if c.owed {
		c.owed = false
		c.Machine.Advance(t.now)
	}
}

// expireTimeWait ends the TIME_WAIT of c's ends, as Machine.Advance does
// once the table's clock is past c.Last plus TIME_WAIT, and reports
// whether it could without unpacking c: when c is packed and sleep worked
// out what the timers will do. Every end in TIME_WAIT is then due (each
// entered it at or before c.Last), and Advance dates each transition at
// its end's deadline, not at the time it runs: run at c's next wake, the
// timers leave the machine exactly as they would have now. The caller
// files c in c.after; Transition is not set (sleep sees to that), so
// nothing is handed out now that the history would only show later.
func (t *Table) expireTimeWait(c *Conn) bool {
	if c.body != nil || c.tw() == 0 {
		return false
	}
	t.stats.TimeWaitClosed += uint64(c.tw())
	c.owed, c.expiry, c.timer = true, c.expiry&^3, 0
	return true
}

// repack packs c again at once if it was packed and is still done: a
// timer that unpacked it (TIME_WAIT running out) leaves nothing to wait
// for, and the timers of one tick would otherwise unpack thousands of
// connections at once.
func (t *Table) repack(c *Conn, packed bool) {
	if packed && done(c) {
		t.sleep(c) // the next sweep walks past it, to those filed before it
	}
}

// sweep packs the connections whose both ends are done and that were filed
// since the last sweep: those at the back of the TIME_WAIT and done lists,
// back to the first one an earlier sweep saw there.
func (t *Table) sweep() {
	if !t.cfg.Compact {
		return
	}
	for _, cl := range [...]class{classTimeWait, classDone} {
		for c := t.lists[cl].tail; c != nil && !c.swept; c = c.prev {
			c.swept = true
			if c.body != nil && done(c) {
				t.sleep(c)
			}
		}
	}
}

// done reports whether neither end of c can do more than wait: each is in
// TIME_WAIT or CLOSED (or LISTEN, a server that never took part).
func done(c *Conn) bool {
	for _, st := range [...]fsm.State{c.Machine.State(fsm.Client), c.Machine.State(fsm.Server)} {
		if st != fsm.Closed && st != fsm.TimeWait && st != fsm.Listen {
			return false
		}
	}
	return true
}

// retire hands the body of a connection that has left the table, and
// whose Finished call is over, back for reuse (Config.Compact).
func (t *Table) retire(c *Conn) {
	if c.body == nil {
		return
	}
	t.images.put(c.image())
	c.setImage(nil)
	b := c.body
	c.body = nil
	if !b.Machine.HistoryInline() {
		// Its overflow history may be the caller's still (a copy of the
		// Machine shares it): not reused.
		return
	}
	// Not reset: whoever takes it from the pool fills every byte of it
	// (newConn resets the machine and alloc the rest; unpack overwrites
	// it all).
	t.putBody(b)
}

// takeBack takes a connection that Finished is done with for reuse: the
// whole of it if whole (the caller's Config.Recycle), else its body with
// Compact. It is how the worker tables of Sharded, which hand their
// connections over later, reuse them.
func (t *Table) takeBack(c *Conn, whole bool) {
	if t.cfg.Compact {
		// The body goes to the pool that wake and alloc draw from.
		t.retire(c)
	} else if c.body != nil && !c.Machine.HistoryInline() {
		c.body = nil // as retire does
	}
	if whole && t.nfree < t.conns.len()+minFree {
		c.prev, c.next = nil, t.free
		t.free = c
		t.nfree++
	}
}
