// Package localplugin runs a Steampipe plugin in process, the way
// Steampipe's own embedded engines do: plugin.Server, connection configs
// in HCL, GetSchema, and CallExecuteAsync streaming into a LocalPluginStream.
package localplugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/anywhere"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Connection is one `connection` block of a Steampipe config.
type Connection struct {
	Name   string
	Config string // the block's body, in HCL
}

// Plugin is a plugin running in this process.
type Plugin struct {
	server     *grpc.PluginServer
	limiterTap func([]*proto.RateLimiterDefinition) []*proto.RateLimiterDefinition
	calls      atomic.Int64
}

// Options tune the in-process plugin.
type Options struct {
	// CacheMB is the query cache's size; the cache preallocates all of it.
	// 0 means 32 MB.
	CacheMB int
	// LimiterTap, when set, sees Steampipe's limiter definitions first and
	// returns those the SDK should apply.
	LimiterTap func([]*proto.RateLimiterDefinition) []*proto.RateLimiterDefinition
}

// Start serves the plugin in process and configures its connections.
func Start(pluginFunc plugin.PluginFunc, pluginName string, opts Options, connections ...Connection) (*Plugin, error) {
	server, err := serveAside(pluginFunc)
	if err != nil {
		return nil, err
	}
	p := &Plugin{server: server, limiterTap: opts.LimiterTap}
	configs := make([]*proto.ConnectionConfig, len(connections))
	for i, c := range connections {
		configs[i] = &proto.ConnectionConfig{Connection: c.Name, Plugin: "local/" + pluginName, PluginShortName: pluginName, Config: c.Config}
	}
	if opts.CacheMB == 0 {
		opts.CacheMB = 32
	}
	res, err := p.server.SetAllConnectionConfigs(&proto.SetAllConnectionConfigsRequest{Configs: configs, MaxCacheSizeMb: int64(opts.CacheMB)})
	if err != nil {
		return nil, err
	}
	for name, msg := range res.GetFailedConnections() {
		return nil, fmt.Errorf("connection %s: %s", name, msg)
	}
	return p, nil
}

// serveAside starts the plugin under a private TMPDIR: plugin.Server makes
// and at once deletes $TMPDIR/<plugin name>, which may be someone's.
func serveAside(pluginFunc plugin.PluginFunc) (*grpc.PluginServer, error) {
	dir, err := os.MkdirTemp("", "localplugin")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	old, had := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", dir)
	defer func() {
		if had {
			os.Setenv("TMPDIR", old)
		} else {
			os.Unsetenv("TMPDIR")
		}
	}()
	return plugin.Server(&plugin.ServeOpts{PluginFunc: pluginFunc}), nil
}

// Schema returns the tables of a connection, by name.
func (p *Plugin) Schema(connection string) (map[string]*proto.TableSchema, error) {
	res, err := p.server.GetSchema(&proto.GetSchemaRequest{Connection: connection})
	if err != nil {
		return nil, err
	}
	return res.GetSchema().GetSchema(), nil
}

// Qual is one WHERE condition the plugin may push down.
type Qual struct {
	Column   string
	Operator string // =, <>, <, <=, >, >=, ~~ (like)
	Value    any    // string, int64, float64, bool, time.Time, or a []any for IN
}

// Query is one table scan.
type Query struct {
	Connection string
	Table      string
	Columns    []string
	Quals      []Qual
	Limit      int64 // 0: no limit
	CacheTTL   time.Duration
}

// Row is a result row: column name to value (nil is NULL; JSON columns are
// JSON text in a []byte; timestamps are time.Time).
type Row map[string]any

// Execute runs a scan and hands each row to each, until it returns false.
// Cancelling ctx cancels the scan.
func (p *Plugin) Execute(ctx context.Context, q Query, each func(Row) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pq, err := toProtoQuals(q.Quals)
	if err != nil {
		return err
	}
	qc := &proto.QueryContext{Columns: q.Columns, Quals: pq}
	data := &proto.ExecuteConnectionData{CacheEnabled: q.CacheTTL > 0, CacheTtl: int64(q.CacheTTL.Seconds())}
	if q.Limit > 0 {
		data.Limit = &proto.NullableInt{Value: q.Limit}
	}
	req := &proto.ExecuteRequest{
		Table:                 q.Table,
		QueryContext:          qc,
		Connection:            q.Connection,
		CallId:                fmt.Sprintf("local-%d-%d", time.Now().UnixNano(), p.calls.Add(1)),
		ExecuteConnectionData: map[string]*proto.ExecuteConnectionData{q.Connection: data},
	}
	stream := anywhere.NewLocalPluginStream(ctx)
	p.server.CallExecuteAsync(req, stream)
	for {
		resp, err := stream.Recv()
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return nil
			}
			return cleanError(err)
		}
		if resp == nil || resp.Row == nil {
			return outcome(stream, cancel)
		}
		if !each(toRow(resp.Row)) {
			return nil
		}
	}
}

// outcome tells, after the SDK's end-of-rows marker, whether the scan
// failed. The SDK marks the end of the rows before it returns; then
// CallExecuteAsync either sends a second marker (success) or records the
// error and closes the stream, where the error waits for one more Recv.
func outcome(stream *anywhere.LocalPluginStream, cancel context.CancelFunc) error {
	if _, err := stream.Recv(); err != nil {
		return cleanError(err)
	}
	cancel() // nothing else will come: let the last Recv return
	if _, err := stream.Recv(); err != nil && !errors.Is(err, context.Canceled) {
		return cleanError(err)
	}
	return nil
}

// cleanError strips the SDK's wrapping ("rpc error: ... desc = ") so the
// plugin's own sentence reaches the user.
func cleanError(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, "desc = "); i >= 0 {
		msg = msg[i+len("desc = "):]
	}
	return errors.New(msg)
}

func toRow(r *proto.Row) Row {
	row := make(Row, len(r.Columns))
	for name, c := range r.Columns {
		switch v := c.GetValue().(type) {
		case *proto.Column_StringValue:
			row[name] = v.StringValue
		case *proto.Column_IntValue:
			row[name] = v.IntValue
		case *proto.Column_DoubleValue:
			row[name] = v.DoubleValue
		case *proto.Column_BoolValue:
			row[name] = v.BoolValue
		case *proto.Column_JsonValue:
			row[name] = v.JsonValue
		case *proto.Column_TimestampValue:
			row[name] = v.TimestampValue.AsTime().UTC()
		case *proto.Column_IpAddrValue:
			row[name] = v.IpAddrValue
		case *proto.Column_CidrRangeValue:
			row[name] = v.CidrRangeValue
		case *proto.Column_LtreeValue:
			row[name] = v.LtreeValue
		default:
			row[name] = nil
		}
	}
	return row
}

func toProtoQuals(quals []Qual) (map[string]*proto.Quals, error) {
	out := map[string]*proto.Quals{}
	// A stable order, as the SQL engine gives.
	sorted := append([]Qual(nil), quals...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Column < sorted[j].Column })
	for _, q := range sorted {
		v, err := toQualValue(q.Value)
		if err != nil {
			return nil, fmt.Errorf("qual on %s: %w", q.Column, err)
		}
		if out[q.Column] == nil {
			out[q.Column] = &proto.Quals{}
		}
		out[q.Column].Quals = append(out[q.Column].Quals, &proto.Qual{
			FieldName: q.Column,
			Operator:  &proto.Qual_StringValue{StringValue: q.Operator},
			Value:     v,
		})
	}
	return out, nil
}

func toQualValue(v any) (*proto.QualValue, error) {
	switch x := v.(type) {
	case string:
		return &proto.QualValue{Value: &proto.QualValue_StringValue{StringValue: x}}, nil
	case int:
		return &proto.QualValue{Value: &proto.QualValue_Int64Value{Int64Value: int64(x)}}, nil
	case int64:
		return &proto.QualValue{Value: &proto.QualValue_Int64Value{Int64Value: x}}, nil
	case float64:
		return &proto.QualValue{Value: &proto.QualValue_DoubleValue{DoubleValue: x}}, nil
	case bool:
		return &proto.QualValue{Value: &proto.QualValue_BoolValue{BoolValue: x}}, nil
	case time.Time:
		return &proto.QualValue{Value: &proto.QualValue_TimestampValue{TimestampValue: timestamppb.New(x)}}, nil
	case []any:
		list := &proto.QualValueList{}
		for _, item := range x {
			iv, err := toQualValue(item)
			if err != nil {
				return nil, err
			}
			list.Values = append(list.Values, iv)
		}
		return &proto.QualValue{Value: &proto.QualValue_ListValue{ListValue: list}}, nil
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// SetRateLimiters applies Steampipe `limiter` blocks, as Steampipe does
// when its config has them.
func (p *Plugin) SetRateLimiters(defs ...*proto.RateLimiterDefinition) error {
	if p.limiterTap != nil {
		defs = p.limiterTap(defs)
	}
	_, err := p.server.SetRateLimiters(&proto.SetRateLimitersRequest{Definitions: defs})
	return err
}
