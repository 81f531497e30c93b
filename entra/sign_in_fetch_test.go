package entra

import (
	"net/http"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
)

func TestPacerNeverExceedsItsWindow(t *testing.T) {
	p := &pacer{limit: 5, window: 10 * time.Second}
	now := time.Unix(1_700_000_000, 0)
	var sent []time.Time
	for len(sent) < 40 {
		if d := p.reserve(now); d > 0 {
			now = now.Add(d)
			continue
		}
		sent = append(sent, now)
	}
	for i := 5; i < len(sent); i++ {
		if gap := sent[i].Sub(sent[i-5]); gap < 10*time.Second {
			t.Fatalf("requests %d and %d are %v apart: 6 in one 10 s window", i-5, i, gap)
		}
	}
	// Spending the whole budget: 40 requests in about 71.75 s (5 at once, then 5 per 10.25 s).
	if total := sent[len(sent)-1].Sub(sent[0]); total > 72*time.Second {
		t.Fatalf("40 requests took %v: the budget was not spent", total)
	}
	p.hold(3 * time.Second)
	if d := p.reserve(time.Now()); d < 2*time.Second {
		t.Fatalf("a 429 hold let a request through after %v", d)
	}
}

func TestFullScanIsExactAcrossConcurrentSlices(t *testing.T) {
	tn := newTenant(t, tenantOptions{rows: 30_000})
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in"})
	sameIDs(t, "full scan", rows, tn.srv.Log().Select(func(*graphfake.Record) bool { return true }))
	uppers := map[string]bool{}
	for _, u := range tn.srv.Requests() {
		if u.Query().Get("$skiptoken") == "" {
			uppers[u.Query().Get("$filter")] = true
		}
	}
	if len(uppers) < 3 {
		t.Fatalf("the 30-page scan was read as %d slice(s), want concurrent slices", len(uppers))
	}
	if n, pages := tn.listRequests(), 30; n > pages+len(uppers) {
		t.Fatalf("%d requests for %d pages in %d slices: more than one partial page per slice", n, pages, len(uppers))
	}
}

func TestPacingStaysUnderTheThrottle(t *testing.T) {
	tn := newTenant(t, tenantOptions{rows: 25_000,
		budget: "requests_per_window = 5\nrequest_window = 0.5",
		emulator: func(c *graphfake.Config) {
			c.Throttle = graphfake.Throttle{Requests: 5, Window: 500 * time.Millisecond}
			c.PageLatency, c.LatencyJitter = 30*time.Millisecond, 20*time.Millisecond
		}})
	start := time.Now()
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in"})
	took := time.Since(start)
	if len(rows) != 25_000 {
		t.Fatalf("got %d rows", len(rows))
	}
	st := tn.srv.Stats()
	if st.Throttled != 0 {
		t.Fatalf("%d of %d requests drew a 429", st.Throttled, st.Requests)
	}
	// 25+ requests at 5 per 0.5 s take at least 2 s after the first burst.
	if min := time.Duration(st.Requests-5) * 100 * time.Millisecond; took < min {
		t.Fatalf("%d requests in %v: faster than the budget allows (%v)", st.Requests, took, min)
	}
}

func TestThrottledRequestWaitsItsRetryAfter(t *testing.T) {
	tn := newTenant(t, tenantOptions{rows: 3000, emulator: func(c *graphfake.Config) {
		c.Faults = func(_ *http.Request, n int) graphfake.Fault {
			if n != 1 {
				return graphfake.Fault{}
			}
			return graphfake.Fault{Kind: graphfake.FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: "0.35"}
		}
	}})
	before := RequestStats()
	start := time.Now()
	rows := tn.mustQuery(localplugin.Query{Table: "entra_interactive_sign_in"})
	took := time.Since(start)
	want := tn.srv.Log().Select(func(r *graphfake.Record) bool { return r.Kind == graphfake.Interactive })
	sameIDs(t, "after a 429", rows, want)
	if took < 350*time.Millisecond {
		t.Fatalf("the retry came after %v, before Retry-After (0.35 s)", took)
	}
	if d := RequestStats().Throttled - before.Throttled; d != 1 {
		t.Fatalf("%d 429s counted, want 1", d)
	}
}

func TestLimiterBlocksSlowTheRequests(t *testing.T) {
	tn := newTenant(t, tenantOptions{rows: 6000})
	// limiter "entra_slow" { fill_rate = 4, bucket_size = 1 }: one request per 250 ms.
	if err := tn.plugin.SetRateLimiters(&proto.RateLimiterDefinition{Name: "entra_slow", FillRate: 4, BucketSize: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in"})
	took := time.Since(start)
	if len(rows) != 6000 {
		t.Fatalf("got %d rows", len(rows))
	}
	if n := tn.listRequests(); took < time.Duration(n-1)*240*time.Millisecond {
		t.Fatalf("%d requests in %v: the limiter block did not pace them", n, took)
	}
}

func TestBudgetLimiterBlockSetsTheBudget(t *testing.T) {
	rest := TakeBudgetLimiter([]*proto.RateLimiterDefinition{{Name: "other", FillRate: 1}, {Name: BudgetLimiter, FillRate: 0.5, BucketSize: 5}})
	if len(rest) != 1 || rest[0].Name != "other" || defaultBudget() != graphBudget {
		t.Fatalf("rest %v, budget %+v", rest, defaultBudget())
	}
	t.Cleanup(func() { TakeBudgetLimiter(nil) })

	// Graph allows 2 requests a second here; the block says so, and the
	// connection sets no budget of its own.
	tn := newTenant(t, tenantOptions{rows: 8000, budget: "# none", emulator: func(c *graphfake.Config) {
		c.Throttle = graphfake.Throttle{Requests: 2, Window: time.Second}
	}})
	if err := tn.plugin.SetRateLimiters(&proto.RateLimiterDefinition{Name: BudgetLimiter, FillRate: 2, BucketSize: 2}); err != nil {
		t.Fatal(err)
	}
	if b := defaultBudget(); b.requests != 2 || b.window != time.Second {
		t.Fatalf("budget %+v", b)
	}
	start := time.Now()
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in"})
	took := time.Since(start)
	st := tn.srv.Stats()
	if len(rows) != 8000 || st.Throttled != 0 {
		t.Fatalf("%d rows, %d of %d requests throttled", len(rows), st.Throttled, st.Requests)
	}
	// 8 pages at 2 a second: about 3.5 s; Graph's default budget would take over 10 s.
	if took < 2500*time.Millisecond || took > 8*time.Second {
		t.Fatalf("%d requests took %v: the limiter block's budget was not the one used", st.Requests, took)
	}
}
