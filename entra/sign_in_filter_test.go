package entra

import (
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/quals"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func str(s string) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_StringValue{StringValue: s}}
}

func num(n int64) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_Int64Value{Int64Value: n}}
}

func ts(t time.Time) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_TimestampValue{TimestampValue: timestamppb.New(t)}}
}

func list(vs ...*proto.QualValue) *proto.QualValue {
	return &proto.QualValue{Value: &proto.QualValue_ListValue{ListValue: &proto.QualValueList{Values: vs}}}
}

type q struct {
	col, op string
	val     *proto.QualValue
}

// run translates quals the way the SDK hands them over: the key-column
// quals, and every qual of the query.
func run(eventTypes []string, keyQuals []q, otherQuals ...q) signInQuery {
	km := plugin.KeyColumnQualMap{}
	all := map[string]*proto.Quals{}
	add := func(x q) {
		if all[x.col] == nil {
			all[x.col] = &proto.Quals{}
		}
		all[x.col].Quals = append(all[x.col].Quals, &proto.Qual{FieldName: x.col, Operator: &proto.Qual_StringValue{StringValue: x.op}, Value: x.val})
	}
	for _, x := range keyQuals {
		if km[x.col] == nil {
			km[x.col] = &plugin.KeyColumnQuals{Name: x.col}
		}
		km[x.col].Quals = append(km[x.col].Quals, &quals.Qual{Column: x.col, Operator: x.op, Value: x.val})
		add(x)
	}
	for _, x := range otherQuals {
		add(x)
	}
	return translate(km, all, eventTypes)
}

func TestTranslateEveryColumnAndOperator(t *testing.T) {
	for _, tc := range []struct {
		name   string
		quals  []q
		filter string
		all    bool
	}{
		{"no quals", nil, "", true},
		{"eq on an id", []q{{"user_id", "=", str("u1")}}, "userId eq 'u1'", true},
		{"quotes are doubled", []q{{"user_principal_name", "=", str("o'brien@contoso.example")}}, "userPrincipalName eq 'o''brien@contoso.example'", true},
		{"like prefix", []q{{"user_principal_name", "~~", str("adele%")}}, "startswith(userPrincipalName,'adele')", true},
		{"like with inner wildcard stays in SQL", []q{{"user_principal_name", "~~", str("a%e%")}}, "", false},
		{"like with underscore stays in SQL", []q{{"user_principal_name", "~~", str("a_e%")}}, "", false},
		{"like without % stays in SQL", []q{{"app_display_name", "~~", str("Teams")}}, "", false},
		{"like on an eq-only column stays in SQL", []q{{"app_id", "~~", str("c0%")}}, "", false},
		{"in list", []q{{"app_id", "=", list(str("a"), str("b"))}}, "(appId eq 'a' or appId eq 'b')", true},
		{"error code eq", []q{{"status_error_code", "=", num(50126)}}, "status/errorCode eq 50126", true},
		{"error code ne", []q{{"status_error_code", "<>", num(0)}}, "status/errorCode ne 0", true},
		{"error code not in", []q{{"status_error_code", "<>", list(num(0), num(50140))}}, "(status/errorCode ne 0 and status/errorCode ne 50140)", true},
		{"ne where Graph has none stays in SQL", []q{{"user_id", "<>", str("u1")}}, "", false},
		{"country ne", []q{{"location_country_or_region", "<>", str("US")}}, "location/countryOrRegion ne 'US'", true},
		{"nested properties", []q{{"location_city", "=", str("Seattle")}, {"device_browser", "~~", str("Edge%")}},
			"location/city eq 'Seattle' and startswith(deviceDetail/browser,'Edge')", true},
		{"fixed clause order whatever the input order", []q{{"risk_state", "=", str("atRisk")}, {"app_id", "=", str("a")}, {"user_id", "=", str("u")}},
			"userId eq 'u' and appId eq 'a' and riskState eq 'atRisk'", true},
		{"every other column", []q{
			{"id", "=", str("i")}, {"user_display_name", "~~", str("Ad%")}, {"user_type", "=", str("guest")},
			{"app_display_name", "=", str("Azure Portal")}, {"ip_address", "~~", str("203.0.113.%")}, {"client_app_used", "=", str("IMAP")},
			{"user_agent", "=", str("ua")}, {"correlation_id", "=", str("c")}, {"original_request_id", "=", str("o")},
			{"conditional_access_status", "=", str("notApplied")}, {"resource_id", "=", str("r")}, {"resource_display_name", "=", str("Graph")},
			{"resource_service_principal_id", "=", str("rsp")}, {"service_principal_id", "=", str("sp")}, {"service_principal_name", "~~", str("contoso%")},
			{"token_issuer_type", "=", str("AzureAD")}, {"token_issuer_name", "=", str("n")}, {"authentication_requirement", "=", str("multiFactorAuthentication")},
			{"location_state", "=", str("Washington")}, {"device_operating_system", "=", str("Ios")}, {"risk_level_aggregated", "=", str("high")},
			{"risk_level_during_sign_in", "=", str("high")}, {"risk_detail", "=", str("none")},
		}, "id eq 'i' and startswith(userDisplayName,'Ad') and userType eq 'guest' and appDisplayName eq 'Azure Portal' and " +
			"startswith(ipAddress,'203.0.113.') and clientAppUsed eq 'IMAP' and userAgent eq 'ua' and correlationId eq 'c' and " +
			"originalRequestId eq 'o' and conditionalAccessStatus eq 'notApplied' and resourceId eq 'r' and resourceDisplayName eq 'Graph' and " +
			"resourceServicePrincipalId eq 'rsp' and servicePrincipalId eq 'sp' and startswith(servicePrincipalName,'contoso') and " +
			"tokenIssuerType eq 'AzureAD' and tokenIssuerName eq 'n' and authenticationRequirement eq 'multiFactorAuthentication' and " +
			"location/state eq 'Washington' and deviceDetail/operatingSystem eq 'Ios' and riskLevelAggregated eq 'high' and " +
			"riskLevelDuringSignIn eq 'high' and riskDetail eq 'none'", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(allEventTypes, tc.quals)
			if got.filter != tc.filter {
				t.Errorf("filter\n got %s\nwant %s", got.filter, tc.filter)
			}
			if got.pushedAll != tc.all {
				t.Errorf("pushedAll = %v, want %v", got.pushedAll, tc.all)
			}
		})
	}
}

func TestQualsOnOtherColumnsBlockTheLimit(t *testing.T) {
	got := run(allEventTypes, []q{{"user_id", "=", str("u")}}, q{"is_interactive", "=", &proto.QualValue{Value: &proto.QualValue_BoolValue{BoolValue: true}}})
	if got.pushedAll || got.filter != "userId eq 'u'" {
		t.Fatalf("got %+v", got)
	}
}

func TestTranslateTimeWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(36 * time.Hour)
	for _, tc := range []struct {
		name     string
		quals    []q
		from, to time.Time
		empty    bool
	}{
		{"ge and le", []q{{"created_date_time", ">=", ts(t0)}, {"created_date_time", "<=", ts(t1)}}, t0, t1, false},
		{"gt and lt widen to ge and le", []q{{"created_date_time", ">", ts(t0)}, {"created_date_time", "<", ts(t1)}}, t0, t1, false},
		{"fractions widen outwards", []q{{"created_date_time", ">=", ts(t0.Add(300 * time.Millisecond))}, {"created_date_time", "<=", ts(t1.Add(300 * time.Millisecond))}}, t0, t1.Add(time.Second), false},
		{"the tightest bound wins", []q{{"created_date_time", ">=", ts(t0)}, {"created_date_time", ">=", ts(t0.Add(time.Hour))}, {"created_date_time", "<=", ts(t1)}}, t0.Add(time.Hour), t1, false},
		{"eq is both bounds", []q{{"created_date_time", "=", ts(t0)}}, t0, t0, false},
		{"lower after upper is empty", []q{{"created_date_time", ">=", ts(t1)}, {"created_date_time", "<=", ts(t0)}}, t1, t0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(allEventTypes, tc.quals)
			if !got.from.Equal(tc.from) || !got.to.Equal(tc.to) || got.empty != tc.empty || !got.pushedAll {
				t.Fatalf("got from %v to %v empty %v pushedAll %v", got.from, got.to, got.empty, got.pushedAll)
			}
		})
	}
	got := run(allEventTypes, []q{{"created_date_time", ">=", ts(t0)}, {"created_date_time", "<=", ts(t1)}})
	want := "createdDateTime ge 2026-11-20T10:00:00Z and createdDateTime le 2026-11-21T22:00:00Z and " +
		"signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser' or t eq 'servicePrincipal' or t eq 'managedIdentity')"
	if f := got.fullFilter(got.from, got.to); f != want {
		t.Fatalf("full filter\n got %s\nwant %s", f, want)
	}
}

func TestTranslateEventTypes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quals []q
		want  []string
	}{
		{"eq picks one", []q{{"sign_in_event_type", "=", str("servicePrincipal")}}, []string{servicePrincipal}},
		{"in picks several", []q{{"sign_in_event_type", "=", list(str("managedIdentity"), str("interactiveUser"))}}, []string{interactiveUser, managedIdentity}},
		{"ne removes one", []q{{"sign_in_event_type", "<>", str("interactiveUser")}}, []string{nonInteractiveUser, servicePrincipal, managedIdentity}},
		{"unknown kind leaves nothing", []q{{"sign_in_event_type", "=", str("robot")}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(allEventTypes, tc.quals)
			if len(got.eventTypes) != len(tc.want) || got.empty != (len(tc.want) == 0) {
				t.Fatalf("got %v (empty %v), want %v", got.eventTypes, got.empty, tc.want)
			}
			for i := range tc.want {
				if got.eventTypes[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got.eventTypes, tc.want)
				}
			}
		})
	}
}

func TestPushedQualsAreRecheckedExactly(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	code0, code50126 := int64(0), int64(50126)
	rec := func(upn string, at time.Time, code *int64) *signIn {
		r := &signIn{UserPrincipalName: upn, CreatedDateTime: at}
		r.status.ErrorCode = code
		return r
	}
	for _, tc := range []struct {
		name  string
		quals []q
		rec   *signIn
		want  bool
	}{
		{"= is case-sensitive, as in SQL", []q{{"user_principal_name", "=", str("Adele@contoso.example")}}, rec("adele@contoso.example", t0, &code0), false},
		{"= matches exactly", []q{{"user_principal_name", "=", str("adele@contoso.example")}}, rec("adele@contoso.example", t0, &code0), true},
		{"IN", []q{{"user_principal_name", "=", list(str("x"), str("adele@contoso.example"))}}, rec("adele@contoso.example", t0, &code0), true},
		{"like is case-sensitive", []q{{"user_principal_name", "~~", str("Adele%")}}, rec("adele@contoso.example", t0, &code0), false},
		{"ilike is not", []q{{"user_principal_name", "~~*", str("ADELE%")}}, rec("adele@contoso.example", t0, &code0), true},
		{"> excludes the bound Graph's ge includes", []q{{"created_date_time", ">", ts(t0)}}, rec("a", t0, &code0), false},
		{"> includes what follows", []q{{"created_date_time", ">", ts(t0)}}, rec("a", t0.Add(time.Second), &code0), true},
		{"<= with a fraction", []q{{"created_date_time", "<=", ts(t0.Add(-time.Millisecond))}}, rec("a", t0, &code0), false},
		{"<> on a number", []q{{"status_error_code", "<>", num(0)}}, rec("a", t0, &code50126), true},
		{"<> on NULL is not true", []q{{"status_error_code", "<>", num(0)}}, rec("a", t0, nil), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(allEventTypes, tc.quals).matches(tc.rec); got != tc.want {
				t.Fatalf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}
