package entra

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/quals"
)

// filterColumn is a column Graph can filter sign-ins on (reference §3.1).
type filterColumn struct {
	column   string
	property string // the OData property path
	like     bool   // `like 'abc%'` and `ilike 'abc%'` → startswith(property,'abc')
	notEqual bool   // `<>` → ne (Graph takes it on only a few properties)
	number   bool   // compare as a number, not a quoted string
}

// filterColumns is the translator's table; its order is the clause order
// of every $filter, so the same query always sends the same filter.
var filterColumns = []filterColumn{
	{column: "id", property: "id"},
	{column: "user_id", property: "userId"},
	{column: "user_principal_name", property: "userPrincipalName", like: true},
	{column: "user_display_name", property: "userDisplayName", like: true},
	{column: "user_type", property: "userType"},
	{column: "app_id", property: "appId"},
	{column: "app_display_name", property: "appDisplayName", like: true},
	{column: "ip_address", property: "ipAddress", like: true},
	{column: "client_app_used", property: "clientAppUsed"},
	{column: "user_agent", property: "userAgent", like: true},
	{column: "correlation_id", property: "correlationId"},
	{column: "original_request_id", property: "originalRequestId"},
	{column: "conditional_access_status", property: "conditionalAccessStatus"},
	{column: "status_error_code", property: "status/errorCode", notEqual: true, number: true},
	{column: "resource_id", property: "resourceId"},
	{column: "resource_display_name", property: "resourceDisplayName"},
	{column: "resource_service_principal_id", property: "resourceServicePrincipalId"},
	{column: "service_principal_id", property: "servicePrincipalId", like: true},
	{column: "service_principal_name", property: "servicePrincipalName", like: true},
	{column: "token_issuer_type", property: "tokenIssuerType"},
	{column: "token_issuer_name", property: "tokenIssuerName"},
	{column: "authentication_requirement", property: "authenticationRequirement", like: true},
	{column: "location_city", property: "location/city", like: true},
	{column: "location_state", property: "location/state", like: true},
	{column: "location_country_or_region", property: "location/countryOrRegion", like: true, notEqual: true},
	{column: "device_operating_system", property: "deviceDetail/operatingSystem", like: true},
	{column: "device_browser", property: "deviceDetail/browser", like: true},
	{column: "risk_level_aggregated", property: "riskLevelAggregated"},
	{column: "risk_level_during_sign_in", property: "riskLevelDuringSignIn"},
	{column: "risk_state", property: "riskState"},
	{column: "risk_detail", property: "riskDetail"},
}

// signInKeyColumns declares every column above as an optional qual with
// the operators Graph can take, plus the time window and, on tables that
// hold several kinds, the event type.
func signInKeyColumns(withEventType bool) plugin.KeyColumnSlice {
	keys := plugin.KeyColumnSlice{
		{Name: "created_date_time", Require: plugin.Optional, Operators: []string{"=", ">", ">=", "<", "<="}},
	}
	for _, fc := range filterColumns {
		ops := []string{"="}
		if fc.notEqual {
			ops = append(ops, "<>")
		}
		if fc.like {
			ops = append(ops, quals.QualOperatorLike, quals.QualOperatorILike)
		}
		keys = append(keys, &plugin.KeyColumn{Name: fc.column, Require: plugin.Optional, Operators: ops})
	}
	if withEventType {
		keys = append(keys, &plugin.KeyColumn{Name: "sign_in_event_type", Require: plugin.Optional, Operators: []string{"=", "<>"}})
	}
	return keys
}

// signInQuery is what a query asks of Graph.
type signInQuery struct {
	eventTypes []string  // the kinds to read; one any() clause
	from, to   time.Time // inclusive createdDateTime bounds; zero is open
	filter     string    // every other pushed clause, joined with "and"
	columns    []string  // the columns of those clauses, for error messages
	// pushedAll is true when every qual of the query went to Graph, so the
	// SQL engine drops no row and a LIMIT can go out as $top.
	pushedAll bool
	// empty is true when the quals cannot match anything (a lower bound
	// after the upper, no event type left): no request is needed.
	empty bool
	// exact re-checks every pushed qual on a decoded row: Graph compares
	// strings without case and bounds times by whole seconds, and the SDK
	// counts a LIMIT on the rows the plugin streams, so a row the SQL
	// engine would drop must not be streamed.
	exact []func(*signIn) bool
}

// matches says whether a row meets every pushed qual exactly.
func (q signInQuery) matches(rec *signIn) bool {
	for _, ok := range q.exact {
		if !ok(rec) {
			return false
		}
	}
	return true
}

// translate turns a query's quals into a signInQuery. It is pure: the same
// quals give the same query, and what Graph cannot take is left out for
// the SQL engine to check.
func translate(keyQuals plugin.KeyColumnQualMap, allQuals map[string]*proto.Quals, eventTypes []string) signInQuery {
	q := signInQuery{eventTypes: eventTypes, pushedAll: true}
	pushed := map[string]int{} // quals pushed, per column

	for _, kq := range sortedQuals(keyQuals["created_date_time"]) {
		ts := kq.Value.GetTimestampValue()
		if ts == nil {
			continue
		}
		t := ts.AsTime().UTC()
		// Graph takes ge/le only; > and < widen to them and SQL re-checks.
		// Whole seconds, widened outwards, as Graph's times are whole seconds.
		lower, upper := t.Truncate(time.Second), t.Add(time.Second-1).Truncate(time.Second)
		switch kq.Operator {
		case "=":
			q.from, q.to = later(q.from, lower), earlier(q.to, upper)
		case ">", ">=":
			q.from = later(q.from, lower)
		case "<", "<=":
			q.to = earlier(q.to, upper)
		}
		q.exact = append(q.exact, timeCheck(kq.Operator, t))
		pushed["created_date_time"]++
	}
	if !q.from.IsZero() && !q.to.IsZero() && q.from.After(q.to) {
		q.empty = true
	}

	for _, kq := range sortedQuals(keyQuals["sign_in_event_type"]) {
		values := qualStrings(kq.Value)
		switch kq.Operator {
		case "=":
			q.eventTypes = intersect(q.eventTypes, values)
		case "<>":
			q.eventTypes = subtract(q.eventTypes, values)
		}
		q.exact = append(q.exact, valueCheck("sign_in_event_type", kq))
		pushed["sign_in_event_type"]++
	}
	if len(q.eventTypes) == 0 {
		q.empty = true
	}

	var clauses []string
	for _, fc := range filterColumns {
		for _, kq := range sortedQuals(keyQuals[fc.column]) {
			if c := fc.clause(kq); c != "" {
				clauses = append(clauses, c)
				q.exact = append(q.exact, valueCheck(fc.column, kq))
				if pushed[fc.column] == 0 {
					q.columns = append(q.columns, fc.column)
				}
				pushed[fc.column]++
			}
		}
	}
	q.filter = strings.Join(clauses, " and ")

	for column, qs := range allQuals {
		if len(qs.GetQuals()) != pushed[column] {
			q.pushedAll = false
		}
	}
	return q
}

// checkWindow refuses a time window Graph cannot have rows for, and
// starts an unbounded one at the retention limit (Graph rejects dates
// far in the past rather than returning nothing).
func (q *signInQuery) checkWindow(now time.Time) error {
	oldest := now.Add(-retention).Truncate(time.Second)
	switch {
	case !q.from.IsZero() && q.from.After(now):
		return fmt.Errorf("created_date_time from %s is in the future: there are no sign-ins after now (%s); lower the bound", q.from.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case !q.to.IsZero() && q.to.Before(oldest):
		return fmt.Errorf("created_date_time up to %s is older than Entra keeps sign-ins (30 days with Entra ID P1/P2, 7 on Free): the earliest time that can be asked is %s", q.to.Format(time.RFC3339), oldest.Format(time.RFC3339))
	case q.from.Before(oldest):
		q.from = oldest
	}
	return nil
}

// clause translates one qual, or returns "" when Graph cannot take it.
func (fc filterColumn) clause(kq *quals.Qual) string {
	switch kq.Operator {
	case "=":
		return fc.anyOf("eq", kq.Value, " or ")
	case "<>":
		if fc.notEqual {
			return fc.anyOf("ne", kq.Value, " and ")
		}
	case quals.QualOperatorLike, quals.QualOperatorILike:
		if prefix, ok := likePrefix(kq.Value.GetStringValue()); ok && fc.like {
			return fmt.Sprintf("startswith(%s,%s)", fc.property, quote(prefix))
		}
	}
	return ""
}

// anyOf compares the property with one value, or with each of an IN list.
func (fc filterColumn) anyOf(op string, v *proto.QualValue, join string) string {
	var parts []string
	for _, lit := range fc.literals(v) {
		parts = append(parts, fc.property+" "+op+" "+lit)
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return "(" + strings.Join(parts, join) + ")"
}

func (fc filterColumn) literals(v *proto.QualValue) []string {
	if list := v.GetListValue(); list != nil {
		var out []string
		for _, item := range list.Values {
			out = append(out, fc.literals(item)...)
		}
		return out
	}
	if fc.number {
		if _, ok := v.GetValue().(*proto.QualValue_Int64Value); ok {
			return []string{fmt.Sprint(v.GetInt64Value())}
		}
		return nil
	}
	if _, ok := v.GetValue().(*proto.QualValue_StringValue); ok {
		return []string{quote(v.GetStringValue())}
	}
	return nil
}

// timeCheck compares a row's time with a bound exactly.
func timeCheck(op string, t time.Time) func(*signIn) bool {
	return func(rec *signIn) bool {
		at := rec.CreatedDateTime
		switch op {
		case "=":
			return at.Equal(t)
		case ">":
			return at.After(t)
		case ">=":
			return !at.Before(t)
		case "<":
			return at.Before(t)
		case "<=":
			return !at.After(t)
		}
		return true
	}
}

// valueCheck compares a row's column with a qual as SQL does: strings by
// case (LIKE) or without it (ILIKE), and NULL matches nothing.
func valueCheck(column string, kq *quals.Qual) func(*signIn) bool {
	get := columnGetters[column]
	var want []any // the value, or the IN list
	if list := kq.Value.GetListValue(); list != nil {
		for _, v := range list.Values {
			want = append(want, qualAny(v))
		}
	} else {
		want = []any{qualAny(kq.Value)}
	}
	prefix, _ := likePrefix(kq.Value.GetStringValue())
	return func(rec *signIn) bool {
		v := get(rec)
		if v == nil {
			return false
		}
		switch kq.Operator {
		case "=":
			return slices.Contains(want, v)
		case "<>":
			return !slices.Contains(want, v)
		case quals.QualOperatorLike:
			s, _ := v.(string)
			return strings.HasPrefix(s, prefix)
		case quals.QualOperatorILike:
			s, _ := v.(string)
			return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
		}
		return true
	}
}

// qualAny is a qual value as the column getters return it.
func qualAny(v *proto.QualValue) any {
	switch x := v.GetValue().(type) {
	case *proto.QualValue_StringValue:
		return x.StringValue
	case *proto.QualValue_Int64Value:
		return x.Int64Value
	case *proto.QualValue_BoolValue:
		return x.BoolValue
	}
	return nil
}

// likePrefix returns abc for the pattern 'abc%': the only LIKE Graph can
// answer (startswith). Patterns with other wildcards or escapes stay in SQL.
func likePrefix(pattern string) (string, bool) {
	prefix, ok := strings.CutSuffix(pattern, "%")
	if !ok || prefix == "" || strings.ContainsAny(prefix, `%_\`) {
		return "", false
	}
	return prefix, true
}

// quote makes an OData string literal: single quotes doubled.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func qualStrings(v *proto.QualValue) []string {
	if list := v.GetListValue(); list != nil {
		var out []string
		for _, item := range list.Values {
			out = append(out, item.GetStringValue())
		}
		return out
	}
	return []string{v.GetStringValue()}
}

// sortedQuals orders a column's quals so that clause order never depends
// on the order the SQL engine listed them in.
func sortedQuals(kq *plugin.KeyColumnQuals) []*quals.Qual {
	if kq == nil {
		return nil
	}
	out := append([]*quals.Qual(nil), kq.Quals...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].Value.String() < out[j].Value.String()
	})
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

func subtract(a, b []string) []string {
	var out []string
	for _, x := range a {
		if len(intersect([]string{x}, b)) == 0 {
			out = append(out, x)
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.IsZero() || b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// eventTypeClause selects the kinds: signInEventTypes/any(t: t eq 'a' or t eq 'b').
func eventTypeClause(types []string) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = "t eq " + quote(t)
	}
	return "signInEventTypes/any(t: " + strings.Join(parts, " or ") + ")"
}

// fullFilter is the $filter for one time slice of a query.
func (q signInQuery) fullFilter(from, to time.Time) string {
	var parts []string
	if !from.IsZero() {
		parts = append(parts, "createdDateTime ge "+from.UTC().Format(time.RFC3339))
	}
	if !to.IsZero() {
		parts = append(parts, "createdDateTime le "+to.UTC().Format(time.RFC3339))
	}
	parts = append(parts, eventTypeClause(q.eventTypes))
	if q.filter != "" {
		parts = append(parts, q.filter)
	}
	return strings.Join(parts, " and ")
}
