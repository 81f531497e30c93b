package entra

import (
	"strings"
	"testing"
	"time"
)

func strp(s string) *string { return &s }

func TestNationalCloudsPickAuthorityAndGraph(t *testing.T) {
	for env, want := range map[string][2]string{
		"":         {"https://login.microsoftonline.com/", "https://graph.microsoft.com"},
		"public":   {"https://login.microsoftonline.com/", "https://graph.microsoft.com"},
		"usgov":    {"https://login.microsoftonline.us/", "https://graph.microsoft.us"},
		"usgovdod": {"https://login.microsoftonline.us/", "https://dod-graph.microsoft.us"},
		"China":    {"https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn"},
	} {
		nc, err := entraConfig{Environment: strp(env)}.endpoints()
		if err != nil || nc.identity.ActiveDirectoryAuthorityHost != want[0] || nc.graph != want[1] {
			t.Errorf("environment %q: %s %s %v", env, nc.identity.ActiveDirectoryAuthorityHost, nc.graph, err)
		}
	}
	if _, err := (entraConfig{GraphEndpoint: strp("http://graph.example")}).endpoints(); err == nil || !strings.Contains(err.Error(), "https://") {
		t.Errorf("a plain-HTTP graph_endpoint: %v", err)
	}
}

func TestConfigFallsBackToTheEnvironment(t *testing.T) {
	t.Setenv("AZURE_TENANT_ID", "env-tenant")
	t.Setenv("AZURE_CLIENT_ID", "env-client")
	c := entraConfig{ClientID: strp("config-client")}
	if c.tenantID() != "env-tenant" || c.clientID() != "config-client" {
		t.Fatalf("tenant %q client %q", c.tenantID(), c.clientID())
	}
	n, w := 7, 2.5
	if b := (entraConfig{RequestsPerWindow: &n, RequestWindow: &w}).budget(graphBudget); b.requests != 7 || b.window != 2500*time.Millisecond {
		t.Fatalf("budget %+v", b)
	}
	if b := (entraConfig{}).budget(graphBudget); b != graphBudget {
		t.Fatalf("default budget %+v", b)
	}
}

func TestNextLinksStayOnTheConfiguredEndpoint(t *testing.T) {
	c := &graphClient{graphRoot: "https://graph-gateway.contoso.example"}
	got := c.onGraph("https://graph.microsoft.com/beta/auditLogs/signIns?$filter=x&$skiptoken=abc")
	if got != "https://graph-gateway.contoso.example/beta/auditLogs/signIns?$filter=x&$skiptoken=abc" {
		t.Fatalf("got %s", got)
	}
	same := "https://graph-gateway.contoso.example/beta/auditLogs/signIns?$skiptoken=abc"
	if c.onGraph(same) != same || c.onGraph("") != "" {
		t.Fatal("a link on the endpoint changed")
	}
}
