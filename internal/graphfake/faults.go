package graphfake

import (
	"fmt"
	"math/rand"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FaultKind is a way a Graph request can go wrong.
type FaultKind int

const (
	NoFault           FaultKind = iota
	FaultStatus                 // an error status (429, 500, 503, 504) with Graph's body
	FaultDropBefore             // the connection closes before any response
	FaultDropDuring             // the connection closes half-way through the body
	FaultTruncated              // a complete response whose JSON stops half-way
	FaultSlow                   // the page takes Delay before answering
	FaultExpiredToken           // 401: the caller's token has expired
	FaultBadSkipToken           // 400 "Invalid Skip Token" on a nextLink
)

// Fault is what happens to one request.
type Fault struct {
	Kind       FaultKind
	Status     int    // FaultStatus
	RetryAfter string // FaultStatus: the Retry-After header, "" for none
	Delay      time.Duration
}

// FaultFunc picks the fault for the nth Graph request (n counts from 1).
type FaultFunc func(r *http.Request, n int) Fault

// FaultRates are the chances, per request, of each fault.
type FaultRates struct {
	Throttle, ServerError, Drop, Truncate, Slow, TokenExpiry, BadSkipToken float64
	SlowDelay                                                              time.Duration
}

// RandomFaults is a seeded fault schedule: the same seed fails the same
// requests the same way.
func RandomFaults(seed int64, rates FaultRates) FaultFunc {
	var mu sync.Mutex
	rnd := rand.New(rand.NewSource(seed))
	return func(r *http.Request, n int) Fault {
		mu.Lock()
		defer mu.Unlock()
		x := rnd.Float64()
		retryAfter := func() string {
			switch rnd.Intn(3) {
			case 0:
				return ""
			case 1:
				return "0.05"
			}
			return strconv.FormatFloat(0.01+rnd.Float64()/10, 'f', 3, 64)
		}
		for _, f := range []struct {
			p     float64
			fault func() Fault
		}{
			{rates.Throttle, func() Fault { return Fault{Kind: FaultStatus, Status: 429, RetryAfter: retryAfter()} }},
			{rates.ServerError, func() Fault {
				return Fault{Kind: FaultStatus, Status: []int{500, 503, 504}[rnd.Intn(3)], RetryAfter: retryAfter()}
			}},
			{rates.Drop / 2, func() Fault { return Fault{Kind: FaultDropBefore} }},
			{rates.Drop / 2, func() Fault { return Fault{Kind: FaultDropDuring} }},
			{rates.Truncate, func() Fault { return Fault{Kind: FaultTruncated} }},
			{rates.Slow, func() Fault { return Fault{Kind: FaultSlow, Delay: rates.SlowDelay} }},
			{rates.TokenExpiry, func() Fault { return Fault{Kind: FaultExpiredToken} }},
			{rates.BadSkipToken, func() Fault {
				if r.URL.Query().Get("$skiptoken") == "" {
					return Fault{}
				}
				return Fault{Kind: FaultBadSkipToken}
			}},
		} {
			if x < f.p {
				return f.fault()
			}
			x -= f.p
		}
		return Fault{}
	}
}

// before applies the faults that happen before the page is built; true
// means the request was answered.
func (s *Server) before(w http.ResponseWriter, r *http.Request, f Fault, tok string) bool {
	switch f.Kind {
	case FaultStatus:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		code := map[int]string{429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable", 504: "GatewayTimeout"}[f.Status]
		graphError(w, f.Status, code, "The service is temporarily unavailable.", r)
		return true
	case FaultDropBefore:
		hangUp(w)
		return true
	case FaultSlow:
		return !s.sleep(r, f.Delay, 0)
	case FaultExpiredToken:
		s.mu.Lock()
		t := s.tokens[tok]
		t.expires = time.Time{}
		s.tokens[tok] = t
		s.mu.Unlock()
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", r)
		return true
	case FaultBadSkipToken:
		graphError(w, http.StatusBadRequest, "", "Invalid Skip Token, skip token is null", r)
		return true
	}
	return false
}

// deliver writes a page's body, damaged as the fault says.
func deliver(w http.ResponseWriter, body []byte, f Fault) {
	switch f.Kind {
	case FaultDropDuring:
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
		_, _ = buf.Write(body[:len(body)/2])
		_ = buf.Flush()
		_ = conn.Close()
	case FaultTruncated:
		writeBody(w, http.StatusOK, body[:len(body)/2])
	default:
		writeBody(w, http.StatusOK, body)
	}
}

// hangUp closes the connection without answering.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}
