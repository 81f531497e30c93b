package entra

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

// onRequest fails only the nth Graph request.
func onRequest(n int, f graphfake.Fault) graphfake.FaultFunc {
	return func(_ *http.Request, i int) graphfake.Fault {
		if i == n {
			return f
		}
		return graphfake.Fault{}
	}
}

func TestEachFaultIsSurvivedWithExactRows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault graphfake.Fault
	}{
		{"429 without Retry-After", graphfake.Fault{Kind: graphfake.FaultStatus, Status: 429}},
		{"429 with fractional Retry-After", graphfake.Fault{Kind: graphfake.FaultStatus, Status: 429, RetryAfter: "0.125"}},
		{"503 with Retry-After", graphfake.Fault{Kind: graphfake.FaultStatus, Status: 503, RetryAfter: "1"}},
		{"504 with Retry-After", graphfake.Fault{Kind: graphfake.FaultStatus, Status: 504, RetryAfter: "0.2"}},
		{"500", graphfake.Fault{Kind: graphfake.FaultStatus, Status: 500}},
		{"connection dropped before the response", graphfake.Fault{Kind: graphfake.FaultDropBefore}},
		{"connection dropped during the body", graphfake.Fault{Kind: graphfake.FaultDropDuring}},
		{"truncated JSON", graphfake.Fault{Kind: graphfake.FaultTruncated}},
		{"page slower than the client's timeout", graphfake.Fault{Kind: graphfake.FaultSlow, Delay: 1500 * time.Millisecond}},
		{"token expired mid-scan", graphfake.Fault{Kind: graphfake.FaultExpiredToken}},
		{"failed skip token", graphfake.Fault{Kind: graphfake.FaultBadSkipToken}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Request 2 is the second page: rows have been streamed, so a
			// failure there must resume without repeating them.
			tn := newTenant(t, tenantOptions{rows: 5000, extraHCL: "request_timeout = 1", emulator: func(c *graphfake.Config) {
				c.Faults = onRequest(2, tc.fault)
			}})
			tokens := tn.srv.Stats().Tokens
			rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in"})
			sameIDs(t, tc.name, rows, tn.srv.Log().Select(func(*graphfake.Record) bool { return true }))
			if tn.srv.Stats().Requests < 2 {
				t.Fatal("the fault never happened")
			}
			if tc.fault.Kind == graphfake.FaultExpiredToken && tn.srv.Stats().Tokens == tokens {
				t.Fatal("no new token was asked for after the 401")
			}
			// A page whose skip token failed resumes from the oldest instant
			// streamed, not from the start. (A page that broke part-way is
			// asked for again; the rows it repeats are skipped, as checked above.)
			if tc.fault.Kind == graphfake.FaultBadSkipToken {
				third := tn.srv.Requests()[2].Query()
				if third.Get("$skiptoken") != "" || !strings.Contains(third.Get("$filter"), "createdDateTime le ") {
					t.Fatalf("the request after the failure was %v, want a resume from the last instant", third)
				}
			}
		})
	}
}

func TestExactUnderSeededFaultSchedules(t *testing.T) {
	rates := graphfake.FaultRates{Throttle: 0.05, ServerError: 0.10, Drop: 0.05, Truncate: 0.03, Slow: 0.02, SlowDelay: 1200 * time.Millisecond, TokenExpiry: 0.02, BadSkipToken: 0.03}
	for seed := int64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			tn := newTenant(t, tenantOptions{rows: 20_000, extraHCL: "request_timeout = 1",
				budget: "requests_per_window = 5\nrequest_window = 0.1",
				emulator: func(c *graphfake.Config) {
					c.Log.Seed = seed
					c.Faults = graphfake.RandomFaults(seed, rates)
					c.Throttle = graphfake.Throttle{Requests: 5, Window: 100 * time.Millisecond}
				}})
			from := testNow.Add(-20 * 24 * time.Hour)
			rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Quals: []localplugin.Qual{{Column: "created_date_time", Operator: ">=", Value: from}}})
			sameIDs(t, "scan under faults", rows, tn.srv.Log().Select(func(r *graphfake.Record) bool { return !r.At.Before(from) }))
			seen := map[string]bool{}
			for _, r := range rows {
				id := r["id"].(string)
				if seen[id] {
					t.Fatalf("row %s arrived twice", id)
				}
				seen[id] = true
			}
		})
	}
}

func TestBadInputIsRefusedWithOneSentence(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		opts     tenantOptions
		quals    []localplugin.Qual
		want     string
		requests bool // whether a Graph request may be made
	}{
		{"a window in the future", tenantOptions{}, []localplugin.Qual{{Column: "created_date_time", Operator: ">=", Value: now.Add(time.Hour)}}, "is in the future", false},
		{"a window before retention", tenantOptions{}, []localplugin.Qual{{Column: "created_date_time", Operator: "<", Value: now.Add(-40 * 24 * time.Hour)}}, "the earliest time that can be asked is " + now.Add(-retention).UTC().Format("2006-01-02"), false},
		{"a filter Graph refuses", tenantOptions{emulator: func(c *graphfake.Config) { c.Unfilterable = []string{"userType"} }},
			[]localplugin.Qual{{Column: "user_type", Operator: "=", Value: "guest"}, {Column: "app_id", Operator: "=", Value: "x"}}, "WHERE conditions on user_type, app_id", true},
		{"a tenant without P1/P2", tenantOptions{emulator: func(c *graphfake.Config) { c.NonPremium = true }}, nil, "has no Microsoft Entra ID P1 or P2 licence", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, tc.opts)
			_, err := tn.query(localplugin.Query{Table: "entra_sign_in", Quals: tc.quals})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if n := tn.listRequests(); !tc.requests && n > 0 {
				t.Fatalf("%d requests were sent for a query that cannot match", n)
			}
		})
	}
}

func TestMissingPermissionNamesWhatToGrant(t *testing.T) {
	tn := newTenant(t, tenantOptions{})
	// The same tenant, with an app that has only Directory.Read.All.
	const weak = "0000bbbb-0000-4000-8000-000000000001"
	srv := graphfake.New(graphfake.Config{Log: graphfake.Log{Rows: 10}, Clients: map[string]graphfake.Client{weak: {Secret: "w", Roles: []string{"Directory.Read.All"}}}})
	defer srv.Close()
	p, err := localplugin.Start(Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: fmt.Sprintf(
		"tenant_id = %q\nclient_id = %q\nclient_secret = \"w\"\nauthority_host = %q\ngraph_endpoint = %q\n", srv.TenantID(), weak, srv.URL, srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	tn.plugin = p
	_, err = tn.query(localplugin.Query{Table: "entra_sign_in"})
	if err == nil || !strings.Contains(err.Error(), "AuditLog.Read.All and Directory.Read.All") || !strings.Contains(err.Error(), "Reports Reader") {
		t.Fatalf("got %v", err)
	}
}

func TestUnreachableEndpointsSayWhere(t *testing.T) {
	srv := graphfake.New(graphfake.Config{Clients: map[string]graphfake.Client{"0000cccc-0000-4000-8000-000000000001": {Secret: "s"}}})
	defer srv.Close()
	for _, tc := range []struct{ name, authority, graph, want string }{
		{"a Graph without sign-in logs", srv.URL, srv.URL + "/not-graph", "has no sign-in logs"},
		{"Graph", srv.URL, "https://127.0.0.1:1", "cannot reach Graph at https://127.0.0.1:1"},
		{"the sign-in authority", "https://127.0.0.1:1", srv.URL, "signing in with the client secret of app 0000cccc-0000-4000-8000-000000000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := localplugin.Start(Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: fmt.Sprintf(
				"tenant_id = %q\nclient_id = \"0000cccc-0000-4000-8000-000000000001\"\nclient_secret = \"s\"\nauthority_host = %q\ngraph_endpoint = %q\n", srv.TenantID(), tc.authority, tc.graph)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = p.Execute(ctx, localplugin.Query{Connection: "entra", Table: "entra_sign_in", Columns: []string{"id"}}, func(localplugin.Row) bool { return true })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// scanGoroutines counts the goroutines running plugin or SDK code (idle
// HTTP connections kept for reuse are not part of a scan). One SDK
// goroutine is left out: after a cancellation, SDK v5.14.1's row builders
// (plugin/query_data.go, buildRowAsync) block forever sending rows nobody
// reads; that is the SDK's, outside what the plugin controls.
func scanGoroutines() int {
	buf := make([]byte, 1<<22)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "[chan send") && strings.Contains(g, "plugin.(*QueryData).buildRowAsync") {
			continue
		}
		if strings.Contains(g, "steampipe-plugin-sdk/v5/") || strings.Contains(g, "steampipe-plugin-entra/entra.") && !strings.Contains(g, "entra.Test") {
			n++
		}
	}
	return n
}

// settledGoroutines waits for the scan goroutines to come back to at most want.
func settledGoroutines(want int) int {
	n := scanGoroutines()
	for i := 0; i < 100 && n > want; i++ {
		time.Sleep(20 * time.Millisecond)
		n = scanGoroutines()
	}
	return n
}

func TestLimitAndCancelStopEveryRequest(t *testing.T) {
	tn := newTenant(t, tenantOptions{rows: 30_000, emulator: func(c *graphfake.Config) {
		c.PageLatency, c.LatencyJitter = 150*time.Millisecond, 50*time.Millisecond
	}})
	tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Limit: 1}) // warm up the connection
	baseline := scanGoroutines()

	// A limit the SQL engine applies (a qual Graph cannot take): pages of
	// 1000 read as concurrent slices, all stopped when the limit is met.
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Limit: 1500, Quals: []localplugin.Qual{{Column: "is_interactive", Operator: "=", Value: false}}})
	if len(rows) != 1500 {
		t.Fatalf("got %d rows", len(rows))
	}
	after := len(tn.srv.Requests())
	time.Sleep(400 * time.Millisecond)
	if n := len(tn.srv.Requests()); n != after {
		t.Fatalf("%d requests were sent after the limit was met", n-after)
	}
	if n := settledGoroutines(baseline); n > baseline {
		t.Fatalf("%d goroutines outlive the scan (baseline %d)", n, baseline)
	}

	// A query cancelled in the middle.
	ctx, cancel := context.WithCancel(context.Background())
	got := 0
	err := tn.plugin.Execute(ctx, localplugin.Query{Connection: "entra", Table: "entra_sign_in", Columns: []string{"id"}}, func(localplugin.Row) bool {
		if got++; got == 10 {
			cancel()
		}
		return true
	})
	if err != nil {
		t.Fatalf("a cancelled query: %v", err)
	}
	after = len(tn.srv.Requests())
	time.Sleep(400 * time.Millisecond)
	if n := len(tn.srv.Requests()); n != after {
		t.Fatalf("%d requests were sent after the query was cancelled", n-after)
	}
	if n := settledGoroutines(baseline); n > baseline {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines outlive the cancelled scan (baseline %d):\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

func TestConcurrentQueriesShareOneBudget(t *testing.T) {
	tn := newTenant(t, tenantOptions{rows: 8_000, budget: "requests_per_window = 5\nrequest_window = 1",
		emulator: func(c *graphfake.Config) {
			c.Throttle = graphfake.Throttle{Requests: 5, Window: time.Second}
			c.PageLatency = 20 * time.Millisecond
		}})
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := testNow.Add(-time.Duration(i+1) * 24 * time.Hour)
			rows, err := tn.query(localplugin.Query{Table: "entra_sign_in", Quals: []localplugin.Qual{{Column: "created_date_time", Operator: ">=", Value: from}}})
			if err == nil && len(rows) != len(tn.srv.Log().Select(func(r *graphfake.Record) bool { return !r.At.Before(from) })) {
				err = fmt.Errorf("query %d: %d rows", i, len(rows))
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := tn.srv.Stats(); st.Throttled != 0 || st.Requests < 10 {
		t.Fatalf("%d requests, %d throttled", st.Requests, st.Throttled)
	}
}

func TestAFailureAfterRowsReachesTheCaller(t *testing.T) {
	// Page 2 is refused for good: the rows of page 1 are out, and the query must fail, not end short.
	tn := newTenant(t, tenantOptions{rows: 5000, emulator: func(c *graphfake.Config) {
		c.Faults = func(_ *http.Request, n int) graphfake.Fault {
			if n >= 2 {
				return graphfake.Fault{Kind: graphfake.FaultStatus, Status: 500}
			}
			return graphfake.Fault{}
		}
	}})
	rows, err := tn.query(localplugin.Query{Table: "entra_sign_in"})
	if err == nil {
		t.Fatalf("the query ended without an error after %d rows", len(rows))
	}
}
