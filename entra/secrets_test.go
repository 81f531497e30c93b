package entra

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	out := child(t, "leak:"+tokensFile, "STEAMPIPE_LOG_LEVEL=TRACE")
	if !strings.Contains(out, "[TRACE]") {
		t.Fatalf("the child did not log at TRACE:\n%s", tail(out))
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
		if i := strings.Index(out, secret); i >= 0 {
			t.Fatalf("a secret appears in the output: ...%s...", out[max(0, i-200):i])
		}
	}
}

// leakChild scans with a working secret under faults, a wrong secret and
// an unreadable certificate, printing every error, then writes the tokens
// the emulator issued to tokensFile.
func leakChild(tokensFile string) error {
	faults := graphfake.RandomFaults(3, graphfake.FaultRates{Throttle: 0.2, ServerError: 0.2, TokenExpiry: 0.2, Drop: 0.1, BadSkipToken: 0.2})
	var issued []string
	for _, cfg := range []string{
		"client_secret = \"" + leakSecret + "\"\n",
		"client_secret = \"" + leakSecret + "-wrong\"\n",
		"certificate_path = \"/nonexistent.pfx\"\ncertificate_password = \"" + leakPassword + "\"\n",
	} {
		srv, p, err := childTenant(graphfake.Config{Log: graphfake.Log{Rows: 3000}, Faults: faults}, leakSecret, "127.0.0.1", cfg)
		if err != nil {
			return err
		}
		for _, q := range []localplugin.Query{
			{Table: "entra_sign_in", Columns: []string{"id", "user_principal_name"}},
			{Table: "entra_sign_in", Quals: []localplugin.Qual{{Column: "id", Operator: "=", Value: srv.Log().Record(5).ID()}}},
		} {
			_, err := scanAll(p, q)
			fmt.Println("query error:", err)
		}
		issued = append(issued, srv.IssuedTokens()...)
		srv.Close()
	}
	return os.WriteFile(tokensFile, []byte(strings.Join(issued, "\n")), 0o600)
}
