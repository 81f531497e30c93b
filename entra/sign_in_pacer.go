package entra

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
)

// pacer keeps an app's requests to one tenant under Graph's budget for
// sign-in logs: at most `limit` requests in any `window` (5 per 10 s,
// reference §4.1). Graph counts a sliding window, so a token bucket with a
// burst would draw 429s; the pacer admits a request only when fewer than
// `limit` were sent in the last window.
type pacer struct {
	mu        sync.Mutex
	limit     int
	window    time.Duration
	sent      []time.Time // send times within the last window, oldest first
	holdUntil time.Time   // set by a 429's Retry-After

	// Counters for progress reports and benchmarks.
	requests  int64
	throttled int64
	waited    time.Duration
}

// PacerStats counts a tenant and app's sign-in requests in this process.
type PacerStats struct {
	Requests  int64         // requests sent (retries included)
	Throttled int64         // of which Graph answered 429
	Waited    time.Duration // total time requests waited for the budget
}

// RequestStats returns the counters of every tenant and app, summed.
func RequestStats() PacerStats {
	pacersMu.Lock()
	defer pacersMu.Unlock()
	var s PacerStats
	for _, p := range pacers {
		p.mu.Lock()
		s.Requests += p.requests
		s.Throttled += p.throttled
		s.Waited += p.waited
		p.mu.Unlock()
	}
	return s
}

var (
	pacersMu sync.Mutex
	pacers   = map[string]*pacer{}
)

// pacerFor returns the one pacer of a tenant and app, shared by every
// table, query and connection in the process.
func pacerFor(tenantID, clientID string, b budget) *pacer {
	pacersMu.Lock()
	defer pacersMu.Unlock()
	key := tenantID + "/" + clientID
	p := pacers[key]
	if p == nil {
		p = &pacer{}
		pacers[key] = p
	}
	p.mu.Lock()
	p.limit, p.window = b.requests, b.window
	p.mu.Unlock()
	return p
}

// budget is a request allowance per window.
type budget struct {
	requests int
	window   time.Duration
}

// graphBudget is Graph's documented allowance for sign-in logs.
var graphBudget = budget{requests: 5, window: 10 * time.Second}

// BudgetLimiter names the Steampipe `limiter` block that sets the sign-in
// request budget of every tenant and app: bucket_size requests in any
// bucket_size/fill_rate seconds (Graph's: bucket_size = 5, fill_rate = 0.5).
const BudgetLimiter = "entra_sign_in_requests"

// limiterBudget is the budget a BudgetLimiter block set; nil without one.
var limiterBudget atomic.Pointer[budget]

// defaultBudget is the budget of connections that do not set their own.
func defaultBudget() budget {
	if b := limiterBudget.Load(); b != nil {
		return *b
	}
	return graphBudget
}

// TakeBudgetLimiter reads the BudgetLimiter block from Steampipe's limiter
// definitions and returns the others, which the SDK applies on top. The
// budget is a sliding window per tenant and app, which Graph counts and
// the SDK's limiters (token buckets, scoped by connection or table) cannot
// express; without the block, the budget is Graph's.
func TakeBudgetLimiter(defs []*proto.RateLimiterDefinition) []*proto.RateLimiterDefinition {
	var rest []*proto.RateLimiterDefinition
	var found *budget
	for _, d := range defs {
		if d.Name != BudgetLimiter {
			rest = append(rest, d)
			continue
		}
		if d.BucketSize > 0 && d.FillRate > 0 {
			found = &budget{requests: int(d.BucketSize), window: time.Duration(float64(d.BucketSize) / float64(d.FillRate) * float64(time.Second))}
		}
	}
	limiterBudget.Store(found)
	return rest
}

// wait blocks until a request may be sent, and counts it as sent.
func (p *pacer) wait(ctx context.Context) error {
	for {
		delay := p.reserve(time.Now())
		if delay <= 0 {
			return nil
		}
		p.mu.Lock()
		p.waited += delay
		p.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// reserve counts a request sent at now and returns 0, or returns how long
// to wait before asking again.
func (p *pacer) reserve(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.holdUntil) {
		return p.holdUntil.Sub(now)
	}
	// A margin absorbs the jitter between our send times and Graph's
	// arrival times (a new connection's handshake, a busy machine): 2.5% of
	// the window, from 100 ms to 250 ms (Graph's 10 s window: 250 ms).
	window := p.window + min(max(p.window/40, 100*time.Millisecond), 250*time.Millisecond)
	kept := p.sent[:0]
	for _, t := range p.sent {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	p.sent = kept
	if len(p.sent) < p.limit {
		p.sent = append(p.sent, now)
		p.requests++
		return 0
	}
	return p.sent[len(p.sent)-p.limit].Add(window).Sub(now)
}

// hold stops every request of the tenant and app for d (a 429's Retry-After).
func (p *pacer) hold(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttled++
	if until := time.Now().Add(d); until.After(p.holdUntil) {
		p.holdUntil = until
	}
}
