package entra

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

// Some checks need a fresh process: one whose environment (TRACE logging,
// HTTPS_PROXY, which Go reads once) is set before its first request. The
// test binary runs itself with ENTRA_TEST_CHILD naming the check.
const childEnv = "ENTRA_TEST_CHILD"

// children are the checks a child process can run; each returns an error.
var children = map[string]func(arg string) error{
	"leak":  leakChild,
	"proxy": proxyChild,
}

// runChild is called by TestMain when this process is a child.
func runChild(spec string) int {
	name, arg, _ := strings.Cut(spec, ":")
	if err := children[name](arg); err != nil {
		fmt.Println("CHILD FAILED:", err)
		return 1
	}
	fmt.Println("CHILD PASSED")
	return 0
}

// child runs a check in a child process and returns all it printed.
func child(t *testing.T, spec string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), childEnv+"="+spec), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil || !strings.Contains(out.String(), "CHILD PASSED") {
		t.Fatalf("child %s: %v\n%s", spec, err, tail(out.String()))
	}
	return out.String()
}

func tail(s string) string { return s[max(0, len(s)-3000):] }

// childTenant starts an emulator and a plugin connection to it; host
// replaces 127.0.0.1 in the endpoints the plugin is given.
func childTenant(cfg graphfake.Config, secret, host, extraHCL string) (*graphfake.Server, *localplugin.Plugin, error) {
	const client = "0000dddd-0000-4000-8000-000000000001"
	cfg.Clients = map[string]graphfake.Client{client: {Secret: secret}}
	cfg.Log.Retention = 29 * 24 * time.Hour
	srv := graphfake.New(cfg)
	url := strings.Replace(srv.URL, "127.0.0.1", host, 1)
	hcl := fmt.Sprintf("tenant_id = %q\nclient_id = %q\nauthority_host = %q\ngraph_endpoint = %q\n%s", srv.TenantID(), client, url, url, extraHCL)
	p, err := localplugin.Start(Plugin, "entra", localplugin.Options{}, localplugin.Connection{Name: "entra", Config: hcl})
	return srv, p, err
}

func scanAll(p *localplugin.Plugin, q localplugin.Query) (int, error) {
	n := 0
	q.Connection = "entra"
	if q.Columns == nil {
		q.Columns = []string{"id"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := p.Execute(ctx, q, func(localplugin.Row) bool { n++; return true })
	return n, err
}

// TestSignInAndGraphGoThroughHTTPSProxy: with HTTPS_PROXY set, both the
// token request and Graph's go through the proxy (CONNECT), and the proxy's
// host names are the ones the plugin was given.
func TestSignInAndGraphGoThroughHTTPSProxy(t *testing.T) {
	out := child(t, "proxy")
	if !strings.Contains(out, "CONNECT example.com:") {
		t.Fatalf("the proxy saw no CONNECT:\n%s", tail(out))
	}
}

func proxyChild(string) error {
	var connects atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// A CONNECT proxy that sends every example.com host to this machine.
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		fmt.Println("CONNECT", r.Host)
		connects.Add(1)
		_, port, _ := net.SplitHostPort(r.Host)
		upstream, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { io.Copy(upstream, conn); upstream.Close() }()
		io.Copy(conn, upstream)
		conn.Close()
	}))
	os.Setenv("HTTPS_PROXY", "http://"+ln.Addr().String())
	srv, p, err := childTenant(graphfake.Config{Log: graphfake.Log{Rows: 2000}}, "proxied", "example.com", "client_secret = \"proxied\"\n")
	if err != nil {
		return err
	}
	defer srv.Close()
	n, err := scanAll(p, localplugin.Query{Table: "entra_sign_in"})
	switch {
	case err != nil:
		return err
	case n != 2000:
		return fmt.Errorf("%d rows through the proxy, want 2000", n)
	case connects.Load() == 0:
		return fmt.Errorf("no request went through the proxy")
	}
	return nil
}
