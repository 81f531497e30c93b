package entra

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

const (
	leakSecret   = "s3cret-LEAKCANARY-0001"
	leakPassword = "pfx-password-LEAKCANARY-0002"
)

// TestNoSecretInTraceLogs runs scans, failures included, in a child process
// with TRACE logging, and searches everything it printed for the client
// secret, the certificate password and every access token issued.
func TestNoSecretInTraceLogs(t *testing.T) {
	tokensFile := filepath.Join(t.TempDir(), "tokens")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLeakChild$", "-test.v")
	cmd.Env = append(os.Environ(), "ENTRA_LEAK_CHILD="+tokensFile, "STEAMPIPE_LOG_LEVEL=TRACE")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, tail(out.String()))
	}
	if !strings.Contains(out.String(), "--- PASS: TestLeakChild") || !strings.Contains(out.String(), "[TRACE]") {
		t.Fatalf("the child did not run its scans with TRACE logging:\n%s", tail(out.String()))
	}
	raw, err := os.ReadFile(tokensFile)
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Fields(string(raw))
	if len(tokens) == 0 {
		t.Fatal("no token was issued")
	}
	for _, secret := range append([]string{leakSecret, leakPassword}, tokens...) {
		if i := strings.Index(out.String(), secret); i >= 0 {
			t.Fatalf("a secret appears in the output: ...%s...", out.String()[max(0, i-200):i])
		}
	}
}

func tail(s string) string { return s[max(0, len(s)-3000):] }

// TestLeakChild is the child of TestNoSecretInTraceLogs.
func TestLeakChild(t *testing.T) {
	tokensFile := os.Getenv("ENTRA_LEAK_CHILD")
	if tokensFile == "" {
		t.Skip("run by TestNoSecretInTraceLogs")
	}
	const client = "0000dddd-0000-4000-8000-000000000001"
	srv := graphfake.New(graphfake.Config{
		Log:     graphfake.Log{Rows: 3000, Retention: 29 * 24 * time.Hour},
		Clients: map[string]graphfake.Client{client: {Secret: leakSecret}},
		Faults:  graphfake.RandomFaults(3, graphfake.FaultRates{Throttle: 0.2, ServerError: 0.2, TokenExpiry: 0.2, Drop: 0.1, BadSkipToken: 0.2}),
	})
	defer srv.Close()
	base := "tenant_id = \"" + srv.TenantID() + "\"\nclient_id = \"" + client + "\"\nauthority_host = \"" + srv.URL + "\"\ngraph_endpoint = \"" + srv.URL + "\"\n"
	for _, cfg := range []string{
		base + "client_secret = \"" + leakSecret + "\"\n",                                                   // works, with faults
		base + "client_secret = \"" + leakSecret + "-wrong\"\n",                                             // bad secret
		base + "certificate_path = \"/nonexistent.pfx\"\ncertificate_password = \"" + leakPassword + "\"\n", // bad certificate
	} {
		p, err := localplugin.Start(Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: cfg})
		if err != nil {
			t.Log(err)
			continue
		}
		for _, q := range []localplugin.Query{
			{Connection: "entra", Table: "entra_sign_in", Columns: []string{"id", "user_principal_name"}},
			{Connection: "entra", Table: "entra_sign_in", Columns: []string{"id"}, Quals: []localplugin.Qual{{Column: "id", Operator: "=", Value: srv.Log().Record(5).ID()}}},
		} {
			err := p.Execute(t.Context(), q, func(localplugin.Row) bool { return true })
			t.Logf("query error: %v", err)
		}
	}
	if err := os.WriteFile(tokensFile, []byte(strings.Join(srv.IssuedTokens(), "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}
