// Package graphfake is an emulator of the Microsoft Graph sign-in logs API
// and of the Entra token endpoint, for tests, benchmarks and the demo.
//
// It serves /beta and /v1.0 auditLogs/signIns with Graph's paging, $filter
// rules, retention, error bodies and per-app-per-tenant throttling, over TLS
// (the identity libraries refuse plain HTTP authorities).
package graphfake

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	mrand "math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client is an app registration the emulator accepts.
type Client struct {
	Secret      string   // accepted client secret; empty means certificate only
	Certificate bool     // accept a client assertion (certificate credential)
	Roles       []string // application permissions; nil means AuditLog.Read.All, Directory.Read.All, Policy.Read.All
}

// Throttle is the service's request budget per app per tenant.
type Throttle struct {
	Requests int           // 0 disables throttling
	Window   time.Duration // Graph: 5 requests per 10 s
}

// Config sets up an emulator.
type Config struct {
	Log      Log
	Clients  map[string]Client
	Throttle Throttle
	// PageLatency ± LatencyJitter is how long each list page takes.
	PageLatency, LatencyJitter time.Duration
	LenientGtLt                bool // accept gt/lt on createdDateTime (the sources disagree)
	RejectSelect               bool // answer $select with Graph's "Query option 'Select' is not allowed"
	NonPremium                 bool // the tenant lacks Entra ID P1/P2
	// Unfilterable lists properties this service refuses in $filter, for
	// those whose support the sources do not confirm (userType).
	Unfilterable []string
	// ScanLimit caps how many records one page examines, so that selective
	// filters get empty pages that still carry a nextLink, as Graph's do.
	ScanLimit     int
	TokenLifetime time.Duration // default one hour
	// Faults, when set, picks what goes wrong with each Graph request.
	Faults FaultFunc
}

// Stats counts what the emulator served.
type Stats struct {
	Requests  int // Graph requests, throttled ones included
	Throttled int // answered 429
	Tokens    int // access tokens issued
}

// Server is a running emulator.
type Server struct {
	*httptest.Server
	cfg Config

	mu       sync.Mutex
	stats    Stats
	urls     []*url.URL
	headers  []http.Header
	tokens   map[string]token
	arrivals map[string][]time.Time // per app and tenant, for the throttle
	rnd      *mrand.Rand
}

type token struct {
	clientID, tenantID string
	roles              []string
	expires            time.Time
}

// New starts an emulator. Close it when done.
func New(cfg Config) *Server {
	if cfg.Log.Now.IsZero() {
		cfg.Log.Now = time.Now().UTC().Truncate(time.Second)
	}
	if cfg.Log.Retention == 0 {
		cfg.Log.Retention = 30 * 24 * time.Hour
	}
	if cfg.Log.TenantID == "" {
		cfg.Log.TenantID = "11111111-1111-4111-8111-111111111111"
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = time.Hour
	}
	s := &Server{cfg: cfg, tokens: map[string]token{}, arrivals: map[string][]time.Time{}, rnd: mrand.New(mrand.NewSource(cfg.Log.Seed))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.openIDConfiguration)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.issueToken)
	mux.HandleFunc("GET /{version}/auditLogs/signIns", s.graph(s.listSignIns))
	mux.HandleFunc("GET /{version}/auditLogs/signIns/{id}", s.graph(s.getSignIn))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource not found for the segment '"+r.URL.Path+"'.", nil)
	})
	s.Server = httptest.NewTLSServer(mux)
	return s
}

// Log is the tenant's sign-in log the emulator serves.
func (s *Server) Log() *Log { return &s.cfg.Log }

// TenantID is the emulated tenant.
func (s *Server) TenantID() string { return s.cfg.Log.TenantID }

// CertificatePEM is the emulator's TLS certificate, for a client's trust store.
func (s *Server) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Requests returns the URLs of the Graph requests served so far, in order.
func (s *Server) Requests() []*url.URL {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*url.URL(nil), s.urls...)
}

// Headers returns the headers of the Graph requests served so far, in order.
func (s *Server) Headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...)
}

// ResetStats forgets the requests served so far.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{Tokens: s.stats.Tokens}
	s.urls, s.headers = nil, nil
}

// ExpireTokens makes every token issued so far expired, as if time had passed.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expires = time.Time{}
		s.tokens[k] = t
	}
}

// SetFaults replaces the fault schedule.
func (s *Server) SetFaults(f FaultFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Faults = f
}

func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	base := "https://" + r.Host + "/" + r.PathValue("tenant") // the host the client asked for, as behind a proxy
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	tenant := r.PathValue("tenant")
	if tenant != s.cfg.Log.TenantID {
		aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant '"+tenant+"' not found.")
		return
	}
	id := r.PostForm.Get("client_id")
	c, ok := s.cfg.Clients[id]
	if !ok {
		aadError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+id+"' was not found in the directory.")
		return
	}
	secret, assertion := r.PostForm.Get("client_secret"), r.PostForm.Get("client_assertion")
	switch {
	case secret != "" && c.Secret != "" && secret == c.Secret:
	case assertion != "" && c.Certificate:
	case assertion != "":
		aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS700027: Client assertion failed signature validation.")
		return
	default:
		aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return
	}
	roles := c.Roles
	if roles == nil {
		roles = []string{"AuditLog.Read.All", "Directory.Read.All", "Policy.Read.All"}
	}
	claims, _ := json.Marshal(map[string]any{"tid": tenant, "appid": id, "roles": roles, "exp": time.Now().Add(s.cfg.TokenLifetime).Unix(), "jti": randomID()})
	tok := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + base64.RawURLEncoding.EncodeToString(claims) + "." + randomID()
	s.mu.Lock()
	s.tokens[tok] = token{clientID: id, tenantID: tenant, roles: roles, expires: time.Now().Add(s.cfg.TokenLifetime)}
	s.stats.Tokens++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": int(s.cfg.TokenLifetime.Seconds()), "ext_expires_in": int(s.cfg.TokenLifetime.Seconds()), "access_token": tok})
}

// graph wraps a Graph handler with what every Graph request goes through:
// counting, authentication, throttling, the licence check, permissions and faults.
func (s *Server) graph(h func(w http.ResponseWriter, r *http.Request, t token, f Fault)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats.Requests++
		n := s.stats.Requests
		s.urls = append(s.urls, r.URL)
		s.headers = append(s.headers, r.Header.Clone())
		bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		t, authed := s.tokens[bearer]
		faults := s.cfg.Faults
		s.mu.Unlock()

		if v := r.PathValue("version"); v != "beta" && v != "v1.0" {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid version: "+v, r)
			return
		}
		if !authed {
			graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.", r)
			return
		}
		if time.Now().After(t.expires) {
			graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", r)
			return
		}
		if wait := s.admit(t.clientID + "/" + t.tenantID); wait > 0 {
			s.mu.Lock()
			s.stats.Throttled++
			s.mu.Unlock()
			w.Header().Set("Retry-After", strconv.FormatFloat(wait.Seconds(), 'f', 3, 64))
			graphError(w, http.StatusTooManyRequests, "TooManyRequests", "This request is throttled. Please try again after the value specified in the Retry-After header.", r)
			return
		}
		var fault Fault
		if faults != nil {
			fault = faults(r, n)
		}
		if s.before(w, r, fault, bearer) {
			return
		}
		if s.cfg.NonPremium {
			graphError(w, http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license", r)
			return
		}
		if !has(t.roles, "AuditLog.Read.All") {
			graphError(w, http.StatusForbidden, "Authentication_MSGraphPermissionMissing", "Calling principal does not have required MSGraph permissions AuditLog.Read.All", r)
			return
		}
		if !has(t.roles, "Directory.Read.All") {
			graphError(w, http.StatusForbidden, "Authentication_ApplicationHasNoDirectoryReadAccess", "Failed to do premium license check from ADGraph", r)
			return
		}
		h(w, r, t, fault)
	}
}

// admit records a request against the throttle and returns how long the
// caller must wait, or 0 when it is admitted. Throttled requests count too:
// usage accrues while an app is throttled.
func (s *Server) admit(key string) time.Duration {
	th := s.cfg.Throttle
	if th.Requests == 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	recent := s.arrivals[key][:0]
	for _, t := range s.arrivals[key] {
		if now.Sub(t) < th.Window {
			recent = append(recent, t)
		}
	}
	if len(recent) >= th.Requests {
		s.arrivals[key] = recent
		return th.Window - now.Sub(recent[len(recent)-th.Requests])
	}
	s.arrivals[key] = append(recent, now)
	return 0
}

// page is the position a skiptoken resumes from.
type page struct {
	Next int `json:"n"` // the next record index to examine, in iteration order
}

func (s *Server) listSignIns(w http.ResponseWriter, r *http.Request, t token, fault Fault) {
	q := r.URL.Query()
	beta := r.PathValue("version") == "beta"
	for k := range q {
		switch k {
		case "$filter", "$top", "$skiptoken", "$orderby":
		case "$select":
			if s.cfg.RejectSelect {
				graphError(w, http.StatusBadRequest, "BadRequest", "Query option 'Select' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.", r)
				return
			}
		default:
			graphError(w, http.StatusBadRequest, "BadRequest", "Query option '"+strings.TrimPrefix(k, "$")+"' is not allowed.", r)
			return
		}
	}
	top := 1000
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Invalid page size specified: '"+v+"'. Must be between 1 and 1000 inclusive.", r)
			return
		}
		top = n
	}
	ascending := false
	switch strings.ToLower(q.Get("$orderby")) {
	case "", "createddatetime desc", "createddatetime":
		ascending = strings.EqualFold(q.Get("$orderby"), "createdDateTime")
	case "createddatetime asc":
		ascending = true
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid orderby clause", r)
		return
	}
	match := func(*Record) bool { return true }
	var win window
	filter := q.Get("$filter")
	if filter != "" {
		m, w2, err := parseFilter(filter, filterOptions{lenientGtLt: s.cfg.LenientGtLt, now: s.cfg.Log.Now, refuse: s.cfg.Unfilterable})
		if err != nil {
			graphError(w, http.StatusBadRequest, "BadRequest", err.Error(), r)
			return
		}
		match, win = m, w2
	}
	// Without an event type filter, and always on v1.0, only interactive sign-ins come back.
	if !beta && strings.Contains(filter, "signInEventTypes") {
		graphError(w, http.StatusBadRequest, "BadRequest", "Could not find a property named 'signInEventTypes' on type 'microsoft.graph.signIn'.", r)
		return
	}
	if !beta || !strings.Contains(filter, "signInEventTypes") {
		inner := match
		match = func(rec *Record) bool { return rec.Kind == Interactive && inner(rec) }
	}
	start := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		var p page
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || json.Unmarshal(raw, &p) != nil {
			graphError(w, http.StatusBadRequest, "", "Invalid Skip Token, skip token is null", r)
			return
		}
		start = p.Next
	}

	lo, hi := s.cfg.Log.span(win)
	var rows []*Record
	pos, examined := start, 0
	for ; pos < hi-lo && len(rows) < top; pos++ {
		if s.cfg.ScanLimit > 0 && examined == s.cfg.ScanLimit {
			break
		}
		examined++
		i := lo + pos
		if ascending {
			i = hi - 1 - pos
		}
		rec := s.cfg.Log.Record(i)
		if match(rec) {
			rows = append(rows, rec)
		}
	}
	if !s.sleep(r, s.cfg.PageLatency, s.cfg.LatencyJitter) {
		return
	}

	prefer := strings.Contains(strings.ToLower(r.Header.Get("Prefer")), "include-unknown-enum-members")
	withCA := has(t.roles, "Policy.Read.All") // Graph omits CA details from callers that cannot read policies
	values := make([]map[string]any, len(rows))
	for i, rec := range rows {
		values[i] = rec.wire(beta, prefer, withCA)
	}
	origin := "https://" + r.Host // links name the host the client asked for, as Graph's do
	body := map[string]any{"@odata.context": origin + "/" + r.PathValue("version") + "/$metadata#auditLogs/signIns", "value": values}
	if pos < hi-lo {
		tok, _ := json.Marshal(page{Next: pos})
		next := *r.URL
		nq := r.URL.Query()
		nq.Set("$skiptoken", base64.RawURLEncoding.EncodeToString(tok))
		next.RawQuery = nq.Encode()
		body["@odata.nextLink"] = origin + next.RequestURI()
	}
	deliver(w, encodeJSON(body), fault)
}

func (s *Server) getSignIn(w http.ResponseWriter, r *http.Request, _ token, fault Fault) {
	id := r.PathValue("id")
	rec := s.cfg.Log.Find(id)
	if rec == nil {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.", r)
		return
	}
	if !s.sleep(r, s.cfg.PageLatency/4, 0) {
		return
	}
	prefer := strings.Contains(strings.ToLower(r.Header.Get("Prefer")), "include-unknown-enum-members")
	body := rec.wire(r.PathValue("version") == "beta", prefer, true)
	body["@odata.context"] = s.URL + "/" + r.PathValue("version") + "/$metadata#auditLogs/signIns/$entity"
	deliver(w, encodeJSON(body), fault)
}

// sleep waits d ± jitter, or until the client goes away (false).
func (s *Server) sleep(r *http.Request, d, jitter time.Duration) bool {
	if jitter > 0 {
		s.mu.Lock()
		d += time.Duration(s.rnd.Int63n(int64(2*jitter))) - jitter
		s.mu.Unlock()
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return buf.Bytes()
}

func writeJSON(w http.ResponseWriter, status int, v any) { writeBody(w, status, encodeJSON(v)) }

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// graphError writes Graph's OData error body.
func graphError(w http.ResponseWriter, status int, code, message string, r *http.Request) {
	inner := map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": randomID()}
	if r != nil {
		if id := r.Header.Get("client-request-id"); id != "" {
			inner["client-request-id"] = id
		}
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message, "innerError": inner}})
}

func aadError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]any{
		"error": code, "error_description": description + fmt.Sprintf("\r\nTrace ID: %s\r\nTimestamp: %s", randomID(), time.Now().UTC().Format("2006-01-02 15:04:05Z")),
		"error_codes": []int{}, "timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}

// IssuedTokens returns every access token issued so far, for tests that
// check tokens never leak.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens))
	for t := range s.tokens {
		out = append(out, t)
	}
	return out
}
