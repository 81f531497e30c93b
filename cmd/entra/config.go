package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// connectionAttributes are Steampipe's own attributes of a connection
// block; the rest is the plugin's configuration.
var connectionAttributes = map[string]bool{"plugin": true, "type": true, "connections": true, "import_schema": true}

// readConnection returns the plugin configuration (HCL) of one connection
// of a Steampipe config file: the one named, or the only entra one.
func readConnection(path, name string) (connection, config string, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("--config %s cannot be read: %v", path, err)
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return "", "", fmt.Errorf("--config %s: %s", path, diags.Error())
	}
	body := file.Body.(*hclsyntax.Body)
	var found []*hclsyntax.Block
	var names []string
	for _, b := range body.Blocks {
		if b.Type != "connection" || len(b.Labels) != 1 {
			continue
		}
		if plugin, ok := b.Body.Attributes["plugin"]; ok && !strings.Contains(string(plugin.SrcRange.SliceBytes(src)), "entra") {
			continue
		}
		names = append(names, b.Labels[0])
		if name == "" || b.Labels[0] == name {
			found = append(found, b)
		}
	}
	switch {
	case len(found) == 0 && name != "":
		return "", "", fmt.Errorf("--config %s has no entra connection named %q (it has: %s)", path, name, strings.Join(names, ", "))
	case len(found) == 0:
		return "", "", fmt.Errorf("--config %s has no connection with plugin = \"local/entra\"", path)
	case len(found) > 1:
		return "", "", fmt.Errorf("--config %s has several entra connections (%s): pick one with --connection", path, strings.Join(names, ", "))
	}
	b := found[0]
	attrs := make([]*hclsyntax.Attribute, 0, len(b.Body.Attributes))
	for n, a := range b.Body.Attributes {
		if !connectionAttributes[n] {
			attrs = append(attrs, a)
		}
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].SrcRange.Start.Byte < attrs[j].SrcRange.Start.Byte })
	var cfg strings.Builder
	for _, a := range attrs {
		cfg.Write(a.SrcRange.SliceBytes(src))
		cfg.WriteByte('\n')
	}
	return b.Labels[0], cfg.String(), nil
}
