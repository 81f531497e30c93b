package sqlengine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
)

// table is one plugin table seen as an SQLite virtual table.
type table struct {
	engine  *Engine
	name    string
	columns []*proto.ColumnDefinition
	// keyOps maps a column to the operators its List call takes ("=", "<>", "~~", ...).
	keyOps map[string]map[string]bool
}

// sqliteOps maps SQLite's constraint operators to Steampipe's.
var sqliteOps = map[sqlite3.IndexConstraintOp]string{
	sqlite3.INDEX_CONSTRAINT_EQ:   "=",
	sqlite3.INDEX_CONSTRAINT_NE:   "<>",
	sqlite3.INDEX_CONSTRAINT_GT:   ">",
	sqlite3.INDEX_CONSTRAINT_GE:   ">=",
	sqlite3.INDEX_CONSTRAINT_LT:   "<",
	sqlite3.INDEX_CONSTRAINT_LE:   "<=",
	sqlite3.INDEX_CONSTRAINT_LIKE: "~~*", // SQLite's LIKE ignores case: ILIKE
}

// plan is what BestIndex decided, passed to Filter through IdxStr.
// Each pushed constraint is "column op"; the arguments follow in order.
// LIMIT and OFFSET, when pushed, come last as "limit" and "offset".
type plan []string

func (p plan) String() string { return strings.Join(p, "\n") }

func parsePlan(s string) plan {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// BestIndex pushes every usable key-column constraint (IN lists whole),
// and LIMIT and OFFSET only when every constraint of the scan is pushed
// and answered exactly by the plugin, so that a LIMIT never drops rows
// the SQL engine would have kept.
func (t *table) BestIndex(idx *sqlite3.IndexInfo) error {
	var p plan
	argv := 0
	allPushed := true
	cost, rows := 1e9, int64(1_000_000)
	limitAt, offsetAt := -1, -1
	for i, c := range idx.Constraint {
		switch c.Op {
		case sqlite3.INDEX_CONSTRAINT_LIMIT:
			limitAt = i
			continue
		case sqlite3.INDEX_CONSTRAINT_OFFSET:
			offsetAt = i
			continue
		}
		op, known := sqliteOps[c.Op]
		if c.Column < 0 || c.Column >= len(t.columns) || !known || !c.Usable || !t.keyOps[t.columns[c.Column].Name][op] {
			allPushed = false
			continue
		}
		name := t.columns[c.Column].Name
		argv++
		// The plugin re-checks times exactly; SQLite would compare its ISO
		// text with whatever text the query holds.
		idx.ConstraintUsage[i] = sqlite3.IndexConstraintUsage{ArgvIndex: argv, Omit: name == timeColumn}
		if op == "=" && name != timeColumn {
			idx.In(i, 1) // hand over IN lists whole: one request with an "or"
		}
		if op == "~~*" {
			allPushed = false // only 'prefix%' patterns reach Graph, and the pattern is not known yet
		}
		p = append(p, name+" "+op)
		// Each pushed constraint makes the scan cheaper; an id or a
		// correlation id makes it a handful of rows.
		switch {
		case op == "=" && (name == "id" || name == "correlation_id"):
			cost, rows = cost/1e6, 1
		case op == "=":
			cost, rows = cost/100, max(rows/100, 1)
		default:
			cost, rows = cost/3, max(rows/3, 1)
		}
	}
	if allPushed && limitAt >= 0 {
		argv++
		idx.ConstraintUsage[limitAt] = sqlite3.IndexConstraintUsage{ArgvIndex: argv}
		p = append(p, "limit")
		if offsetAt >= 0 {
			argv++
			idx.ConstraintUsage[offsetAt] = sqlite3.IndexConstraintUsage{ArgvIndex: argv}
			p = append(p, "offset")
		}
	}
	idx.IdxStr = p.String()
	idx.IdxNum = int(idx.ColumnsUsed & (1<<63 - 1))
	if idx.ColumnsUsed&(1<<63) != 0 {
		idx.IdxNum = -1 // columns 63 and up are used: ask for all
	}
	idx.EstimatedCost, idx.EstimatedRows = cost, rows
	return nil
}

func (t *table) Open() (sqlite3.VTabCursor, error) { return &cursor{table: t}, nil }

// cursor streams one scan's rows from the plugin.
type cursor struct {
	table  *table
	cancel context.CancelFunc
	rows   chan localplugin.Row
	errc   chan error
	row    localplugin.Row
	rowid  int64
	eof    bool
}

func (c *cursor) Filter(idxNum int, idxStr string, args ...sqlite3.Value) error {
	c.Close()
	q := localplugin.Query{Connection: c.table.engine.connection, Table: c.table.name, Columns: c.table.usedColumns(idxNum), CacheTTL: c.table.engine.cacheTTL}
	var limit, offset int64
	for i, step := range parsePlan(idxStr) {
		v := args[i]
		switch step {
		case "limit":
			limit = v.Int64()
			continue
		case "offset":
			offset = v.Int64()
			continue
		}
		column, op, _ := strings.Cut(step, " ")
		value, err := c.table.qualValue(column, op, v)
		if err != nil {
			c.table.engine.scanFailed(err)
			return err
		}
		if value == nil {
			c.eof = true // a NULL compares false: no row can match
			return nil
		}
		q.Quals = append(q.Quals, localplugin.Qual{Column: column, Operator: op, Value: value})
	}
	if limit > 0 {
		q.Limit = limit + max(offset, 0)
	}
	ctx, cancel := context.WithCancel(c.table.engine.ctx)
	c.cancel = cancel
	c.rows, c.errc = make(chan localplugin.Row, 256), make(chan error, 1)
	go func() {
		defer close(c.rows)
		c.errc <- c.table.engine.plugin.Execute(ctx, q, func(r localplugin.Row) bool {
			select {
			case c.rows <- r:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	c.eof = false
	return c.Next()
}

// qualValue converts an SQLite value to the column's type; nil for NULL.
func (t *table) qualValue(column, op string, v sqlite3.Value) (any, error) {
	if op == "=" {
		// An IN list arrives whole; a plain value is not one.
		if first, err := v.InFirst(); err == nil {
			var list []any
			for item := first; err == nil; item, err = v.InNext() {
				if iv, cerr := t.qualValue(column, "", item); cerr != nil {
					return nil, cerr
				} else if iv != nil {
					list = append(list, iv)
				}
			}
			if len(list) == 0 {
				return nil, nil
			}
			return list, nil
		}
	}
	if v.Type() == sqlite3.NULL {
		return nil, nil
	}
	switch t.columnType(column) {
	case proto.ColumnType_INT:
		return v.Int64(), nil
	case proto.ColumnType_BOOL:
		return v.Bool(), nil
	case proto.ColumnType_DOUBLE:
		return v.Float(), nil
	case proto.ColumnType_TIMESTAMP:
		at, err := parseTime(v.Text())
		if err != nil {
			return nil, fmt.Errorf("%s %s %q: %w", column, op, v.Text(), err)
		}
		return at, nil
	}
	return v.Text(), nil
}

func (t *table) columnType(name string) proto.ColumnType {
	for _, c := range t.columns {
		if c.Name == name {
			return c.Type
		}
	}
	return proto.ColumnType_STRING
}

// usedColumns turns SQLite's columns-used mask into the plugin's column list.
func (t *table) usedColumns(mask int) []string {
	var out []string
	for i, c := range t.columns {
		if mask < 0 || (i < 63 && mask&(1<<i) != 0) {
			out = append(out, c.Name)
		}
	}
	if len(out) == 0 {
		out = append(out, t.columns[0].Name) // count(*) still needs rows
	}
	return out
}

func (c *cursor) Next() error {
	r, ok := <-c.rows
	if !ok {
		c.eof = true
		if err := <-c.errc; err != nil {
			c.table.engine.scanFailed(err)
			return err
		}
		return nil
	}
	c.row = r
	c.rowid++
	atomic.AddInt64(&c.table.engine.rowsRead, 1)
	return nil
}

func (c *cursor) EOF() bool { return c.eof }

func (c *cursor) RowID() (int64, error) { return c.rowid, nil }

// Column gives SQLite a value: NULL stays NULL, JSON is JSON text,
// timestamps are ISO-8601 UTC text, booleans 0 or 1.
func (c *cursor) Column(ctx sqlite3.Context, n int) error {
	switch v := c.row[c.table.columns[n].Name].(type) {
	case nil:
		ctx.ResultNull()
	case string:
		ctx.ResultText(v)
	case int64:
		ctx.ResultInt64(v)
	case float64:
		ctx.ResultFloat(v)
	case bool:
		ctx.ResultBool(v)
	case []byte:
		ctx.ResultRawText(v)
	case time.Time:
		ctx.ResultText(v.UTC().Format(time.RFC3339))
	default:
		ctx.ResultText(fmt.Sprint(v))
	}
	return nil
}

// Close stops the scan: the plugin's requests in flight are cancelled.
func (c *cursor) Close() error {
	if c.cancel != nil {
		c.cancel()
		for range c.rows { // let the producer finish
		}
		c.cancel = nil
	}
	return nil
}

// parseTime reads the time formats people write in SQL; without a zone, UTC.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: write it as 2006-01-02T15:04:05Z or 2006-01-02 15:04:05")
}
