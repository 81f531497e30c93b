package entra

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

// writeCertificate writes a self-signed certificate and its key as PEM;
// withKey false leaves the key out.
func writeCertificate(t *testing.T, withKey bool) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "entra-reader"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if withKey {
		pk, _ := x509.MarshalPKCS8PrivateKey(key)
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})...)
	}
	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCertificateCredentialSignsIn(t *testing.T) {
	const client = "ce4700aa-0000-4000-8000-000000000001"
	srv := graphfake.New(graphfake.Config{Log: graphfake.Log{Seed: 5, Rows: 200}, Clients: map[string]graphfake.Client{client: {Certificate: true}}})
	defer srv.Close()
	base := fmt.Sprintf("tenant_id = %q\nclient_id = %q\nauthority_host = %q\ngraph_endpoint = %q\nrequests_per_window = 100\nrequest_window = 1\n", srv.TenantID(), client, srv.URL, srv.URL)

	p, err := localplugin.Start(Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: base + fmt.Sprintf("certificate_path = %q\n", writeCertificate(t, true))})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := p.Execute(t.Context(), localplugin.Query{Connection: "entra", Table: "entra_interactive_sign_in", Columns: []string{"id"}}, func(localplugin.Row) bool { n++; return true }); err != nil || n == 0 {
		t.Fatalf("certificate sign-in: %d rows, %v", n, err)
	}

	p, err = localplugin.Start(Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: base + fmt.Sprintf("certificate_path = %q\ncertificate_password = \"hunter2-password\"\n", writeCertificate(t, false))})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Execute(t.Context(), localplugin.Query{Connection: "entra", Table: "entra_interactive_sign_in", Columns: []string{"id"}}, func(localplugin.Row) bool { return true })
	if err == nil || !strings.Contains(err.Error(), "holds no usable certificate and private key") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a certificate without its key: %v", err)
	}
}
