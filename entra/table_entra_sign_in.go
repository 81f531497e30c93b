package entra

import (
	"context"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

func tableEntraSignIn(_ context.Context) *plugin.Table {
	return signInTable("entra_sign_in",
		"Every Microsoft Entra sign-in: interactive and non-interactive user, service principal and managed identity sign-ins; sign_in_event_type says which.",
		allEventTypes...)
}
