package entra

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	pluginshared "github.com/turbot/steampipe-plugin-sdk/v5/grpc/shared"
)

// TestBuiltPluginServesItsSchemaOverGRPC starts the plugin binary the way
// Steampipe's plugin manager does (hashicorp go-plugin, gRPC) and reads its schema.
func TestBuiltPluginServesItsSchemaOverGRPC(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "entra.plugin")
	build := exec.Command("go", "build", "-o", bin, "..")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building the plugin: %v", err)
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  pluginshared.Handshake,
		Plugins:          map[string]goplugin.Plugin{"entra": &pluginshared.WrapperPlugin{}},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Level: hclog.Error}),
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("starting the plugin: %v", err)
	}
	raw, err := rpc.Dispense("entra")
	if err != nil {
		t.Fatal(err)
	}
	stub := raw.(pluginshared.WrapperPluginClient)
	res, err := stub.SetAllConnectionConfigs(&proto.SetAllConnectionConfigsRequest{Configs: []*proto.ConnectionConfig{
		{Connection: "entra", Plugin: "local/entra", PluginShortName: "entra", Config: `tenant_id = "11111111-1111-4111-8111-111111111111"`},
	}})
	if err != nil || len(res.FailedConnections) > 0 {
		t.Fatalf("config: %v %v", err, res.GetFailedConnections())
	}
	// Steampipe sends its limiter blocks; the budget block is the plugin's, the rest the SDK's.
	if _, err := stub.SetRateLimiters(&proto.SetRateLimitersRequest{Definitions: []*proto.RateLimiterDefinition{
		{Name: BudgetLimiter, FillRate: 0.5, BucketSize: 5}, {Name: "entra_concurrency", MaxConcurrency: 4},
	}}); err != nil {
		t.Fatalf("limiter blocks: %v", err)
	}
	schema, err := stub.GetSchema(&proto.GetSchemaRequest{Connection: "entra"})
	if err != nil {
		t.Fatal(err)
	}
	tables := schema.GetSchema().GetSchema()
	for name := range tableKinds {
		ts := tables[name]
		if ts == nil || len(ts.Columns) < 80 || ts.ListCallKeyColumnList == nil {
			t.Fatalf("table %s over gRPC: %v", name, ts)
		}
	}
}
