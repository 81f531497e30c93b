package graphfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)

func newTest(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Log.Rows == 0 {
		cfg.Log.Rows = 3000
	}
	cfg.Log.Seed, cfg.Log.Now = 7, testNow
	if cfg.Clients == nil {
		cfg.Clients = map[string]Client{"app": {Secret: "s3cret"}}
	}
	s := New(cfg)
	t.Cleanup(s.Close)
	return s, s.token(t, "app", "s3cret")
}

func (s *Server) token(t *testing.T, client, secret string) string {
	t.Helper()
	resp, err := s.Client().PostForm(s.URL+"/"+s.TenantID()+"/oauth2/v2.0/token", url.Values{
		"client_id": {client}, "client_secret": {secret}, "grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return body.AccessToken
}

type listing struct {
	Value    []map[string]any `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
	Error    struct{ Code, Message string }
}

func get(t *testing.T, s *Server, tok, rawURL string, header ...string) (int, listing, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var l listing
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatalf("bad body %q: %v", raw, err)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(raw, &e)
		l.Error = e.Error
	}
	return resp.StatusCode, l, resp.Header
}

func list(s *Server, filter string, top int) string {
	q := url.Values{}
	if filter != "" {
		q.Set("$filter", filter)
	}
	if top > 0 {
		q.Set("$top", itoa(top))
	}
	return s.URL + "/beta/auditLogs/signIns?" + q.Encode()
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// all follows nextLinks and returns every id, in order.
func all(t *testing.T, s *Server, tok, first string) []string {
	var ids []string
	for u := first; u != ""; {
		code, l, _ := get(t, s, tok, u, "Prefer", "include-unknown-enum-members")
		if code != 200 {
			t.Fatalf("%s: %d %v", u, code, l.Error)
		}
		for _, v := range l.Value {
			ids = append(ids, v["id"].(string))
		}
		u = l.NextLink
	}
	return ids
}

func TestPagingReturnsExactlyTheMatchingRowsNewestFirst(t *testing.T) {
	s, tok := newTest(t, Config{ScanLimit: 700})
	from := testNow.Add(-5 * 24 * time.Hour)
	filter := "createdDateTime ge " + from.Format(time.RFC3339) + " and signInEventTypes/any(t: t eq 'nonInteractiveUser' or t eq 'servicePrincipal') and status/errorCode ne 0"
	got := all(t, s, tok, list(s, filter, 37))
	want := s.Log().Select(func(r *Record) bool {
		return !r.At.Before(from) && (r.Kind == NonInteractive || r.Kind == ServicePrincipal) && r.ErrorCode() != 0
	})
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i].ID() {
			t.Fatalf("row %d: got %s want %s", i, got[i], want[i].ID())
		}
	}
}

func TestWithoutEventTypeFilterOnlyInteractive(t *testing.T) {
	s, tok := newTest(t, Config{})
	_, l, _ := get(t, s, tok, list(s, "", 200))
	for _, v := range l.Value {
		if types := v["signInEventTypes"].([]any); types[0] != Interactive {
			t.Fatalf("got %v without an event type filter", types)
		}
	}
	if len(l.Value) != 200 {
		t.Fatalf("got %d rows, want a full page of 200", len(l.Value))
	}
}

func TestFilterRules(t *testing.T) {
	s, tok := newTest(t, Config{})
	old := testNow.Add(-100 * 24 * time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		filter string
		ok     bool
	}{
		{"userPrincipalName eq 'adele.vance@contoso.example'", true},
		{"startswith(userPrincipalName,'adele')", true},
		{"startsWith(location/city,'Sea') and location/countryOrRegion ne 'US'", true},
		{"(appId eq 'x' or appId eq 'y') and status/errorCode eq 50126", true},
		{"createdDateTime ge 2026-08-19T00:00:00Z and createdDateTime le 2026-08-20T00:00:00Z", true},
		{"createdDateTime gt 2026-08-19T00:00:00Z", false},
		{"createdDateTime ge '2026-08-19T00:00:00Z'", false},
		{"createdDateTime ge " + old, false},
		{"authenticationDetails/any(a: a/succeeded eq true)", false},
		{"startswith(appId,'c0')", false},
		{"userId ne 'x'", false},
		{"not (userId eq 'x')", false},
		{"userPrincipalName eq 'unterminated", false},
		{"userPrincipalName eq 'o''brien@contoso.example'", true},
	} {
		code, l, _ := get(t, s, tok, list(s, tc.filter, 5))
		if (code == 200) != tc.ok {
			t.Errorf("%s: status %d, want ok=%v", tc.filter, code, tc.ok)
		}
		if !tc.ok && (l.Error.Code != "BadRequest" || l.Error.Message != "Invalid filter clause") {
			t.Errorf("%s: error %+v, want Graph's BadRequest body", tc.filter, l.Error)
		}
	}
}

func TestPassthroughNeedsPreferHeader(t *testing.T) {
	s, tok := newTest(t, Config{})
	u := list(s, "signInEventTypes/any(t: t eq 'interactiveUser')", 1000)
	count := func(header ...string) (passthrough, unknown int) {
		_, l, _ := get(t, s, tok, u, header...)
		for _, v := range l.Value {
			switch v["crossTenantAccessType"] {
			case "passthrough":
				passthrough++
			case "unknownFutureValue":
				unknown++
			}
		}
		return
	}
	p, u1 := count()
	if p != 0 || u1 == 0 {
		t.Fatalf("without Prefer: %d passthrough, %d unknownFutureValue", p, u1)
	}
	p, u2 := count("Prefer", "include-unknown-enum-members")
	if p != u1 || u2 != 0 {
		t.Fatalf("with Prefer: %d passthrough (want %d), %d unknownFutureValue", p, u1, u2)
	}
}

func TestV1StripsBetaProperties(t *testing.T) {
	s, tok := newTest(t, Config{})
	_, l, _ := get(t, s, tok, s.URL+"/v1.0/auditLogs/signIns?$top=3")
	if len(l.Value) != 3 {
		t.Fatalf("got %d rows", len(l.Value))
	}
	if _, ok := l.Value[0]["uniqueTokenIdentifier"]; ok {
		t.Fatal("v1.0 returned uniqueTokenIdentifier")
	}
	if code, _, _ := get(t, s, tok, s.URL+"/v1.0/auditLogs/signIns?$filter="+url.QueryEscape("signInEventTypes/any(t: t eq 'servicePrincipal')")); code != 400 {
		t.Fatalf("v1.0 accepted signInEventTypes: %d", code)
	}
}

func TestQueryOptionErrors(t *testing.T) {
	s, tok := newTest(t, Config{})
	for _, q := range []string{"$top=1001", "$top=0", "$count=true", "$skip=10", "$skiptoken=%21%21"} {
		if code, _, _ := get(t, s, tok, s.URL+"/beta/auditLogs/signIns?"+q); code != 400 {
			t.Errorf("%s: status %d, want 400", q, code)
		}
	}
}

func TestThrottleAnswers429WithRetryAfter(t *testing.T) {
	s, tok := newTest(t, Config{Throttle: Throttle{Requests: 5, Window: 2 * time.Second}})
	u := list(s, "", 1)
	for i := 0; i < 5; i++ {
		if code, _, _ := get(t, s, tok, u); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	code, l, h := get(t, s, tok, u)
	if code != 429 || l.Error.Code != "TooManyRequests" || h.Get("Retry-After") == "" {
		t.Fatalf("6th request: %d %+v Retry-After=%q", code, l.Error, h.Get("Retry-After"))
	}
	if st := s.Stats(); st.Throttled != 1 || st.Requests != 6 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAuthAndLicenceErrors(t *testing.T) {
	s, _ := newTest(t, Config{NonPremium: true, Clients: map[string]Client{"app": {Secret: "s3cret"}, "weak": {Secret: "w", Roles: []string{"Directory.Read.All"}}}})
	if tok := s.token(t, "app", "wrong"); tok != "" {
		t.Fatal("a wrong secret got a token")
	}
	if code, l, _ := get(t, s, "forged", list(s, "", 1)); code != 401 || l.Error.Code != "InvalidAuthenticationToken" {
		t.Fatalf("forged token: %d %+v", code, l.Error)
	}
	if code, l, _ := get(t, s, s.token(t, "app", "s3cret"), list(s, "", 1)); code != 403 || l.Error.Code != "Authentication_RequestFromNonPremiumTenantOrB2CTenant" {
		t.Fatalf("non-premium: %d %+v", code, l.Error)
	}
	s.cfg.NonPremium = false
	if code, l, _ := get(t, s, s.token(t, "weak", "w"), list(s, "", 1)); code != 403 || !strings.Contains(l.Error.Message, "AuditLog.Read.All") {
		t.Fatalf("missing permission: %d %+v", code, l.Error)
	}
	tok := s.token(t, "app", "s3cret")
	s.ExpireTokens()
	if code, _, _ := get(t, s, tok, list(s, "", 1)); code != 401 {
		t.Fatalf("expired token: %d", code)
	}
}

func TestGetByID(t *testing.T) {
	s, tok := newTest(t, Config{})
	want := s.Log().Record(42)
	req, _ := http.NewRequest("GET", s.URL+"/beta/auditLogs/signIns/"+want.ID(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got["id"] != want.ID() || got["correlationId"] != want.Str("correlationId") {
		t.Fatalf("got %v", got["id"])
	}
	if code, l, _ := get(t, s, tok, s.URL+"/beta/auditLogs/signIns/00000000-0000-4000-8000-000000000000"); code != 404 || l.Error.Code != "Request_ResourceNotFound" {
		t.Fatalf("unknown id: %d %+v", code, l.Error)
	}
}

func TestTimesAreOrderedAndInsideRetention(t *testing.T) {
	l := &Log{Seed: 1, Rows: 5000, Now: testNow, Retention: 30 * 24 * time.Hour}
	ties := 0
	for i := 1; i < l.Rows; i++ {
		a, b := l.At(i-1), l.At(i)
		if b.After(a) {
			t.Fatalf("record %d is newer than %d", i, i-1)
		}
		if a.Equal(b) {
			ties++
		}
	}
	if l.At(l.Rows - 1).Before(l.Oldest()) {
		t.Fatal("a record is older than the retention window")
	}
	if ties == 0 {
		t.Fatal("no two records share an instant; the log should have some")
	}
	lo, hi := l.span(window{from: l.At(300), to: l.At(100)})
	if lo > 100 || hi <= 300 {
		t.Fatalf("span [%d,%d) does not cover records 100..300", lo, hi)
	}
}
