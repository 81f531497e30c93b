package entra

import (
	"context"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

func tableEntraServicePrincipalSignIn(_ context.Context) *plugin.Table {
	return signInTable("entra_service_principal_sign_in",
		"Service principal sign-ins to Microsoft Entra: apps signing in as themselves with a secret, certificate or federated credential.",
		servicePrincipal)
}
