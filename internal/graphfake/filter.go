package graphfake

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// errInvalidFilter is what Graph answers for a filter it cannot take.
var errInvalidFilter = errors.New("Invalid filter clause")

// filterable lists the properties Graph filters sign-ins on and the
// operators it takes for each (reference §3.1). "sw" is startsWith.
var filterable = map[string]map[string]bool{
	"id":                           ops("eq"),
	"createdDateTime":              ops("eq", "ge", "le"),
	"appDisplayName":               ops("eq", "sw"),
	"appId":                        ops("eq"),
	"authenticationRequirement":    ops("eq", "sw"),
	"clientAppUsed":                ops("eq"),
	"conditionalAccessStatus":      ops("eq"),
	"correlationId":                ops("eq"),
	"deviceDetail/browser":         ops("eq", "sw"),
	"deviceDetail/operatingSystem": ops("eq", "sw"),
	"ipAddress":                    ops("eq", "sw"),
	"location/city":                ops("eq", "sw"),
	"location/state":               ops("eq", "sw"),
	"location/countryOrRegion":     ops("eq", "ne", "sw"),
	"originalRequestId":            ops("eq"),
	"resourceDisplayName":          ops("eq"),
	"resourceId":                   ops("eq"),
	"resourceServicePrincipalId":   ops("eq"),
	"riskDetail":                   ops("eq"),
	"riskLevelAggregated":          ops("eq"),
	"riskLevelDuringSignIn":        ops("eq"),
	"riskState":                    ops("eq"),
	"servicePrincipalId":           ops("eq", "sw"),
	"servicePrincipalName":         ops("eq", "sw"),
	"status/errorCode":             ops("eq", "ne"),
	"tokenIssuerName":              ops("eq"),
	"tokenIssuerType":              ops("eq"),
	"userAgent":                    ops("eq", "sw"),
	"userDisplayName":              ops("eq", "sw"),
	"userId":                       ops("eq"),
	"userPrincipalName":            ops("eq", "sw"),
	"userType":                     ops("eq"),
}

func ops(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// matcher is a compiled filter.
type matcher func(*Record) bool

// window is the createdDateTime range a filter's top-level "and" allows.
type window struct{ from, to time.Time } // zero means open

// filterOptions are the service behaviours the sources disagree on.
type filterOptions struct {
	lenientGtLt bool      // accept gt/lt on createdDateTime
	now         time.Time // dates more than 90 days before now are rejected
	refuse      []string  // properties refused on top of the table's
}

// parseFilter compiles an OData $filter the way the sign-ins service does.
func parseFilter(s string, o filterOptions) (matcher, window, error) {
	p := &parser{toks: tokenize(s), opts: o}
	if p.toks == nil {
		return nil, window{}, errInvalidFilter
	}
	m, w, err := p.or()
	if err == nil && p.pos != len(p.toks) {
		err = errInvalidFilter
	}
	return m, w, err
}

type parser struct {
	toks []string
	pos  int
	opts filterOptions
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.pos++; return t }

func (p *parser) expect(t string) error {
	if !strings.EqualFold(p.next(), t) {
		return errInvalidFilter
	}
	return nil
}

func (p *parser) or() (matcher, window, error) {
	left, w, err := p.and()
	if err != nil {
		return nil, w, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.next()
		right, _, err := p.and()
		if err != nil {
			return nil, w, err
		}
		l := left
		left = func(r *Record) bool { return l(r) || right(r) }
		w = window{} // an "or" does not narrow the time range
	}
	return left, w, nil
}

func (p *parser) and() (matcher, window, error) {
	left, w, err := p.unary()
	if err != nil {
		return nil, w, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.next()
		right, rw, err := p.unary()
		if err != nil {
			return nil, w, err
		}
		l := left
		left = func(r *Record) bool { return l(r) && right(r) }
		w = w.intersect(rw)
	}
	return left, w, nil
}

func (w window) intersect(o window) window {
	if w.from.IsZero() || o.from.After(w.from) {
		w.from = o.from
	}
	if w.to.IsZero() || (!o.to.IsZero() && o.to.Before(w.to)) {
		w.to = o.to
	}
	return w
}

func (p *parser) unary() (matcher, window, error) {
	t := p.next()
	switch {
	case t == "(":
		m, w, err := p.or()
		if err != nil {
			return nil, w, err
		}
		return m, w, p.expect(")")
	case strings.EqualFold(t, "startswith"):
		return p.startsWith()
	case strings.EqualFold(t, "signInEventTypes/any"):
		return p.eventTypes()
	case t == "" || strings.EqualFold(t, "not"):
		return nil, window{}, errInvalidFilter
	}
	return p.comparison(t)
}

func (p *parser) startsWith() (matcher, window, error) {
	if err := p.expect("("); err != nil {
		return nil, window{}, err
	}
	prop := p.next()
	if !filterable[prop]["sw"] {
		return nil, window{}, errInvalidFilter
	}
	if err := p.expect(","); err != nil {
		return nil, window{}, err
	}
	prefix, ok := stringLiteral(p.next())
	if !ok {
		return nil, window{}, errInvalidFilter
	}
	prefix = strings.ToLower(prefix)
	return func(r *Record) bool {
		return strings.HasPrefix(strings.ToLower(r.Str(prop)), prefix)
	}, window{}, p.expect(")")
}

// eventTypes parses "signInEventTypes/any(t: t eq 'x' or t ne 'y' ...)".
func (p *parser) eventTypes() (matcher, window, error) {
	if err := p.expect("("); err != nil {
		return nil, window{}, err
	}
	v := p.next()
	if err := p.expect(":"); err != nil {
		return nil, window{}, err
	}
	var clauses []matcher
	joins := []string{}
	for {
		if !strings.EqualFold(p.next(), v) {
			return nil, window{}, errInvalidFilter
		}
		op := strings.ToLower(p.next())
		val, ok := stringLiteral(p.next())
		if !ok || (op != "eq" && op != "ne") {
			return nil, window{}, errInvalidFilter
		}
		clauses = append(clauses, func(r *Record) bool { return (r.Kind == val) == (op == "eq") })
		j := strings.ToLower(p.peek())
		if j != "or" && j != "and" {
			break
		}
		joins = append(joins, p.next())
	}
	if err := p.expect(")"); err != nil {
		return nil, window{}, err
	}
	return func(r *Record) bool {
		ok := clauses[0](r)
		for i, j := range joins {
			if j == "or" {
				ok = ok || clauses[i+1](r)
			} else {
				ok = ok && clauses[i+1](r)
			}
		}
		return ok
	}, window{}, nil
}

func (p *parser) comparison(prop string) (matcher, window, error) {
	op := strings.ToLower(p.next())
	lit := p.next()
	allowed := filterable[prop]
	for _, r := range p.opts.refuse {
		if r == prop {
			allowed = nil
		}
	}
	if allowed == nil {
		return nil, window{}, errInvalidFilter
	}
	if prop == "createdDateTime" {
		return p.timeComparison(op, lit)
	}
	if !allowed[op] {
		return nil, window{}, errInvalidFilter
	}
	if prop == "status/errorCode" {
		n, err := strconv.Atoi(lit)
		if err != nil {
			return nil, window{}, errInvalidFilter
		}
		return func(r *Record) bool { return (r.ErrorCode() == n) == (op == "eq") }, window{}, nil
	}
	val, ok := stringLiteral(lit)
	if !ok {
		return nil, window{}, errInvalidFilter
	}
	return func(r *Record) bool { return strings.EqualFold(r.Str(prop), val) == (op == "eq") }, window{}, nil
}

func (p *parser) timeComparison(op, lit string) (matcher, window, error) {
	// Graph takes an unquoted ISO-8601 instant; a quoted one is rejected.
	t, err := time.Parse(time.RFC3339Nano, lit)
	if err != nil {
		d, derr := time.Parse("2006-01-02", lit)
		if derr != nil {
			return nil, window{}, errInvalidFilter
		}
		t = d
	}
	if t.Before(p.opts.now.Add(-90 * 24 * time.Hour)) {
		return nil, window{}, errInvalidFilter
	}
	switch op {
	case "eq":
		return func(r *Record) bool { return r.At.Equal(t) }, window{t, t}, nil
	case "ge":
		return func(r *Record) bool { return !r.At.Before(t) }, window{from: t}, nil
	case "le":
		return func(r *Record) bool { return !r.At.After(t) }, window{to: t}, nil
	case "gt", "lt":
		if !p.opts.lenientGtLt {
			return nil, window{}, errInvalidFilter
		}
		if op == "gt" {
			return func(r *Record) bool { return r.At.After(t) }, window{from: t}, nil
		}
		return func(r *Record) bool { return r.At.Before(t) }, window{to: t}, nil
	}
	return nil, window{}, errInvalidFilter
}

func stringLiteral(tok string) (string, bool) {
	if len(tok) < 2 || tok[0] != '\'' || tok[len(tok)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(tok[1:len(tok)-1], "''", "'"), true
}

// tokenize splits a filter into words, quoted strings and punctuation.
// "signInEventTypes/any" stays one token. It returns nil on an unterminated string.
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',' || c == ':':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			for {
				if j >= len(s) {
					return nil
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			// A date-time keeps its colons; elsewhere ':' ends a word ("t:").
			stops := " \t(),:'"
			if c >= '0' && c <= '9' {
				stops = " \t(),'"
			}
			j := i
			for j < len(s) && !strings.ContainsRune(stops, rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	if len(toks) == 0 {
		return nil
	}
	return toks
}
