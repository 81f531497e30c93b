package entra

import (
	"context"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

func tableEntraNonInteractiveSignIn(_ context.Context) *plugin.Table {
	return signInTable("entra_non_interactive_sign_in",
		"Non-interactive user sign-ins to Microsoft Entra: a client signed in for a user without the user's input, such as a token refresh.",
		nonInteractiveUser)
}
