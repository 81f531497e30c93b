package entra

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

// TestMain trusts the emulator's TLS certificate the way a user behind a
// TLS-inspecting proxy would, through SSL_CERT_FILE, and clears any real
// credentials from the environment.
func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		undo, _ := graphfake.TrustEmulator()
		code := runChild(spec)
		undo()
		os.Exit(code)
	}
	for _, v := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD"} {
		os.Unsetenv(v)
	}
	retryBase = 20 * time.Millisecond // faults are many in tests; backing off for seconds adds nothing
	if os.Getenv("STEAMPIPE_LOG_LEVEL") == "" {
		os.Setenv("STEAMPIPE_LOG_LEVEL", "ERROR")
	}
	os.Exit(graphfake.RunTrusted(m))
}

// testNow is the emulated tenant's clock: its newest sign-in.
var testNow = time.Now().UTC().Truncate(time.Second)

var clientSeq atomic.Int64

// tenant is an emulated tenant with the plugin connected to it.
type tenant struct {
	t        testing.TB
	srv      *graphfake.Server
	plugin   *localplugin.Plugin
	clientID string
	secret   string
}

// tenantOptions tune a test tenant.
type tenantOptions struct {
	rows     int
	budget   string // requests_per_window and request_window HCL; default: no pacing to speak of; "# none" for the plugin-wide budget
	extraHCL string
	emulator func(*graphfake.Config)
}

// newTenant starts an emulator and a plugin connection named "entra" to it.
// Each tenant gets its own app id, so throttle budgets never mix between tests.
func newTenant(t testing.TB, o tenantOptions) *tenant {
	t.Helper()
	if o.rows == 0 {
		o.rows = 4000
	}
	clientID := fmt.Sprintf("0000aaaa-0000-4000-8000-%012d", clientSeq.Add(1))
	secret := "s3cret-" + clientID[24:]
	cfg := graphfake.Config{
		// 29 days: every row stays inside the plugin's 30-day window while tests run.
		Log:     graphfake.Log{Seed: 11, Rows: o.rows, Now: testNow, Retention: 29 * 24 * time.Hour},
		Clients: map[string]graphfake.Client{clientID: {Secret: secret}},
	}
	if o.emulator != nil {
		o.emulator(&cfg)
	}
	srv := graphfake.New(cfg)
	t.Cleanup(srv.Close)
	if o.budget == "" {
		o.budget = "requests_per_window = 1000\nrequest_window = 1"
	}
	hcl := fmt.Sprintf(`
tenant_id      = %q
client_id      = %q
client_secret  = %q
authority_host = %q
graph_endpoint = %q
%s
%s
`, srv.TenantID(), clientID, secret, srv.URL, srv.URL, o.budget, o.extraHCL)
	p, err := localplugin.Start(Plugin, "entra", localplugin.Options{LimiterTap: TakeBudgetLimiter}, localplugin.Connection{Name: "entra", Config: hcl})
	if err != nil {
		t.Fatalf("starting the plugin: %v", err)
	}
	return &tenant{t: t, srv: srv, plugin: p, clientID: clientID, secret: secret}
}

// query runs a scan and returns its rows.
func (tn *tenant) query(q localplugin.Query) ([]localplugin.Row, error) {
	tn.t.Helper()
	if q.Connection == "" {
		q.Connection = "entra"
	}
	if q.Columns == nil {
		q.Columns = []string{"id", "created_date_time", "sign_in_event_type"}
	}
	var rows []localplugin.Row
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := tn.plugin.Execute(ctx, q, func(r localplugin.Row) bool {
		rows = append(rows, r)
		return true
	})
	return rows, err
}

func (tn *tenant) mustQuery(q localplugin.Query) []localplugin.Row {
	tn.t.Helper()
	rows, err := tn.query(q)
	if err != nil {
		tn.t.Fatalf("query %s: %v", q.Table, err)
	}
	return rows
}

// ids returns the rows' ids, sorted.
func ids(rows []localplugin.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i], _ = r["id"].(string)
	}
	sort.Strings(out)
	return out
}

func recordIDs(recs []*graphfake.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID()
	}
	sort.Strings(out)
	return out
}

// sameIDs fails the test unless the plugin returned exactly the emulator's rows.
func sameIDs(t testing.TB, what string, got []localplugin.Row, want []*graphfake.Record) {
	t.Helper()
	g, w := ids(got), recordIDs(want)
	if len(g) != len(w) {
		t.Fatalf("%s: got %d rows, want %d", what, len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("%s: row %d is %s, want %s", what, i, g[i], w[i])
		}
	}
}

// listRequests returns the list requests the emulator served.
func (tn *tenant) listRequests() int {
	n := 0
	for _, u := range tn.srv.Requests() {
		if filepath.Base(u.Path) == "signIns" {
			n++
		}
	}
	return n
}
