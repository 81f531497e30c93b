package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/turbot/steampipe-plugin-entra/entra"
	"github.com/turbot/steampipe-plugin-entra/internal/sqlengine"
)

// progress shows, on a terminal, how a long scan is going: rows so far,
// requests made, and when it waits for Graph's throttle.
type progress struct {
	out     io.Writer
	mu      sync.Mutex
	shown   bool
	done    chan struct{}
	stopped sync.WaitGroup
}

func startProgress(e *sqlengine.Engine, stderr io.Writer, show bool) *progress {
	p := &progress{out: stderr, done: make(chan struct{})}
	if !show {
		return p
	}
	start, before := time.Now(), entra.RequestStats()
	p.stopped.Add(1)
	go func() {
		defer p.stopped.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		last := before
		for {
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
			if time.Since(start) < time.Second {
				continue // quick queries show nothing
			}
			now := entra.RequestStats()
			line := fmt.Sprintf("%d rows, %d requests", e.RowsRead(), now.Requests-before.Requests)
			if now.Waited > last.Waited {
				line += ", waiting for Graph's throttle"
			}
			if n := now.Throttled - before.Throttled; n > 0 {
				line += fmt.Sprintf(", %d throttled", n)
			}
			last = now
			p.mu.Lock()
			fmt.Fprintf(p.out, "\r\033[K%s (%s)", line, time.Since(start).Round(time.Second))
			p.shown = true
			p.mu.Unlock()
		}
	}()
	return p
}

// clear erases the progress line before a result is printed.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.out, "\r\033[K")
		p.shown = false
	}
}

func (p *progress) stop() {
	close(p.done)
	p.stopped.Wait()
	p.clear()
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
