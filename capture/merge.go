package capture

import (
	"errors"
	"io"
	"sync/atomic"
)

// merger is the Source Open returns: a k-way merge of the files by
// timestamp, stable in the order of the files. With one file it just numbers
// the packets.
//
// Each file holds its next packet in file.head. heap orders the files that
// have one, earliest first; the file whose packet Next returned last stays at
// the top until the following call reads its next packet, so its buffer is
// not overwritten while the caller still holds the data.
type merger struct {
	files   []*file
	heap    []int // indexes into files
	started bool
	pending bool // heap[0]'s head was returned: read its next packet first
	num     uint64
	err     error

	total   int64
	bytes   atomic.Int64  // updated by every read of a file
	packets atomic.Uint64 // num, published every progressEvery packets and at the end
}

// progressEvery is how often Next publishes its count for Progress: an
// atomic store per packet would cost a tenth of the time to read one.
const progressEvery = 256

func (m *merger) Next(p *Packet) error {
	if m.err != nil {
		return m.err
	}
	var err error
	if len(m.files) == 1 {
		err = m.files[0].next(p)
	} else {
		err = m.merge(p)
	}
	if err != nil {
		m.err = err
		m.packets.Store(m.num)
		return err
	}
	m.num++
	p.Num = m.num
	if m.num%progressEvery == 0 {
		m.packets.Store(m.num)
	}
	return nil
}

// merge fills p with the earliest packet of all files.
func (m *merger) merge(p *Packet) error {
	if err := m.advance(); err != nil {
		return err
	}
	if len(m.heap) == 0 {
		return io.EOF
	}
	f := m.files[m.heap[0]]
	if f.err != nil {
		return f.err // every packet of the other files before the damage is out
	}
	*p = f.head
	m.pending = true
	return nil
}

// broken puts file f's damage into the merge in place of its next packet:
// at the timestamp of the broken record when it is known, else at the last
// good packet's, which f.head still holds.
func (m *merger) broken(f *file, err error) {
	f.err = err
	t := f.head.Time
	if !f.brokenAt.IsZero() {
		t = f.brokenAt
	}
	f.head = Packet{Time: t}
}

// advance brings every file with packets left into the heap with its next
// packet in head.
func (m *merger) advance() error {
	if !m.started {
		m.started = true
		for i, f := range m.files {
			switch err := f.next(&f.head); err {
			case nil:
				m.heap = append(m.heap, i)
				m.up(len(m.heap) - 1)
			case io.EOF:
			default:
				m.broken(f, err)
				m.heap = append(m.heap, i)
				m.up(len(m.heap) - 1)
			}
		}
		return nil
	}
	if !m.pending {
		return nil
	}
	m.pending = false
	f := m.files[m.heap[0]]
	switch err := f.next(&f.head); err {
	case nil:
	case io.EOF:
		last := len(m.heap) - 1
		m.heap[0] = m.heap[last]
		m.heap = m.heap[:last]
	default:
		m.broken(f, err)
	}
	m.down(0)
	return nil
}

// less orders files by the timestamp of their next packet, then by their
// place in the list given to Open.
func (m *merger) less(i, j int) bool {
	a, b := m.files[m.heap[i]], m.files[m.heap[j]]
	if c := a.head.Time.Compare(b.head.Time); c != 0 {
		return c < 0
	}
	return a.index < b.index
}

func (m *merger) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !m.less(i, parent) {
			return
		}
		m.heap[i], m.heap[parent] = m.heap[parent], m.heap[i]
		i = parent
	}
}

func (m *merger) down(i int) {
	n := len(m.heap)
	for {
		least := i
		if l := 2*i + 1; l < n && m.less(l, least) {
			least = l
		}
		if r := 2*i + 2; r < n && m.less(r, least) {
			least = r
		}
		if least == i {
			return
		}
		m.heap[i], m.heap[least] = m.heap[least], m.heap[i]
		i = least
	}
}

func (m *merger) Close() error {
	var errs []error
	for _, f := range m.files {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if m.err == nil {
		m.err = errors.New("capture: source closed")
		m.packets.Store(m.num)
	}
	return errors.Join(errs...)
}

func (m *merger) Progress() Progress {
	return Progress{Bytes: m.bytes.Load(), Total: m.total, Packets: m.packets.Load()}
}
