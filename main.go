package main

import (
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/turbot/steampipe-plugin-entra/entra"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	pluginshared "github.com/turbot/steampipe-plugin-sdk/v5/grpc/shared"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

// main serves the plugin as plugin.Serve does, with one difference: the
// `limiter "entra_sign_in_requests"` block goes to the plugin's own pacer.
func main() {
	defer func() {
		if r := recover(); r != nil {
			// The plugin manager reads a startup failure from stdout.
			fmt.Println(plugin.PluginStartupFailureMessage + fmt.Sprint(r))
		}
	}()
	server := plugin.Server(&plugin.ServeOpts{PluginFunc: entra.Plugin})
	goplugin.Serve(&goplugin.ServeConfig{
		Plugins:         map[string]goplugin.Plugin{"entra": &pluginshared.WrapperPlugin{Impl: budgetTap{server}}},
		GRPCServer:      goplugin.DefaultGRPCServer,
		HandshakeConfig: pluginshared.Handshake,
	})
}

// budgetTap hands the budget limiter block to the plugin and the other
// limiter blocks to the SDK.
type budgetTap struct{ *grpc.PluginServer }

func (t budgetTap) SetRateLimiters(req *proto.SetRateLimitersRequest) (*proto.SetRateLimitersResponse, error) {
	return t.PluginServer.SetRateLimiters(&proto.SetRateLimitersRequest{Definitions: entra.TakeBudgetLimiter(req.GetDefinitions())})
}
