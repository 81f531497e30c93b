package entra

import (
	"context"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

func tableEntraManagedIdentitySignIn(_ context.Context) *plugin.Table {
	return signInTable("entra_managed_identity_sign_in",
		"Managed identity sign-ins to Microsoft Entra: Azure resources signing in with their system- or user-assigned managed identity.",
		managedIdentity)
}
