package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/entra"
	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
	"github.com/turbot/steampipe-plugin-entra/internal/sqlengine"
)

func TestMain(m *testing.M) { os.Exit(graphfake.RunTrusted(m)) }

// entraCLI runs the command and returns its exit status and output.
func entraCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDemoAnswersAnAnalystQuery(t *testing.T) {
	// The SDK deletes $TMPDIR/entra when a plugin starts; the CLI must not let it.
	t.Setenv("TMPDIR", t.TempDir())
	mine := filepath.Join(os.TempDir(), "entra", "keep")
	os.MkdirAll(filepath.Dir(mine), 0o700)
	os.WriteFile(mine, nil, 0o600)
	code, out, errOut := entraCLI(t, "", "query", "--demo", "--output", "csv",
		"select sign_in_event_type, count(*) as sign_ins, sum(status_error_code <> 0) as failures from entra_sign_in "+
			"where created_date_time > datetime('now', '-7 days') group by sign_in_event_type order by sign_in_event_type")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("running entra removed %s", mine)
	}
	if !strings.Contains(errOut, "synthetic") {
		t.Fatalf("the demo does not say its data is synthetic: %q", errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 5 || strings.Join(recs[0], ",") != "sign_in_event_type,sign_ins,failures" {
		t.Fatalf("output:\n%s", out)
	}
	kinds := []string{"interactiveUser", "managedIdentity", "nonInteractiveUser", "servicePrincipal"}
	for i, k := range kinds {
		if recs[i+1][0] != k || recs[i+1][1] == "0" {
			t.Fatalf("row %d: %v", i+1, recs[i+1])
		}
	}
}

// tenantConfig serves an emulated tenant and writes a Steampipe config
// file: a working connection, one with no secret, another plugin's, and one
// paced by the file's limiter block.
func tenantConfig(t *testing.T) (*graphfake.Server, string) {
	const client = "0000ffff-0000-4000-8000-000000000001"
	srv := graphfake.New(graphfake.Config{Log: graphfake.Log{Seed: 4, Rows: 2000, Retention: 29 * 24 * time.Hour}, Clients: map[string]graphfake.Client{client: {Secret: "cli-secret"}}})
	t.Cleanup(srv.Close)
	spc := fmt.Sprintf(`
connection "contoso" {
  plugin         = "local/entra"
  tenant_id      = %[1]q
  client_id      = %[2]q
  client_secret  = "cli-secret"
  authority_host = %[3]q
  graph_endpoint = %[3]q
  requests_per_window = 100
  request_window      = 1
}

connection "broken" {
  plugin    = "local/entra"
  tenant_id = %[1]q
  client_id = %[2]q
}

connection "aws" {
  plugin = "aws"
}

connection "paced" {
  plugin         = "local/entra"
  tenant_id      = %[1]q
  client_id      = %[2]q
  client_secret  = "cli-secret"
  authority_host = %[3]q
  graph_endpoint = %[3]q
}

plugin "local/entra" {
  limiter "entra_sign_in_requests" {
    bucket_size = 1
    fill_rate   = 1
  }
}
`, srv.TenantID(), client, srv.URL)
	path := filepath.Join(t.TempDir(), "entra.spc")
	if err := os.WriteFile(path, []byte(spc), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, path
}

func TestConfigFileAndOutputs(t *testing.T) {
	srv, spc := tenantConfig(t)
	rec := srv.Log().Record(3)
	sql := fmt.Sprintf("select id, user_principal_name, status, is_interactive from entra_sign_in where id = '%s'", rec.ID())

	code, out, errOut := entraCLI(t, "", "query", "--config", spc, "--connection", "contoso", "--output", "json", sql)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0]["id"] != rec.ID() {
		t.Fatalf("json output %q: %v", out, err)
	}
	if _, isObject := rows[0]["status"].(map[string]any); !isObject {
		t.Fatalf("status is not JSON in JSON output: %v", rows[0]["status"])
	}

	code, out, _ = entraCLI(t, "", "query", "--config", spc, "--connection", "contoso", "--output", "line", sql)
	if code != 0 || !strings.Contains(out, "-[ RECORD 1") || !strings.Contains(out, rec.ID()) {
		t.Fatalf("line output: %q", out)
	}
	code, out, _ = entraCLI(t, "", "query", "--config", spc, "--connection", "contoso", "--output", "table", sql)
	if code != 0 || !strings.HasPrefix(out, "+-") || !strings.Contains(out, "| id ") {
		t.Fatalf("table output: %q", out)
	}

	// Several statements, from stdin and from a file.
	two := "select count(*) from entra_interactive_sign_in;\nselect 1 as one;"
	code, out, _ = entraCLI(t, two, "query", "--config", spc, "--connection", "contoso", "--output", "csv")
	if code != 0 || !strings.Contains(out, "one\n1\n") {
		t.Fatalf("stdin: %d %q", code, out)
	}
	file := filepath.Join(t.TempDir(), "q.sql")
	os.WriteFile(file, []byte(two), 0o600)
	code, out2, _ := entraCLI(t, "", "query", "--config", spc, "--connection", "contoso", "--output", "csv", "-f", file)
	if code != 0 || out2 != out {
		t.Fatalf("-f: %d %q", code, out2)
	}
}

func TestLimiterBlocksInTheConfigFileSetTheBudget(t *testing.T) {
	_, spc := tenantConfig(t)
	start := time.Now()
	// 2,000 sign-ins take at least two requests, at one a second (the file's limiter block).
	code, out, errOut := entraCLI(t, "", "query", "--config", spc, "--connection", "paced", "--output", "csv", "select count(*) from entra_sign_in")
	if code != 0 || out != "count(*)\n2000\n" {
		t.Fatalf("exit %d: %q %s", code, out, errOut)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("the query took %v: the limiter block was not applied", took)
	}
}

func TestErrorsExitNonZeroWithOneSentence(t *testing.T) {
	_, spc := tenantConfig(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "--config", spc, "--connection", "broken", "select id from entra_sign_in"}, "neither client_secret nor certificate_path is"},
		{[]string{"query", "--config", spc, "select id from entra_sign_in"}, "several entra connections (contoso, broken, paced)"},
		{[]string{"query", "--config", spc, "--connection", "contoso", "select id from entra_sign_in where"}, "statement 1"},
		{[]string{"query", "--config", "/nonexistent.spc", "select 1"}, "cannot be read"},
		{[]string{"columns", "--config", spc, "--connection", "contoso", "entra_nothing"}, `no table "entra_nothing"`},
	} {
		code, _, errOut := entraCLI(t, "", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestTablesAndColumns(t *testing.T) {
	code, out, _ := entraCLI(t, "", "tables", "--demo", "--output", "csv")
	if code != 0 || strings.Count(out, "entra_") != 5 {
		t.Fatalf("tables: %q", out)
	}
	code, out, _ = entraCLI(t, "", "columns", "--demo", "--output", "csv", "entra_sign_in")
	if code != 0 {
		t.Fatalf("columns: exit %d", code)
	}
	recs, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
	byName := map[string][]string{}
	for _, r := range recs[1:] {
		byName[r[0]] = r
	}
	if c := byName["created_date_time"]; c == nil || c[2] != "< <= = > >=" || !strings.Contains(c[1], "ISO-8601") {
		t.Fatalf("created_date_time: %v", c)
	}
	if c := byName["user_principal_name"]; c == nil || c[2] != "= ilike like" || c[3] == "" {
		t.Fatalf("user_principal_name: %v", c)
	}
	if c := byName["authentication_details"]; c == nil || c[2] != "" || c[1] != "TEXT (JSON)" {
		t.Fatalf("authentication_details: %v", c)
	}
}

func TestProgressShowsOnLongScansAndClears(t *testing.T) {
	const client = "0000ffff-0000-4000-8000-000000000002"
	srv := graphfake.New(graphfake.Config{Log: graphfake.Log{Seed: 5, Rows: 5000, Retention: 29 * 24 * time.Hour},
		Clients:     map[string]graphfake.Client{client: {Secret: "p"}},
		PageLatency: 400 * time.Millisecond,
		Throttle:    graphfake.Throttle{Requests: 1, Window: time.Second}})
	defer srv.Close()
	cfg := fmt.Sprintf("tenant_id = %q\nclient_id = %q\nclient_secret = \"p\"\nauthority_host = %q\ngraph_endpoint = %q\nrequests_per_window = 1\nrequest_window = 1\n", srv.TenantID(), client, srv.URL, srv.URL)
	p, err := localplugin.Start(entra.Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	e, err := sqlengine.Open(t.Context(), p, "entra", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var out, errOut bytes.Buffer
	if code := query(t.Context(), e, "select count(*) from entra_sign_in", "csv", &out, &errOut, true); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	progress := errOut.String()
	if !strings.Contains(progress, " rows, ") || !strings.Contains(progress, " requests") || !strings.Contains(progress, "waiting for Graph's throttle") {
		t.Fatalf("progress: %q", progress)
	}
	if !strings.HasSuffix(progress, "\r\033[K") {
		t.Fatalf("the progress line is not cleared before the result: %q", progress[max(0, len(progress)-80):])
	}
	if out.String() != "count(*)\n5000\n" {
		t.Fatalf("result: %q", out.String())
	}
}
