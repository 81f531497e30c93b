// Package sqlengine answers SQL over a plugin's tables with an embedded
// SQLite: every table is a virtual table whose scans run through the
// plugin in process, with WHERE, IN, LIMIT and OFFSET pushed down.
package sqlengine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
)

// timeColumn's constraints are left to the plugin, which compares times.
const timeColumn = "created_date_time"

// Engine is an SQLite database whose tables are a plugin connection's.
type Engine struct {
	db         *sqlite3.Conn
	plugin     *localplugin.Plugin
	connection string
	tables     map[string]*table
	ctx        context.Context
	cacheTTL   time.Duration
	rowsRead   int64
	// scanErr is the first error a scan of the running statement met: the
	// plugin's own sentence, which SQLite would otherwise wrap.
	scanErr atomic.Pointer[error]
}

func (e *Engine) scanFailed(err error) { e.scanErr.CompareAndSwap(nil, &err) }

// Open makes the connection's tables queryable. Scans stop when ctx ends.
// cacheTTL lets repeated identical scans (an inner join's, say) reuse rows.
func Open(ctx context.Context, p *localplugin.Plugin, connection string, cacheTTL time.Duration) (*Engine, error) {
	schema, err := p.Schema(connection)
	if err != nil {
		return nil, err
	}
	db, err := sqlite3.Open(":memory:")
	if err != nil {
		return nil, err
	}
	e := &Engine{db: db, plugin: p, connection: connection, tables: map[string]*table{}, ctx: ctx, cacheTTL: cacheTTL}
	for name, ts := range schema {
		t := &table{engine: e, name: name, columns: ts.Columns, keyOps: map[string]map[string]bool{}}
		for _, kc := range ts.GetListCallKeyColumnList() {
			ops := map[string]bool{}
			for _, op := range kc.Operators {
				ops[op] = true
			}
			t.keyOps[kc.Name] = ops
		}
		e.tables[name] = t
		// An eponymous virtual table: usable by name, with no CREATE.
		err := sqlite3.CreateModule(db, name, nil, func(db *sqlite3.Conn, _, _, _ string, _ ...string) (*table, error) {
			return t, db.DeclareVTab(t.declaration())
		})
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	return e, nil
}

// Close releases the database.
func (e *Engine) Close() error { return e.db.Close() }

// RowsRead counts the rows the plugin has streamed so far.
func (e *Engine) RowsRead() int64 { return atomic.LoadInt64(&e.rowsRead) }

func (t *table) declaration() string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = fmt.Sprintf("%q %s", c.Name, sqliteType(c.Type))
	}
	return "CREATE TABLE x(" + strings.Join(cols, ", ") + ")"
}

func sqliteType(t proto.ColumnType) string {
	switch t {
	case proto.ColumnType_INT, proto.ColumnType_BOOL:
		return "INTEGER"
	case proto.ColumnType_DOUBLE:
		return "REAL"
	}
	return "TEXT"
}

// Result is one statement's answer.
type Result struct {
	Columns []string
	Rows    [][]any // string, int64, float64, []byte or nil
}

// Exec runs every statement of sql in turn; each is handed to out when it
// has finished. An error says which statement failed and where.
func (e *Engine) Exec(ctx context.Context, sql string, out func(Result) error) error {
	old := e.db.SetInterrupt(ctx)
	defer e.db.SetInterrupt(old)
	for n := 1; strings.TrimSpace(sql) != ""; n++ {
		e.scanErr.Store(nil)
		stmt, tail, err := e.db.Prepare(sql)
		if err != nil {
			return statementError(n, sql, err)
		}
		if stmt == nil { // only a comment or a semicolon was left
			sql = tail
			continue
		}
		res := Result{}
		for i := 0; i < stmt.ColumnCount(); i++ {
			res.Columns = append(res.Columns, stmt.ColumnName(i))
		}
		for stmt.Step() {
			row := make([]any, len(res.Columns))
			for i := range row {
				switch stmt.ColumnType(i) {
				case sqlite3.INTEGER:
					row[i] = stmt.ColumnInt64(i)
				case sqlite3.FLOAT:
					row[i] = stmt.ColumnFloat(i)
				case sqlite3.TEXT:
					row[i] = stmt.ColumnText(i)
				case sqlite3.BLOB:
					row[i] = stmt.ColumnBlob(i, nil)
				}
			}
			res.Rows = append(res.Rows, row)
		}
		err = stmt.Err()
		stmt.Close()
		if scanErr := e.scanErr.Swap(nil); err != nil && scanErr != nil {
			return *scanErr
		}
		if err != nil {
			return statementError(n, sql, err)
		}
		if err := out(res); err != nil {
			return err
		}
		sql = tail
	}
	return nil
}

// statementError says which statement failed and, for a syntax error, where.
func statementError(n int, sql string, err error) error {
	var se *sqlite3.Error
	msg := err.Error()
	if errors.As(err, &se) {
		msg = strings.TrimPrefix(msg, "sqlite3: ")
		if at := se.SQL(); at != "" && len(at) < len(sql) {
			line := strings.Count(sql[:len(sql)-len(at)], "\n") + 1
			return fmt.Errorf("statement %d, line %d, near %q: %s", n, line, firstLine(at), msg)
		}
	}
	return fmt.Errorf("statement %d: %s", n, msg)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// Table describes a table for listings.
type Table struct {
	Name, Description string
	Columns           []Column
}

// Column describes a column for listings; Pushed lists the operators sent to the API.
type Column struct {
	Name, Type, Description string
	Pushed                  []string
}

// operatorNames spells the plugin's operators as SQL does.
var operatorNames = map[string]string{"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "~~": "like", "~~*": "ilike"}

// Tables lists the tables, by name.
func (e *Engine) Tables() ([]Table, error) {
	schema, err := e.plugin.Schema(e.connection)
	if err != nil {
		return nil, err
	}
	var out []Table
	for name, ts := range schema {
		t := Table{Name: name, Description: ts.Description}
		for _, c := range ts.Columns {
			col := Column{Name: c.Name, Type: sqliteType(c.Type), Description: c.Description}
			if c.Type == proto.ColumnType_TIMESTAMP {
				col.Type = "TEXT (ISO-8601 UTC)"
			} else if c.Type == proto.ColumnType_JSON {
				col.Type = "TEXT (JSON)"
			} else if c.Type == proto.ColumnType_BOOL {
				col.Type = "INTEGER (0/1)"
			}
			for op := range e.tables[name].keyOps[c.Name] {
				col.Pushed = append(col.Pushed, operatorNames[op])
			}
			sort.Strings(col.Pushed)
			t.Columns = append(t.Columns, col)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
