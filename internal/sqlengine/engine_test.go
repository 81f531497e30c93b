package sqlengine

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/entra"
	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

func TestMain(m *testing.M) {
	os.Setenv("STEAMPIPE_LOG_LEVEL", "OFF")
	os.Exit(graphfake.RunTrusted(m))
}

var now = time.Now().UTC().Truncate(time.Second)

// fixture is an emulated tenant and SQL over it.
type fixture struct {
	t      *testing.T
	srv    *graphfake.Server
	engine *Engine
}

func newFixture(t *testing.T, rows int) *fixture {
	const client, secret = "0000eeee-0000-4000-8000-000000000001", "sql-secret"
	srv := graphfake.New(graphfake.Config{
		Log:     graphfake.Log{Seed: 21, Rows: rows, Now: now, Retention: 29 * 24 * time.Hour},
		Clients: map[string]graphfake.Client{client: {Secret: secret}},
	})
	t.Cleanup(srv.Close)
	cfg := fmt.Sprintf("tenant_id = %q\nclient_id = %q\nclient_secret = %q\nauthority_host = %q\ngraph_endpoint = %q\nrequests_per_window = 1000\nrequest_window = 1\n",
		srv.TenantID(), client, secret, srv.URL, srv.URL)
	p, err := localplugin.Start(entra.Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(context.Background(), p, "entra", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return &fixture{t: t, srv: srv, engine: e}
}

// query runs one statement and returns its rows.
func (f *fixture) query(sql string) ([][]any, error) {
	var rows [][]any
	err := f.engine.Exec(context.Background(), sql, func(r Result) error {
		rows = append(rows, r.Rows...)
		return nil
	})
	return rows, err
}

func (f *fixture) mustQuery(sql string) [][]any {
	f.t.Helper()
	rows, err := f.query(sql)
	if err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return rows
}

func (f *fixture) filters() []string {
	var out []string
	for _, u := range f.srv.Requests() {
		out = append(out, u.Query().Get("$filter"))
	}
	return out
}

func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func TestEveryTableThroughSQL(t *testing.T) {
	f := newFixture(t, 4000)
	from := now.Add(-5 * 24 * time.Hour)
	for table, kind := range map[string]string{
		"entra_sign_in": "", "entra_interactive_sign_in": graphfake.Interactive, "entra_non_interactive_sign_in": graphfake.NonInteractive,
		"entra_service_principal_sign_in": graphfake.ServicePrincipal, "entra_managed_identity_sign_in": graphfake.ManagedIdentity,
	} {
		rows := f.mustQuery(fmt.Sprintf("select count(*) from %s where created_date_time >= '%s'", table, iso(from)))
		want := len(f.srv.Log().Select(func(r *graphfake.Record) bool { return (kind == "" || r.Kind == kind) && !r.At.Before(from) }))
		if got := rows[0][0].(int64); int(got) != want || want == 0 {
			t.Errorf("%s: count %d, want %d", table, got, want)
		}
	}
}

func TestLimitNeverDropsRowsSQLWouldKeep(t *testing.T) {
	f := newFixture(t, 6000)
	for _, tc := range []struct {
		sql  string
		keep func(*graphfake.Record) bool
		top  string // the $top Graph must have been asked for
	}{
		{"select id from entra_sign_in where status_error_code <> 0 limit 5", func(r *graphfake.Record) bool { return r.Get("status/errorCode") != 0 }, "5"},
		{"select id from entra_sign_in where is_interactive = 0 limit 5", func(r *graphfake.Record) bool { return r.Get("isInteractive") == false }, "1000"},
		{"select id from entra_sign_in where user_principal_name like '%megan%' limit 3", func(r *graphfake.Record) bool { return strings.Contains(r.Str("userPrincipalName"), "megan") }, "1000"},
		{"select id from entra_sign_in where json_extract(status, '$.errorCode') = 50126 limit 4", func(r *graphfake.Record) bool { return r.Get("status/errorCode") == 50126 }, "1000"},
		{"select id from entra_sign_in where status_error_code = 0 limit 4 offset 3", func(r *graphfake.Record) bool { return r.Get("status/errorCode") == 0 }, "7"},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			f.srv.ResetStats()
			rows := f.mustQuery(tc.sql)
			var want int
			fmt.Sscanf(tc.sql[strings.Index(tc.sql, "limit ")+6:], "%d", &want)
			if len(rows) != want {
				t.Fatalf("got %d rows, want %d", len(rows), want)
			}
			for _, row := range rows {
				rec := f.srv.Log().Find(row[0].(string))
				if rec == nil || !tc.keep(rec) {
					t.Fatalf("row %v does not match the query", row[0])
				}
			}
			if top := f.srv.Requests()[0].Query().Get("$top"); top != tc.top {
				t.Fatalf("$top=%s, want %s", top, tc.top)
			}
		})
	}
}

func TestINListIsOneRequest(t *testing.T) {
	f := newFixture(t, 4000)
	from := now.Add(-3 * 24 * time.Hour)
	rows := f.mustQuery(fmt.Sprintf("select count(*) from entra_sign_in where sign_in_event_type in ('servicePrincipal', 'managedIdentity') and created_date_time >= '%s'", iso(from)))
	want := len(f.srv.Log().Select(func(r *graphfake.Record) bool {
		return (r.Kind == graphfake.ServicePrincipal || r.Kind == graphfake.ManagedIdentity) && !r.At.Before(from)
	}))
	if int(rows[0][0].(int64)) != want {
		t.Fatalf("count %v, want %d", rows[0][0], want)
	}
	filters := f.filters()
	if len(filters) != 1 || !strings.Contains(filters[0], "t eq 'servicePrincipal' or t eq 'managedIdentity'") {
		t.Fatalf("requests: %q", filters)
	}
}

func TestJoinPushesKeysIntoTheInnerScan(t *testing.T) {
	f := newFixture(t, 4000)
	from := now.Add(-10 * 24 * time.Hour)
	rows := f.mustQuery(fmt.Sprintf(`
		with analysts(upn) as (values ('adele.vance@contoso.example'), ('megan.vance@contoso.example'))
		select a.upn, count(s.id), sum(s.status_error_code <> 0)
		from analysts a join entra_sign_in s on s.user_principal_name = a.upn
		where s.created_date_time >= '%s'
		group by a.upn order by a.upn`, iso(from)))
	if len(rows) != 2 {
		t.Fatalf("got %v", rows)
	}
	for _, row := range rows {
		upn := row[0].(string)
		want := f.srv.Log().Select(func(r *graphfake.Record) bool { return r.Str("userPrincipalName") == upn && !r.At.Before(from) })
		if int(row[1].(int64)) != len(want) {
			t.Errorf("%s: %v sign-ins, want %d", upn, row[1], len(want))
		}
	}
	for _, upn := range []string{"adele.vance@contoso.example", "megan.vance@contoso.example"} {
		found := false
		for _, fl := range f.filters() {
			found = found || strings.Contains(fl, "userPrincipalName eq '"+upn+"'")
		}
		if !found {
			t.Fatalf("no request pushed the join key %s: %q", upn, f.filters())
		}
	}
}

func TestValuesNullsJSONTimesAndBooleans(t *testing.T) {
	f := newFixture(t, 3000)
	from := now.Add(-4 * 24 * time.Hour)
	rows := f.mustQuery(fmt.Sprintf(`select count(*) from entra_sign_in where created_date_time >= '%s' and user_principal_name is null`, iso(from)))
	want := len(f.srv.Log().Select(func(r *graphfake.Record) bool { return r.Str("userPrincipalName") == "" && !r.At.Before(from) }))
	if int(rows[0][0].(int64)) != want || want == 0 {
		t.Fatalf("null user_principal_name: %v, want %d", rows[0][0], want)
	}

	rec := f.srv.Log().Record(7)
	row := f.mustQuery(fmt.Sprintf(`select json_extract(status, '$.errorCode'), location ->> '$.city', is_interactive, created_date_time,
		typeof(service_principal_id), json_array_length(sign_in_event_types) from entra_sign_in where id = '%s'`, rec.ID()))[0]
	if row[0] != int64(rec.ErrorCode()) || row[1] != rec.Str("location/city") || row[3] != iso(rec.At) || row[5] != int64(1) {
		t.Fatalf("got %v for %s", row, rec.ID())
	}
	if b, ok := row[2].(int64); !ok || (b != 0 && b != 1) {
		t.Fatalf("is_interactive is %v, want 0 or 1", row[2])
	}

	// ISO-8601 text sorts as time does; bounds in other spellings are exact.
	times := f.mustQuery(fmt.Sprintf(`select created_date_time from entra_sign_in where created_date_time > '%s' order by created_date_time desc`,
		strings.Replace(iso(from), "T", " ", 1)))
	var got []string
	for _, r := range times {
		got = append(got, r[0].(string))
	}
	if !sort.IsSorted(sort.Reverse(sort.StringSlice(got))) || len(got) == 0 {
		t.Fatal("created_date_time does not sort")
	}
	wantN := len(f.srv.Log().Select(func(r *graphfake.Record) bool { return r.At.After(from) }))
	if len(got) != wantN {
		t.Fatalf("created_date_time > %s: %d rows, want %d", from, len(got), wantN)
	}
}

func TestErrorsSayWhatWentWrong(t *testing.T) {
	f := newFixture(t, 100)
	_, err := f.query("select 1;\nselect id fro entra_sign_in")
	if err == nil || !strings.Contains(err.Error(), "statement 2, line 2") || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("syntax error: %v", err)
	}
	_, err = f.query(fmt.Sprintf("select id from entra_sign_in where created_date_time >= '%s'", iso(now.Add(48*time.Hour))))
	if err == nil || !strings.Contains(err.Error(), "is in the future") {
		t.Fatalf("plugin error: %v", err)
	}
	_, err = f.query("select id from entra_sign_in where created_date_time >= 'last tuesday'")
	if err == nil || !strings.Contains(err.Error(), "not a time") {
		t.Fatalf("bad time: %v", err)
	}
}

func TestLikePrefixGoesToGraphAsStartswith(t *testing.T) {
	f := newFixture(t, 3000)
	from := now.Add(-10 * 24 * time.Hour)
	rows := f.mustQuery(fmt.Sprintf("select count(*) from entra_sign_in where user_principal_name like 'ADELE%%' and created_date_time >= '%s'", iso(from)))
	want := len(f.srv.Log().Select(func(r *graphfake.Record) bool {
		return strings.HasPrefix(r.Str("userPrincipalName"), "adele") && !r.At.Before(from)
	}))
	if int(rows[0][0].(int64)) != want || want == 0 {
		t.Fatalf("count %v, want %d (SQLite's LIKE ignores case)", rows[0][0], want)
	}
	if fl := f.filters(); len(fl) != 1 || !strings.Contains(fl[0], "startswith(userPrincipalName,'ADELE')") {
		t.Fatalf("requests: %q", fl)
	}
}
