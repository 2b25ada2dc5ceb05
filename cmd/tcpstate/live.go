package main

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
)

// liveTick is how often a live capture ages its table on the wall clock,
// redraws, and flushes what it writes.
const liveTick = time.Second

// liveRun is what a live capture runs beside the packet loop: SIGINT and
// SIGTERM stop the capture (Next then returns io.EOF and the command ends
// as if a file had ended), and a ticker moves the table's clock with the
// wall clock, so that TIME_WAIT ends and idle connections go on a quiet
// interface too. The packet loop and the ticker share the analysis under
// mu.
type liveRun struct {
	mu   sync.Mutex
	a    *analysis
	ao   analyzeOptions
	save *packetWriter

	signals  chan os.Signal
	done     chan struct{}
	finished sync.WaitGroup
	once     sync.Once

	// progress line on standard error, when it is a terminal
	status     *os.File
	statusDrew bool
}

func startLive(a *analysis, o *sourceOptions, st *streams, ao analyzeOptions, save *packetWriter) *liveRun {
	l := &liveRun{a: a, ao: ao, save: save, signals: make(chan os.Signal, 2), done: make(chan struct{})}
	if f, ok := st.stderr.(*os.File); ok && !o.quiet && !ao.redraws && isatty.IsTerminal(f.Fd()) {
		l.status = f
	}
	signal.Notify(l.signals, syscall.SIGINT, syscall.SIGTERM)
	l.finished.Add(1)
	go l.run()
	return l
}

func (l *liveRun) run() {
	defer l.finished.Done()
	t := time.NewTicker(liveTick)
	defer t.Stop()
	for {
		select {
		case <-l.signals:
			// Next returns io.EOF once the source is closed; the packet
			// loop then ends normally.
			l.a.in.Close()
			return
		case <-l.done:
			return
		case now := <-t.C:
			l.tick(now)
		}
	}
}

func (l *liveRun) tick(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Live timestamps are the kernel's wall clock, so the wall clock can
	// stand in for the packets that did not come.
	l.a.table.Advance(now)
	if l.ao.tick != nil {
		l.ao.tick(l.a, now)
	}
	if l.save != nil {
		l.save.flush()
	}
	if l.status != nil {
		fmt.Fprintf(l.status, "\r\033[Kcapturing on %s: %s, %s (Ctrl-C to stop)",
			l.a.in.name, plural(l.a.packets, "packet"), plural(l.a.table.Stats().Conns, "connection"))
		l.statusDrew = true
	}
}

// stop ends the ticker and stops listening for signals. The source is
// closed by the caller (or already was, by a signal).
func (l *liveRun) stop() {
	l.once.Do(func() {
		signal.Stop(l.signals)
		close(l.done)
		l.finished.Wait()
		if l.statusDrew {
			fmt.Fprint(l.status, "\r\033[K")
		}
	})
}
