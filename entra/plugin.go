// Package entra is a Steampipe plugin for Microsoft Entra sign-in logs,
// read from Microsoft Graph.
package entra

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

// Plugin returns the entra plugin.
func Plugin(ctx context.Context) *plugin.Plugin {
	// The SDK frees OS memory every 100 rows by default, a forced full GC
	// that costs more than decoding the row; a sign-in scan streams many rows.
	if _, set := os.LookupEnv("STEAMPIPE_FREE_MEM_INTERVAL"); !set {
		_ = os.Setenv("STEAMPIPE_FREE_MEM_INTERVAL", "0")
	}
	// Scans are bound by Graph's throttle, not CPU: collect garbage twice as
	// often to halve the heap's headroom over what a scan holds.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(50)
	}
	return &plugin.Plugin{
		Name: "entra",
		ConnectionConfigSchema: &plugin.ConnectionConfigSchema{
			NewInstance: configInstance,
		},
		TableMap: map[string]*plugin.Table{
			"entra_sign_in":                   tableEntraSignIn(ctx),
			"entra_interactive_sign_in":       tableEntraInteractiveSignIn(ctx),
			"entra_non_interactive_sign_in":   tableEntraNonInteractiveSignIn(ctx),
			"entra_service_principal_sign_in": tableEntraServicePrincipalSignIn(ctx),
			"entra_managed_identity_sign_in":  tableEntraManagedIdentitySignIn(ctx),
		},
	}
}
