package entra

import (
	"strings"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

func TestQualsGoToGraphAndRowsMatch(t *testing.T) {
	tn := newTenant(t, tenantOptions{emulator: func(c *graphfake.Config) { c.ScanLimit = 2000 }})
	log := tn.srv.Log()
	from := testNow.Add(-20 * 24 * time.Hour)
	for _, tc := range []struct {
		name   string
		table  string
		quals  []localplugin.Qual
		keep   func(*graphfake.Record) bool
		filter string // a clause the request must carry
	}{
		{"one user", "entra_sign_in", []localplugin.Qual{{Column: "user_principal_name", Operator: "=", Value: "adele.vance@contoso.example"}},
			func(r *graphfake.Record) bool { return r.Str("userPrincipalName") == "adele.vance@contoso.example" },
			"userPrincipalName eq 'adele.vance@contoso.example'"},
		{"failures outside the US", "entra_interactive_sign_in", []localplugin.Qual{
			{Column: "status_error_code", Operator: "<>", Value: int64(0)}, {Column: "location_country_or_region", Operator: "<>", Value: "US"}},
			func(r *graphfake.Record) bool {
				return r.Kind == graphfake.Interactive && r.ErrorCode() != 0 && r.Str("location/countryOrRegion") != "US"
			},
			"status/errorCode ne 0 and location/countryOrRegion ne 'US'"},
		{"apps by prefix", "entra_service_principal_sign_in", []localplugin.Qual{{Column: "service_principal_name", Operator: "~~", Value: "contoso-%"}},
			func(r *graphfake.Record) bool {
				return r.Kind == graphfake.ServicePrincipal && strings.HasPrefix(r.Str("servicePrincipalName"), "contoso-")
			},
			"startswith(servicePrincipalName,'contoso-')"},
		{"kinds by IN", "entra_sign_in", []localplugin.Qual{{Column: "sign_in_event_type", Operator: "=", Value: []any{"managedIdentity", "servicePrincipal"}},
			{Column: "created_date_time", Operator: ">", Value: from}},
			func(r *graphfake.Record) bool {
				return (r.Kind == graphfake.ManagedIdentity || r.Kind == graphfake.ServicePrincipal) && r.At.After(from)
			},
			"signInEventTypes/any(t: t eq 'servicePrincipal' or t eq 'managedIdentity')"},
		{"error codes by IN", "entra_non_interactive_sign_in", []localplugin.Qual{{Column: "status_error_code", Operator: "=", Value: []any{int64(50173), int64(70043)}}},
			func(r *graphfake.Record) bool {
				return r.Kind == graphfake.NonInteractive && (r.ErrorCode() == 50173 || r.ErrorCode() == 70043)
			},
			"(status/errorCode eq 50173 or status/errorCode eq 70043)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn.srv.ResetStats()
			rows := tn.mustQuery(localplugin.Query{Table: tc.table, Quals: tc.quals})
			want := log.Select(func(r *graphfake.Record) bool {
				return kindIn(r, tableKinds[tc.table]) && tc.keep(r)
			})
			if len(want) == 0 {
				t.Fatal("no rows match; the question is too narrow for the emulator's log")
			}
			sameIDs(t, tc.name, rows, want)
			for _, u := range tn.srv.Requests() {
				if !strings.Contains(u.Query().Get("$filter"), tc.filter) {
					t.Fatalf("request %s lacks %q", u.Query().Get("$filter"), tc.filter)
				}
			}
		})
	}
}

func TestSelectiveQueryMakesOneRequestPerThousandRows(t *testing.T) {
	tn := newTenant(t, tenantOptions{rows: 30000})
	log := tn.srv.Log()
	day := testNow.Add(-24 * time.Hour)
	tn.srv.ResetStats()
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Quals: []localplugin.Qual{
		{Column: "user_principal_name", Operator: "=", Value: "megan.vance@contoso.example"},
		{Column: "created_date_time", Operator: ">=", Value: day}}})
	want := log.Select(func(r *graphfake.Record) bool {
		return r.Str("userPrincipalName") == "megan.vance@contoso.example" && !r.At.Before(day)
	})
	sameIDs(t, "one user, one day", rows, want)
	if n := tn.listRequests(); n != 1 {
		t.Fatalf("%d rows took %d requests, want 1", len(rows), n)
	}

	// Over 1000 matching rows: exactly ceil(rows/1000) requests, no more.
	tn.srv.ResetStats()
	week := testNow.Add(-7 * 24 * time.Hour)
	rows = tn.mustQuery(localplugin.Query{Table: "entra_non_interactive_sign_in", Quals: []localplugin.Qual{{Column: "created_date_time", Operator: ">=", Value: week}}})
	want = log.Select(func(r *graphfake.Record) bool { return r.Kind == graphfake.NonInteractive && !r.At.Before(week) })
	sameIDs(t, "a week of non-interactive sign-ins", rows, want)
	if n, pages := tn.listRequests(), (len(want)+999)/1000; n != pages {
		t.Fatalf("%d rows took %d requests, want %d", len(rows), n, pages)
	}
}

func TestLimitBecomesTopAndStopsTheScan(t *testing.T) {
	tn := newTenant(t, tenantOptions{})
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Limit: 10})
	if len(rows) != 10 {
		t.Fatalf("got %d rows", len(rows))
	}
	reqs := tn.srv.Requests()
	if len(reqs) != 1 || reqs[0].Query().Get("$top") != "10" {
		t.Fatalf("requests %v, want one with $top=10", reqs)
	}

	// A qual Graph cannot take: the SQL engine filters, so $top must not shrink the page.
	tn.srv.ResetStats()
	tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Limit: 5, Quals: []localplugin.Qual{{Column: "is_interactive", Operator: "=", Value: true}}})
	if top := tn.srv.Requests()[0].Query().Get("$top"); top != "1000" {
		t.Fatalf("$top=%s with an unpushed qual, want 1000", top)
	}

	// A limit over a page stops after the page that meets it.
	tn.srv.ResetStats()
	rows = tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Limit: 1500})
	if len(rows) != 1500 || tn.listRequests() != 2 {
		t.Fatalf("limit 1500: %d rows in %d requests, want 1500 in 2", len(rows), tn.listRequests())
	}
}

func TestContradictoryWindowMakesNoRequest(t *testing.T) {
	tn := newTenant(t, tenantOptions{})
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Quals: []localplugin.Qual{
		{Column: "created_date_time", Operator: ">=", Value: testNow.Add(-time.Hour)},
		{Column: "created_date_time", Operator: "<", Value: testNow.Add(-2 * time.Hour)}}})
	if len(rows) != 0 || len(tn.srv.Requests()) != 0 {
		t.Fatalf("%d rows, %d requests; want none", len(rows), len(tn.srv.Requests()))
	}
}

func TestRepeatedQueryInsideCacheTTLMakesNoRequest(t *testing.T) {
	tn := newTenant(t, tenantOptions{})
	q := localplugin.Query{Table: "entra_sign_in", CacheTTL: time.Minute, Quals: []localplugin.Qual{
		{Column: "created_date_time", Operator: ">=", Value: testNow.Add(-24 * time.Hour)}}}
	first := tn.mustQuery(q)
	before := len(tn.srv.Requests())
	second := tn.mustQuery(q)
	if len(second) != len(first) || len(first) == 0 {
		t.Fatalf("first %d rows, second %d", len(first), len(second))
	}
	if after := len(tn.srv.Requests()); after != before {
		t.Fatalf("the repeat made %d requests", after-before)
	}
}

func TestLimitCountsOnlyRowsThatMeetTheQualsExactly(t *testing.T) {
	tn := newTenant(t, tenantOptions{})
	log := tn.srv.Log()
	// An instant several sign-ins share: Graph's "le" returns them first, and "<" must drop them.
	i := 1
	for log.At(i) != log.At(i+1) {
		i++
	}
	bound := log.At(i)
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Limit: 3, Columns: []string{"id", "created_date_time"},
		Quals: []localplugin.Qual{{Column: "created_date_time", Operator: "<", Value: bound}}})
	if len(rows) != 3 {
		t.Fatalf("limit 3 gave %d rows", len(rows))
	}
	for _, r := range rows {
		if !r["created_date_time"].(time.Time).Before(bound) {
			t.Fatalf("row at %v is not before %v", r["created_date_time"], bound)
		}
	}
	if top := tn.srv.Requests()[0].Query().Get("$top"); top != "3" {
		t.Fatalf("$top=%s, want 3", top)
	}
}
