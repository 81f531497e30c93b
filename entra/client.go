package entra

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

// graphClient is a connection's way to Graph: one credential (which caches
// its tokens) and one request adapter, built once and shared by every table
// and query of the connection.
type graphClient struct {
	adapter    *msgraphgocore.GraphRequestAdapterBase
	cred       *refreshableCredential
	credential string // which credential signs in, for error messages; never a secret
	graphRoot  string // e.g. https://graph.microsoft.com
	tenantID   string
	clientID   string // the app that signs in; with tenantID, the throttle's key
	timeout    time.Duration
	budget     func(budget) budget // the connection's overrides of the plugin-wide budget
}

// getClient returns the connection's client. Memoize makes it once per
// connection (single-flight), so tokens are reused across queries.
var getClient = plugin.HydrateFunc(func(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (any, error) {
	return newGraphClient(ctx, getConfig(d.Connection))
}).Memoize()

func connectionClient(ctx context.Context, d *plugin.QueryData) (*graphClient, error) {
	c, err := getClient(ctx, d, nil)
	if err != nil {
		return nil, err
	}
	return c.(*graphClient), nil
}

func newGraphClient(ctx context.Context, cfg entraConfig) (*graphClient, error) {
	nc, err := cfg.endpoints()
	if err != nil {
		return nil, err
	}
	// One transport for sign-in and Graph: it honours HTTPS_PROXY/NO_PROXY
	// and the system's trusted CAs (SSL_CERT_FILE included).
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 16
	httpClient := &http.Client{Transport: transport}

	inner, who, err := newCredential(cfg, nc, httpClient)
	if err != nil {
		return nil, err
	}
	// Secret and certificate credentials can be made to fetch a new token
	// when Graph rejects one; the CLI and managed identities renew their own.
	cred := &refreshableCredential{TokenCredential: inner, canRefresh: cfg.clientSecret() != "" || cfg.certificatePath() != ""}
	graphURL, err := url.Parse(nc.graph)
	if err != nil {
		return nil, fmt.Errorf("graph_endpoint %q is not a URL: %w", nc.graph, err)
	}
	scope := nc.graph + "/.default"
	c := &graphClient{cred: cred, credential: who.description, graphRoot: nc.graph, timeout: cfg.requestTimeout(), budget: cfg.budget}

	// Sign in now, so that a bad credential fails the first query with its
	// own message, and learn the tenant and app from the token when the
	// configuration left them to the environment, the CLI or a managed identity.
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return nil, credentialError(who, err)
	}
	claims := tokenClaims(tok.Token)
	c.tenantID = firstNonEmpty(cfg.tenantID(), claims.TenantID)
	c.clientID = firstNonEmpty(cfg.clientID(), claims.AppID, claims.AuthorizedParty)

	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{scope}, []string{graphURL.Hostname()})
	if err != nil {
		return nil, err
	}
	// No retry middleware: retries are the fetcher's, so that every attempt
	// is paced and counted against the throttle budget.
	c.adapter, err = msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, msgraphgocore.GraphClientOptions{GraphServiceVersion: "beta", GraphServiceLibraryVersion: "1.89.0"}, nil, nil, httpClient)
	if err != nil {
		return nil, err
	}
	c.adapter.SetBaseUrl(nc.graph + "/beta")
	return c, nil
}

// signer says which credential signs in and what to check when it fails;
// it never holds a secret.
type signer struct{ description, fix string }

// fixAppCredential is what to check when an app's secret or certificate fails.
const fixAppCredential = "check tenant_id, client_id and the secret or certificate, and that the app exists in that tenant"

// newCredential picks how to sign in: a client secret, else a certificate,
// else what azidentity's default chain finds (workload identity, managed
// identity, the Azure CLI). A client id with no way to use it is an error.
func newCredential(cfg entraConfig, nc nationalCloud, httpClient *http.Client) (azcore.TokenCredential, signer, error) {
	tenant, client := cfg.tenantID(), cfg.clientID()
	opts := azcore.ClientOptions{Cloud: nc.identity, Transport: httpClient}
	// Instance discovery would call the public cloud; a custom authority is trusted as given.
	custom := cfg.AuthorityHost != nil && *cfg.AuthorityHost != ""

	switch {
	case cfg.clientSecret() != "":
		if tenant == "" || client == "" {
			return nil, signer{}, fmt.Errorf("client_secret is set but %s is not: set tenant_id and client_id (or AZURE_TENANT_ID and AZURE_CLIENT_ID)", missing(tenant, client))
		}
		cred, err := azidentity.NewClientSecretCredential(tenant, client, cfg.clientSecret(), &azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: custom})
		return cred, signer{fmt.Sprintf("the client secret of app %s in tenant %s", client, tenant), fixAppCredential}, err

	case cfg.certificatePath() != "":
		path := cfg.certificatePath()
		if tenant == "" || client == "" {
			return nil, signer{}, fmt.Errorf("certificate_path is set but %s is not: set tenant_id and client_id (or AZURE_TENANT_ID and AZURE_CLIENT_ID)", missing(tenant, client))
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, signer{}, fmt.Errorf("certificate_path %q cannot be read (%v): point it at a PEM or PKCS#12 file with the app's certificate and private key", path, unwrapPathError(err))
		}
		certs, key, err := azidentity.ParseCertificates(data, []byte(cfg.certificatePassword()))
		if err != nil {
			return nil, signer{}, fmt.Errorf("certificate_path %q holds no usable certificate and private key (wrong certificate_password, or not PEM/PKCS#12): check certificate_password (or AZURE_CLIENT_CERTIFICATE_PASSWORD)", path)
		}
		cred, err := azidentity.NewClientCertificateCredential(tenant, client, certs, key, &azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: custom})
		if err != nil {
			return nil, signer{}, fmt.Errorf("certificate_path %q cannot sign in (%v): use the app's RSA certificate with its private key", path, err)
		}
		return cred, signer{fmt.Sprintf("the certificate %s of app %s in tenant %s", path, client, tenant), fixAppCredential}, nil

	case client != "" && os.Getenv("AZURE_FEDERATED_TOKEN_FILE") == "" && os.Getenv("IDENTITY_ENDPOINT") == "" && os.Getenv("MSI_ENDPOINT") == "":
		return nil, signer{}, fmt.Errorf("client_id %s is set but neither client_secret nor certificate_path is: set one of them (or AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH), or remove client_id to sign in with a managed identity or the Azure CLI", client)

	default:
		cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts, TenantID: tenant, DisableInstanceDiscovery: custom})
		return cred, signer{"the default Azure credential chain (workload identity, managed identity, Azure CLI)",
			"set client_id with client_secret or certificate_path (or AZURE_CLIENT_ID with AZURE_CLIENT_SECRET), run `az login`, or run where a managed or workload identity is available"}, err
	}
}

func missing(tenant, client string) string {
	switch {
	case tenant == "" && client == "":
		return "tenant_id and client_id are"
	case tenant == "":
		return "tenant_id"
	}
	return "client_id"
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// refreshableCredential is a credential whose cached token can be dropped:
// a token can expire or be revoked in the middle of a long scan.
type refreshableCredential struct {
	azcore.TokenCredential
	canRefresh bool
	stale      atomic.Bool
}

// GetToken returns the cached token, or a new one after markStale. A claims
// request ("a token issued after now") is how azidentity is told to skip its cache.
func (r *refreshableCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if r.canRefresh && r.stale.CompareAndSwap(true, false) && opts.Claims == "" {
		opts.Claims = fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, time.Now().Unix())
	}
	return r.TokenCredential.GetToken(ctx, opts)
}

// markStale makes the next request sign in again.
func (r *refreshableCredential) markStale() { r.stale.Store(true) }

type claims struct {
	TenantID        string `json:"tid"`
	AppID           string `json:"appid"`
	AuthorizedParty string `json:"azp"`
}

// tokenClaims reads the claims of an access token without verifying it:
// only Graph verifies tokens; the plugin just needs the tenant and app.
func tokenClaims(token string) claims {
	var c claims
	parts := strings.Split(token, ".")
	if len(parts) < 2 {
		return c
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err == nil {
		_ = json.Unmarshal(payload, &c)
	}
	return c
}

// onGraph points a nextLink at the configured Graph endpoint. Graph's links
// name Graph's own host; behind a gateway or proxy endpoint that host is
// not the one the credential is scoped to, and would get no token.
func (c *graphClient) onGraph(link string) string {
	u, err := url.Parse(link)
	root, rerr := url.Parse(c.graphRoot)
	if link == "" || err != nil || rerr != nil || u.Host == root.Host {
		return link
	}
	u.Scheme, u.Host = root.Scheme, root.Host
	return u.String()
}

// send makes one GET to Graph and gives the response to handle, which must
// consume the body. Every request asks for evolvable enum members
// (passthrough, AzureADBackupAuth, ...) to be sent as themselves.
func (c *graphClient) send(ctx context.Context, rawURL string, handle func(*http.Response) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ri := abs.NewRequestInformation()
	ri.Method = abs.GET
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	ri.SetUri(*u)
	ri.Headers.Add("Accept", "application/json")
	ri.Headers.Add("Prefer", "include-unknown-enum-members")
	var handleErr error
	opt := abs.NewRequestHandlerOption()
	opt.SetResponseHandler(func(response any, _ abs.ErrorMappings) (any, error) {
		resp := response.(*http.Response)
		defer resp.Body.Close()
		handleErr = handle(resp)
		return nil, nil
	})
	ri.AddRequestOptions([]abs.RequestOption{opt})
	if _, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", nil); err != nil {
		return transportError(ctx, err)
	}
	return handleErr
}
