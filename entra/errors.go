package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// graphError is an error response from Graph.
type graphError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
}

func (e *graphError) Error() string {
	return fmt.Sprintf("Graph answered %d %s: %s", e.Status, e.Code, e.Message)
}

// readGraphError reads Graph's OData error body ({"error":{"code","message"}}).
func readGraphError(resp *http.Response) *graphError {
	e := &graphError{Status: resp.StatusCode, Code: http.StatusText(resp.StatusCode)}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if node, err := jsonserialization.NewJsonParseNode(raw); err == nil {
		if v, err := node.GetObjectValue(odataerrors.CreateODataErrorFromDiscriminatorValue); err == nil && v != nil {
			if main := v.(odataerrors.ODataErrorable).GetErrorEscaped(); main != nil {
				if c := main.GetCode(); c != nil && *c != "" {
					e.Code = *c
				}
				if m := main.GetMessage(); m != nil {
					e.Message = *m
				}
			}
		}
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.ParseFloat(s, 64); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs * float64(time.Second))
		} else if t, err := http.ParseTime(s); err == nil {
			e.RetryAfter = time.Until(t)
		}
	}
	return e
}

// retryable says whether the same request may succeed if sent again:
// throttling, server errors, timeouts, broken connections and bodies.
func retryable(err error) bool {
	var ge *graphError
	if errors.As(err, &ge) {
		switch ge.Status {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var te *transientError
	return errors.As(err, &te)
}

// badSkipToken is Graph losing the position of a paged read
// ("Invalid Skip Token, skip token is null"): the nextLink is dead, but the
// read can go on from the last row it streamed.
func badSkipToken(err error) bool {
	var ge *graphError
	return errors.As(err, &ge) && ge.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ge.Message), "skip token")
}

// transientError is a request that failed on the way: a dropped
// connection, a timeout, a truncated body.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// transportError classifies an error from sending a request.
func transportError(ctx context.Context, err error) error {
	if ctx.Err() == context.Canceled {
		return ctx.Err()
	}
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) {
		return err
	}
	return &transientError{err}
}

// unreachable is true when no connection could be made at all: a wrong
// endpoint or a network down is not worth many retries.
func unreachable(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// credentialError says which credential failed to sign in, never its secret.
func credentialError(who signer, err error) error {
	credential := who.description
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) && af.RawResponse != nil {
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		raw, _ := io.ReadAll(io.LimitReader(af.RawResponse.Body, 64<<10))
		_ = json.Unmarshal(raw, &body)
		desc, _, _ := strings.Cut(body.Description, "\r\n")
		if desc == "" {
			desc = af.RawResponse.Status
		}
		return fmt.Errorf("signing in with %s failed (%s): %s", credential, desc, who.fix)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("signing in with %s failed: host %s does not resolve: check environment and authority_host, and your network or proxy (HTTPS_PROXY)", credential, dnsErr.Name)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("signing in with %s failed (%s): %s", credential, strings.TrimSuffix(msg, "."), who.fix)
}

// explain turns a Graph error into one sentence that says what to do.
// q is the query that failed, nil for a get by id.
func (c *graphClient) explain(err error, q *signInQuery) error {
	if unreachable(err) {
		return fmt.Errorf("cannot reach Graph at %s (%v): check environment and graph_endpoint, and your network or proxy (HTTPS_PROXY)", c.graphRoot, errors.Unwrap(err))
	}
	var ge *graphError
	if !errors.As(err, &ge) {
		return err
	}
	switch {
	case ge.Code == "Authentication_RequestFromNonPremiumTenantOrB2CTenant":
		return fmt.Errorf("Graph refused the sign-in logs of tenant %s because it has no Microsoft Entra ID P1 or P2 licence (or is a B2C tenant): sign-in logs are only available through Graph to P1/P2 tenants", c.tenantID)
	case ge.Status == http.StatusForbidden:
		return fmt.Errorf("Graph refused the sign-in logs (%s: %s): grant app %s the AuditLog.Read.All and Directory.Read.All permissions with admin consent; a signed-in user also needs one of the roles Reports Reader, Security Reader, Security Operator, Security Administrator, Global Reader or Global Administrator", ge.Code, ge.Message, c.clientID)
	case ge.Status == http.StatusUnauthorized:
		return fmt.Errorf("Graph rejected the token of %s (%s: %s): check that the credential belongs to tenant %s and the environment (cloud) is right", c.credential, ge.Code, ge.Message, c.tenantID)
	case ge.Status == http.StatusNotFound && q != nil:
		return fmt.Errorf("Graph at %s has no sign-in logs (%s: %s): check environment and graph_endpoint; some national clouds do not serve sign-in logs through Graph", c.graphRoot, ge.Code, ge.Message)
	case ge.Status == http.StatusBadRequest && q != nil && len(q.columns) > 0:
		return fmt.Errorf("Graph rejected the filter built from the WHERE conditions on %s (%s: $filter=%s): change or drop the condition Graph cannot take; the SQL engine applies conditions on other columns itself",
			strings.Join(q.columns, ", "), ge.Message, q.fullFilter(q.from, q.to))
	case ge.Status == http.StatusBadRequest && q != nil:
		return fmt.Errorf("Graph rejected the sign-in query (%s: $filter=%s)", ge.Message, q.fullFilter(q.from, q.to))
	}
	return err
}

// isNotFound is true for a Graph 404; a get by an unknown id returns no row.
func isNotFound(err error) bool {
	var ge *graphError
	return errors.As(err, &ge) && ge.Status == http.StatusNotFound
}
