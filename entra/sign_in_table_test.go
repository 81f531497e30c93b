package entra

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

// tableKinds is what each table must return.
var tableKinds = map[string][]string{
	"entra_sign_in":                   {graphfake.Interactive, graphfake.NonInteractive, graphfake.ServicePrincipal, graphfake.ManagedIdentity},
	"entra_interactive_sign_in":       {graphfake.Interactive},
	"entra_non_interactive_sign_in":   {graphfake.NonInteractive},
	"entra_service_principal_sign_in": {graphfake.ServicePrincipal},
	"entra_managed_identity_sign_in":  {graphfake.ManagedIdentity},
}

func kindIn(r *graphfake.Record, kinds []string) bool {
	for _, k := range kinds {
		if r.Kind == k {
			return true
		}
	}
	return false
}

func TestSchemaHasEveryTableWithTheSameDescribedColumns(t *testing.T) {
	tn := newTenant(t, tenantOptions{rows: 10})
	schema, err := tn.plugin.Schema("entra")
	if err != nil {
		t.Fatal(err)
	}
	if len(schema) != len(tableKinds) {
		t.Fatalf("got %d tables, want %d", len(schema), len(tableKinds))
	}
	required := strings.Fields(`id created_date_time user_principal_name user_display_name user_id user_type app_id
		app_display_name ip_address client_app_used correlation_id conditional_access_status is_interactive
		sign_in_event_types sign_in_event_type cross_tenant_access_type home_tenant_id resource_tenant_id resource_id
		resource_display_name unique_token_identifier service_principal_id service_principal_name token_issuer_type
		authentication_requirement status status_error_code status_failure_reason location location_city location_state
		location_country_or_region device_detail device_operating_system device_browser applied_conditional_access_policies
		authentication_details risk_level_aggregated risk_level_during_sign_in risk_state risk_detail risk_event_types_v2 tenant_id`)
	for name := range tableKinds {
		ts := schema[name]
		if ts == nil {
			t.Fatalf("table %s is missing", name)
		}
		cols := map[string]string{}
		for _, c := range ts.Columns {
			if len(c.Description) < 10 {
				t.Errorf("%s.%s has no real description", name, c.Name)
			}
			cols[c.Name] = c.Type.String()
		}
		for _, r := range required {
			if _, ok := cols[r]; !ok {
				t.Errorf("%s lacks column %s", name, r)
			}
		}
		for col, typ := range map[string]string{"created_date_time": "TIMESTAMP", "status_error_code": "INT", "ip_address": "STRING", "status": "JSON", "is_interactive": "BOOL"} {
			if cols[col] != typ {
				t.Errorf("%s.%s is %s, want %s", name, col, cols[col], typ)
			}
		}
		if len(ts.Columns) != len(schema["entra_sign_in"].Columns) {
			t.Errorf("%s has %d columns, entra_sign_in %d", name, len(ts.Columns), len(schema["entra_sign_in"].Columns))
		}
	}
}

func TestEveryTableReturnsTheEmulatorsRows(t *testing.T) {
	tn := newTenant(t, tenantOptions{})
	from := testNow.Add(-3 * 24 * time.Hour)
	for table, kinds := range tableKinds {
		t.Run(table, func(t *testing.T) {
			rows := tn.mustQuery(localplugin.Query{Table: table, Quals: []localplugin.Qual{{Column: "created_date_time", Operator: ">=", Value: from}}})
			want := tn.srv.Log().Select(func(r *graphfake.Record) bool { return kindIn(r, kinds) && !r.At.Before(from) })
			if len(want) == 0 {
				t.Fatal("the emulator has no rows for this question; widen it")
			}
			sameIDs(t, table, rows, want)
		})
	}
}

func TestColumnsCarryTheRecordsValues(t *testing.T) {
	tn := newTenant(t, tenantOptions{})
	cols := []string{"id", "created_date_time", "user_principal_name", "status_error_code", "status_failure_reason", "location_city",
		"location_country_or_region", "device_operating_system", "cross_tenant_access_type", "home_tenant_id", "resource_tenant_id",
		"unique_token_identifier", "sign_in_event_type", "sign_in_event_types", "is_interactive", "token_issuer_type", "tenant_id",
		"status", "applied_conditional_access_policies", "service_principal_name", "authentication_details"}
	rows := tn.mustQuery(localplugin.Query{Table: "entra_sign_in", Columns: cols,
		Quals: []localplugin.Qual{{Column: "created_date_time", Operator: ">=", Value: testNow.Add(-2 * 24 * time.Hour)}}})
	if len(rows) < 50 {
		t.Fatalf("only %d rows", len(rows))
	}
	log := tn.srv.Log()
	byKind := map[string]int{}
	passthrough := 0
	for _, row := range rows {
		rec := log.Find(row["id"].(string))
		if rec == nil {
			t.Fatalf("row %v is not in the emulator's log", row["id"])
		}
		byKind[rec.Kind]++
		if !row["created_date_time"].(time.Time).Equal(rec.At) {
			t.Errorf("%s: created_date_time %v, want %v", rec.ID(), row["created_date_time"], rec.At)
		}
		for col, prop := range map[string]string{"user_principal_name": "userPrincipalName", "location_city": "location/city",
			"location_country_or_region": "location/countryOrRegion", "cross_tenant_access_type": "crossTenantAccessType",
			"home_tenant_id": "homeTenantId", "resource_tenant_id": "resourceTenantId", "unique_token_identifier": "uniqueTokenIdentifier",
			"token_issuer_type": "tokenIssuerType", "service_principal_name": "servicePrincipalName", "status_failure_reason": "status/failureReason",
			"device_operating_system": "deviceDetail/operatingSystem"} {
			want := rec.Str(prop)
			got, _ := row[col].(string)
			if got != want {
				t.Errorf("%s: %s = %q, want %q", rec.ID(), col, got, want)
			}
		}
		if code, _ := row["status_error_code"].(int64); int(code) != rec.ErrorCode() {
			t.Errorf("%s: status_error_code %v, want %d", rec.ID(), row["status_error_code"], rec.ErrorCode())
		}
		if row["sign_in_event_type"] != rec.Kind || row["tenant_id"] != tn.srv.TenantID() {
			t.Errorf("%s: sign_in_event_type %v tenant_id %v", rec.ID(), row["sign_in_event_type"], row["tenant_id"])
		}
		var status map[string]any
		if err := json.Unmarshal(row["status"].([]byte), &status); err != nil || status["errorCode"] == nil {
			t.Errorf("%s: status is not the JSON object: %s", rec.ID(), row["status"])
		}
		if rec.Kind == graphfake.Interactive && row["applied_conditional_access_policies"] == nil {
			t.Errorf("%s: no conditional access policies", rec.ID())
		}
		if row["cross_tenant_access_type"] == "passthrough" {
			passthrough++
		}
		if row["cross_tenant_access_type"] == "unknownFutureValue" {
			t.Errorf("%s: passthrough arrived as unknownFutureValue", rec.ID())
		}
	}
	if passthrough == 0 || len(byKind) != 4 {
		t.Fatalf("the sample should hold every kind and passthrough sign-ins: kinds %v, passthrough %d", byKind, passthrough)
	}
	for i, h := range tn.srv.Headers() {
		if h.Get("Prefer") != "include-unknown-enum-members" {
			t.Fatalf("request %d has Prefer %q", i, h.Get("Prefer"))
		}
	}
}

func TestGetByIDOnEveryTable(t *testing.T) {
	tn := newTenant(t, tenantOptions{})
	log := tn.srv.Log()
	for table, kinds := range tableKinds {
		t.Run(table, func(t *testing.T) {
			var mine, other *graphfake.Record
			for i := 0; i < log.Rows && (mine == nil || other == nil); i++ {
				if r := log.Record(i); kindIn(r, kinds) && mine == nil {
					mine = r
				} else if !kindIn(r, kinds) && other == nil {
					other = r
				}
			}
			rows := tn.mustQuery(localplugin.Query{Table: table, Columns: []string{"id", "user_principal_name", "sign_in_event_type"},
				Quals: []localplugin.Qual{{Column: "id", Operator: "=", Value: mine.ID()}}})
			if len(rows) != 1 || rows[0]["id"] != mine.ID() {
				t.Fatalf("get %s: %v", mine.ID(), rows)
			}
			if other != nil {
				if rows := tn.mustQuery(localplugin.Query{Table: table, Quals: []localplugin.Qual{{Column: "id", Operator: "=", Value: other.ID()}}}); len(rows) != 0 {
					t.Fatalf("get of a %s sign-in returned %v", other.Kind, rows)
				}
			}
			if rows := tn.mustQuery(localplugin.Query{Table: table, Quals: []localplugin.Qual{{Column: "id", Operator: "=", Value: "00000000-0000-4000-8000-0000deadbeef"}}}); len(rows) != 0 {
				t.Fatalf("get of an unknown id returned %v", rows)
			}
		})
	}
	_, err := tn.query(localplugin.Query{Table: "entra_sign_in", Quals: []localplugin.Qual{{Column: "id", Operator: "=", Value: "adele@contoso.example"}}})
	if err == nil || !strings.Contains(err.Error(), "is not a sign-in id") {
		t.Fatalf("a malformed id: %v", err)
	}
}

func TestBadConfigurationSaysWhatToSet(t *testing.T) {
	srv := graphfake.New(graphfake.Config{Clients: map[string]graphfake.Client{"c0ffee00-0000-4000-8000-000000000001": {Secret: "right"}}})
	defer srv.Close()
	base := `tenant_id = "` + srv.TenantID() + `"
authority_host = "` + srv.URL + `"
graph_endpoint = "` + srv.URL + `"
`
	for _, tc := range []struct{ name, hcl, want string }{
		{"client id alone", base + `client_id = "c0ffee00-0000-4000-8000-000000000001"`, "neither client_secret nor certificate_path is"},
		{"unknown cloud", base + `environment = "mars"`, `environment "mars" is not a cloud`},
		{"wrong secret", base + `client_id = "c0ffee00-0000-4000-8000-000000000001"
client_secret = "wrong-secret-value"`, "signing in with the client secret of app c0ffee00-0000-4000-8000-000000000001"},
		{"unreadable certificate", base + `client_id = "c0ffee00-0000-4000-8000-000000000001"
certificate_path = "/nonexistent/app.pem"`, `certificate_path "/nonexistent/app.pem" cannot be read`},
		{"secret without client id", `tenant_id = "x"
client_secret = "abc"`, "client_secret is set but client_id is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := localplugin.Start(Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: tc.hcl})
			if err != nil {
				t.Fatal(err)
			}
			var rows int
			err = p.Execute(t.Context(), localplugin.Query{Connection: "entra", Table: "entra_sign_in", Columns: []string{"id"}}, func(localplugin.Row) bool { rows++; return true })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "wrong-secret-value") {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}
