package entra

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

// entraConfig is a connection's HCL configuration. Every credential
// attribute falls back to the standard AZURE_* environment variable.
type entraConfig struct {
	TenantID            *string `hcl:"tenant_id"`
	ClientID            *string `hcl:"client_id"`
	ClientSecret        *string `hcl:"client_secret"`
	CertificatePath     *string `hcl:"certificate_path"`
	CertificatePassword *string `hcl:"certificate_password"`
	Environment         *string `hcl:"environment"`
	// Advanced: where to sign in and where Graph is, for private endpoints and proxies.
	AuthorityHost *string `hcl:"authority_host"`
	GraphEndpoint *string `hcl:"graph_endpoint"`
	// RequestTimeout bounds one Graph page, in seconds (default 300).
	RequestTimeout *int `hcl:"request_timeout"`
	// The sign-in request budget per app and tenant: RequestsPerWindow in
	// any RequestWindow seconds (Graph: 5 in 10).
	RequestsPerWindow *int     `hcl:"requests_per_window"`
	RequestWindow     *float64 `hcl:"request_window"`
}

func configInstance() any { return &entraConfig{} }

// getConfig returns the connection's configuration.
func getConfig(conn *plugin.Connection) entraConfig {
	if conn == nil || conn.Config == nil {
		return entraConfig{}
	}
	c, _ := conn.Config.(entraConfig)
	return c
}

// value returns the configured attribute, else the environment variable, else "".
func value(attr *string, env string) string {
	if attr != nil && *attr != "" {
		return *attr
	}
	if env == "" {
		return ""
	}
	return os.Getenv(env)
}

func (c entraConfig) tenantID() string     { return value(c.TenantID, "AZURE_TENANT_ID") }
func (c entraConfig) clientID() string     { return value(c.ClientID, "AZURE_CLIENT_ID") }
func (c entraConfig) clientSecret() string { return value(c.ClientSecret, "AZURE_CLIENT_SECRET") }
func (c entraConfig) certificatePath() string {
	return value(c.CertificatePath, "AZURE_CLIENT_CERTIFICATE_PATH")
}
func (c entraConfig) certificatePassword() string {
	return value(c.CertificatePassword, "AZURE_CLIENT_CERTIFICATE_PASSWORD")
}

func (c entraConfig) requestTimeout() time.Duration {
	if c.RequestTimeout != nil && *c.RequestTimeout > 0 {
		return time.Duration(*c.RequestTimeout) * time.Second
	}
	return 300 * time.Second
}

// budget is the connection's request budget: its own attributes over the
// plugin-wide one.
func (c entraConfig) budget(b budget) budget {
	if c.RequestsPerWindow != nil && *c.RequestsPerWindow > 0 {
		b.requests = *c.RequestsPerWindow
	}
	if c.RequestWindow != nil && *c.RequestWindow > 0 {
		b.window = time.Duration(*c.RequestWindow * float64(time.Second))
	}
	return b
}

// nationalCloud is where a cloud signs users in and serves Graph.
type nationalCloud struct {
	identity cloud.Configuration
	graph    string // Graph root, without a version
}

// clouds maps the `environment` attribute to its endpoints (reference §7).
var clouds = map[string]nationalCloud{
	"public":   {cloud.AzurePublic, "https://graph.microsoft.com"},
	"usgov":    {cloud.AzureGovernment, "https://graph.microsoft.us"},
	"usgovdod": {cloud.AzureGovernment, "https://dod-graph.microsoft.us"},
	"china":    {cloud.AzureChina, "https://microsoftgraph.chinacloudapi.cn"},
}

// endpoints resolves the cloud and any advanced overrides.
func (c entraConfig) endpoints() (nationalCloud, error) {
	name := strings.ToLower(value(c.Environment, ""))
	if name == "" {
		name = "public"
	}
	nc, ok := clouds[name]
	if !ok {
		names := make([]string, 0, len(clouds))
		for n := range clouds {
			names = append(names, n)
		}
		sort.Strings(names)
		return nationalCloud{}, fmt.Errorf("environment %q is not a cloud this plugin knows: set environment to one of %s", name, strings.Join(names, ", "))
	}
	if h := value(c.AuthorityHost, ""); h != "" {
		if !strings.HasPrefix(h, "https://") {
			return nationalCloud{}, fmt.Errorf("authority_host %q must be an https:// URL", h)
		}
		nc.identity.ActiveDirectoryAuthorityHost = strings.TrimSuffix(h, "/") + "/"
	}
	if g := value(c.GraphEndpoint, ""); g != "" {
		if !strings.HasPrefix(g, "https://") && !strings.HasPrefix(g, "http://localhost") && !strings.HasPrefix(g, "http://127.0.0.1") {
			return nationalCloud{}, fmt.Errorf("graph_endpoint %q must be an https:// URL", g)
		}
		nc.graph = strings.TrimSuffix(g, "/")
	}
	return nc, nil
}
