package entra

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// pageSize is Graph's largest (and default) sign-in page.
const pageSize = 1000

// maxAttempts bounds how often one request is tried before the query fails.
const maxAttempts = 8

// retryBase is the first retry's delay when Graph gives no Retry-After;
// it doubles with each attempt, up to 32 times.
var retryBase = time.Second

// fetcher reads sign-ins for one query: paced, retried, resumed after
// failures without losing or repeating a row, and stopped as soon as the
// query has what it needs.
type fetcher struct {
	client *graphClient
	pacer  *pacer
	top    int // $top: the page size, or the LIMIT when smaller and safe
	// limiter, when set, waits for Steampipe's limiter blocks before each request.
	limiter func(context.Context)

	mu     sync.Mutex // serialises emit across concurrent slices
	emit   func(*signIn) bool
	done   bool               // emit asked to stop
	cancel context.CancelFunc // aborts the requests in flight once done
}

func newFetcher(c *graphClient, top int, emit func(*signIn) bool) *fetcher {
	if top <= 0 || top > pageSize {
		top = pageSize
	}
	return &fetcher{client: c, pacer: pacerFor(c.tenantID, c.clientID, c.budget(defaultBudget())), top: top, emit: emit}
}

// send is one logical request: paced, and retried while Graph or the
// network fails in a way that may pass (429, 5xx, drops, timeouts).
// handle must consume a successful response.
func (f *fetcher) send(ctx context.Context, rawURL string, handle func(*http.Response) error) error {
	var err error
	refreshed := false
	for attempt := 1; ; attempt++ {
		if f.limiter != nil {
			f.limiter(ctx)
		}
		if err := f.pacer.wait(ctx); err != nil {
			return err
		}
		err = f.client.send(ctx, rawURL, func(resp *http.Response) error {
			if resp.StatusCode >= 300 {
				return readGraphError(resp)
			}
			return handle(resp)
		})
		if err == nil || attempt == maxAttempts || ctx.Err() != nil {
			return err
		}
		var ge *graphError
		if errors.As(err, &ge) && ge.Status == http.StatusUnauthorized && f.client.cred.canRefresh && !refreshed {
			// The token expired or was revoked mid-scan: sign in again, once.
			refreshed = true
			f.client.cred.markStale()
			continue
		}
		if !retryable(err) || (unreachable(err) && attempt >= 3) {
			return err
		}
		delay := backoff(attempt)
		if errors.As(err, &ge) && ge.RetryAfter > 0 {
			delay = ge.RetryAfter
		}
		if errors.As(err, &ge) && ge.Status == http.StatusTooManyRequests {
			f.pacer.hold(delay) // every request of this app and tenant waits, not just this one
		}
		log.Printf("[WARN] entra: attempt %d of %s failed (%v); retrying in %s", attempt, redactURL(rawURL), err, delay)
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// backoff is exponential with jitter, from retryBase up to 32 times it.
func backoff(attempt int) time.Duration {
	d := retryBase << min(attempt-1, 5)
	return d/2 + time.Duration(rand.Int63n(int64(d/2)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// listURL is the first page of a filtered read.
func (f *fetcher) listURL(filter string) string {
	v := url.Values{}
	v.Set("$filter", filter)
	v.Set("$top", strconv.Itoa(f.top))
	return f.client.graphRoot + "/beta/auditLogs/signIns?" + v.Encode()
}

// deliver hands a record to the query; false once the query has enough.
func (f *fetcher) deliver(rec *signIn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return false
	}
	if !f.emit(rec) {
		f.done = true
		if f.cancel != nil {
			f.cancel()
		}
	}
	return !f.done
}

func (f *fetcher) stopped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}

// scan reads the query's window [from, to] (inclusive, whole seconds),
// newest first. When the first page shows that many pages remain, the
// rest of the window is cut into slices read concurrently, so that page
// latency does not leave the request budget unspent.
func (f *fetcher) scan(ctx context.Context, q signInQuery) error {
	ctx, f.cancel = context.WithCancel(ctx)
	defer f.cancel()
	// An open end is the retention window's: now, or 30 days back.
	from, to := q.from, q.to
	if to.IsZero() {
		to = time.Now().UTC().Truncate(time.Second)
	}
	if from.IsZero() {
		from = to.Add(-retention)
	}
	return f.scanSlice(ctx, q, window{q.from, q.to}, cursor{}, func(c cursor) []window {
		return f.split(from, to, c.lastAt)
	})
}

// retention is how far back Entra keeps sign-ins with P1/P2 (7 days on Free).
const retention = 30 * 24 * time.Hour

// window is a slice of the time range, inclusive at both ends.
type window struct{ from, to time.Time }

// cursor is how far a newest-first read has streamed: the oldest instant
// sent, and the ids sent at that instant.
type cursor struct {
	lastAt time.Time
	sent   map[string]bool
}

// seen says whether rec was streamed already (it is not older than the cursor),
// and otherwise moves the cursor to it.
func (c *cursor) seen(rec *signIn) bool {
	at := rec.CreatedDateTime
	if !c.lastAt.IsZero() && !at.Before(c.lastAt) {
		if at.After(c.lastAt) || c.sent[rec.ID] {
			return true
		}
	} else {
		c.lastAt = at
		if c.sent == nil {
			c.sent = map[string]bool{}
		}
		clear(c.sent) // reused: the fetch path moves to a new instant on most rows
	}
	c.sent[rec.ID] = true
	return false
}

// until is where a newest-first read of w goes on from: the cursor's
// instant once something was streamed, else the window's end.
func (c cursor) until(w window) time.Time {
	if c.lastAt.IsZero() {
		return w.to
	}
	return c.lastAt
}

func (c cursor) clone() cursor {
	out := cursor{lastAt: c.lastAt, sent: make(map[string]bool, len(c.sent))}
	for id := range c.sent {
		out.sent[id] = true
	}
	return out
}

// split decides, after a full first page that ended at lastAt, whether to
// read the rest [from, lastAt] as several slices. It estimates the pages
// left from the first page's density and cuts only when each slice would
// have many pages, as every slice ends with a partial page.
func (f *fetcher) split(from, to, lastAt time.Time) []window {
	covered := to.Sub(lastAt)
	left := lastAt.Sub(from)
	if f.top < pageSize || covered <= 0 || left <= 2*time.Second {
		return nil
	}
	pagesLeft := float64(left) / float64(covered)
	slices := min(int(pagesLeft/8), 3)
	if slices < 2 {
		return nil
	}
	var out []window
	step := left / time.Duration(slices)
	hi := lastAt
	for i := 0; i < slices; i++ {
		lo := hi.Add(-step).Truncate(time.Second)
		if i == slices-1 || lo.Before(from) {
			lo = from
		}
		out = append(out, window{lo, hi})
		hi = lo.Add(-time.Second)
	}
	return out
}

// scanSlice reads w newest first from cur, following nextLinks. When a
// request fails for good in the middle, the slice resumes from the oldest
// instant already streamed (createdDateTime le lastAt), skipping the ids
// already sent at that instant: nothing is lost and nothing repeats.
// After the first full page, split may return sub-windows for the rest of
// the slice, which are then read concurrently instead of the nextLink.
func (f *fetcher) scanSlice(ctx context.Context, q signInQuery, w window, cur cursor, split func(cursor) []window) error {
	next := f.listURL(q.fullFilter(w.from, cur.until(w)))
	resumed, resumedAt := false, time.Time{} // a resume that streams nothing new is not tried again

	for next != "" && !f.stopped() {
		var link string
		rows := 0
		err := f.send(ctx, next, func(resp *http.Response) error {
			var err error
			link, err = decodeSignInPage(resp.Body, f.client.tenantID, func(rec *signIn) bool {
				rows++
				return cur.seen(rec) || f.deliver(rec)
			})
			if err != nil {
				return &transientError{fmt.Errorf("reading a sign-in page: %w", err)}
			}
			link = f.client.onGraph(link)
			return nil
		})
		switch {
		case err == nil:
		case ctx.Err() != nil || f.stopped():
			return nil
		case !(resumed && cur.lastAt.Equal(resumedAt)) && (badSkipToken(err) || (retryable(err) && !unreachable(err) && !cur.lastAt.IsZero())):
			// The nextLink is dead (a lost skip token, or a page that keeps
			// failing): go on from the oldest instant streamed, or from the
			// slice's start when nothing was streamed yet.
			resumed, resumedAt = true, cur.lastAt
			log.Printf("[WARN] entra: resuming a sign-in scan at %s after: %v", cur.until(w).Format(time.RFC3339), err)
			link = f.listURL(q.fullFilter(w.from, cur.until(w)))
		default:
			return f.client.explain(err, &q)
		}
		if split != nil && link != "" && rows >= f.top {
			parts := split(cur)
			split = nil
			if len(parts) > 0 {
				return f.scanConcurrently(ctx, q, parts, cur)
			}
		}
		next = link
	}
	return nil
}

// scanConcurrently reads slices at once. The first one starts at the
// cursor of the read it continues.
func (f *fetcher) scanConcurrently(ctx context.Context, q signInQuery, parts []window, cur cursor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, w := range parts {
		start := cursor{}
		if i == 0 {
			start = cur.clone()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = f.scanSlice(ctx, q, w, start, nil); errs[i] != nil {
				cancel() // the query fails: stop the other slices
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// redactURL keeps a URL's path and filter for logs; it never holds secrets,
// but skip tokens are opaque and long.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "a Graph URL"
	}
	q := u.Query()
	if q.Has("$skiptoken") {
		q.Set("$skiptoken", "…")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
