package main

import (
	"github.com/turbot/steampipe-plugin-entra/entra"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
)

func main() {
	plugin.Serve(&plugin.ServeOpts{PluginFunc: entra.Plugin})
}
