package entra

import (
	"context"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

func tableEntraInteractiveSignIn(_ context.Context) *plugin.Table {
	return signInTable("entra_interactive_sign_in",
		"Interactive user sign-ins to Microsoft Entra: a user presented a credential (password, MFA, passkey, federated sign-in).",
		interactiveUser)
}
