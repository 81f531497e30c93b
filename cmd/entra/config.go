package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/zclconf/go-cty/cty"
)

// connectionAttributes are Steampipe's own attributes of a connection
// block; the rest is the plugin's configuration.
var connectionAttributes = map[string]bool{"plugin": true, "type": true, "connections": true, "import_schema": true}

// steampipeConfig is what the command takes from a Steampipe config file.
type steampipeConfig struct {
	connection string // the connection's name
	config     string // its plugin configuration, in HCL
	limiters   []*proto.RateLimiterDefinition
}

// readConfig reads one connection of a Steampipe config file (the one
// named, or the only entra one) and the entra plugin's limiter blocks.
func readConfig(path, name string) (steampipeConfig, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return steampipeConfig{}, fmt.Errorf("--config %s cannot be read: %v", path, err)
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return steampipeConfig{}, fmt.Errorf("--config %s: %s", path, diags.Error())
	}
	body := file.Body.(*hclsyntax.Body)
	connection, config, err := readConnection(body, src, path, name)
	if err != nil {
		return steampipeConfig{}, err
	}
	limiters, err := readLimiters(body, path)
	return steampipeConfig{connection, config, limiters}, err
}

// readLimiters reads the limiter blocks of `plugin "…entra…"` blocks.
func readLimiters(body *hclsyntax.Body, path string) ([]*proto.RateLimiterDefinition, error) {
	var defs []*proto.RateLimiterDefinition
	for _, p := range body.Blocks {
		if p.Type != "plugin" || len(p.Labels) != 1 || !strings.Contains(p.Labels[0], "entra") {
			continue
		}
		for _, l := range p.Body.Blocks {
			if l.Type != "limiter" || len(l.Labels) != 1 {
				continue
			}
			def := &proto.RateLimiterDefinition{Name: l.Labels[0]}
			for name, a := range l.Body.Attributes {
				v, diags := a.Expr.Value(nil)
				if diags.HasErrors() || (name != "where" && name != "scope" && v.Type() != cty.Number) {
					return nil, fmt.Errorf("--config %s: limiter %q: %s must be a number", path, def.Name, name)
				}
				switch name {
				case "fill_rate":
					f, _ := v.AsBigFloat().Float32()
					def.FillRate = f
				case "bucket_size":
					def.BucketSize, _ = v.AsBigFloat().Int64()
				case "max_concurrency":
					def.MaxConcurrency, _ = v.AsBigFloat().Int64()
				}
			}
			defs = append(defs, def)
		}
	}
	return defs, nil
}

// readConnection returns the plugin configuration (HCL) of one connection.
func readConnection(body *hclsyntax.Body, src []byte, path, name string) (connection, config string, err error) {
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
