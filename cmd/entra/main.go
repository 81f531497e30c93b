// Command entra answers SQL over Microsoft Entra sign-in logs with no
// Steampipe install: an embedded SQLite whose tables are the plugin's.
//
//	entra query "select ... from entra_sign_in where ..."
//	entra query -f investigation.sql --output csv
//	entra tables
//	entra columns entra_sign_in
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/turbot/steampipe-plugin-entra/entra"
	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
	"github.com/turbot/steampipe-plugin-entra/internal/sqlengine"
	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
)

const usage = `entra: SQL over Microsoft Entra sign-in logs.

Usage:
  entra query [flags] "SQL"        run one or more statements (or -f FILE, or stdin)
  entra tables [flags]             list the tables
  entra columns [flags] TABLE      list a table's columns and what is pushed down to Graph

Flags:
  --config FILE       a Steampipe connection config (connection "name" { plugin = "local/entra" ... })
  --connection NAME   the connection to use when the file has several
  --demo              use a built-in Graph emulator with synthetic data instead of a tenant
  --output FORMAT     table, csv, json or line (table on a terminal, csv otherwise)
  -f FILE             read the statements from FILE

Without --config, the plugin signs in from AZURE_TENANT_ID, AZURE_CLIENT_ID and
AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH), else a managed identity or
the Azure CLI (az login).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet("entra "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "")
	connectionName := fs.String("connection", "", "")
	demo := fs.Bool("demo", false, "")
	output := fs.String("output", "", "")
	file := fs.String("f", "", "")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *output == "" {
		*output = "csv"
		if isTerminal(stdout) {
			*output = "table"
		}
	}
	switch *output {
	case "table", "csv", "json", "line":
	default:
		fmt.Fprintf(stderr, "entra: --output %q: use table, csv, json or line\n", *output)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	engine, cleanup, err := openEngine(ctx, *configPath, *connectionName, *demo, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "entra: %v\n", err)
		return 1
	}
	defer cleanup()

	switch cmd {
	case "query":
		sql, err := statements(fs.Args(), *file, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "entra: %v\n", err)
			return 2
		}
		return query(ctx, engine, sql, *output, stdout, stderr, isTerminal(stderr))
	case "tables":
		return listTables(engine, "", *output, stdout, stderr)
	case "columns":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "entra: columns needs one table name; `entra tables` lists them")
			return 2
		}
		return listTables(engine, fs.Arg(0), *output, stdout, stderr)
	}
	fmt.Fprintf(stderr, "entra: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// openEngine starts the plugin in process and opens SQLite over it.
func openEngine(ctx context.Context, configPath, connectionName string, demo bool, stderr io.Writer) (*sqlengine.Engine, func(), error) {
	if os.Getenv("STEAMPIPE_LOG_LEVEL") == "" {
		os.Setenv("STEAMPIPE_LOG_LEVEL", "OFF") // the plugin's own log would mix with results
	}
	name, config, cleanup := "entra", "", func() {}
	var limiters []*proto.RateLimiterDefinition
	switch {
	case demo:
		var err error
		config, cleanup, err = startDemo()
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintln(stderr, "entra: --demo: these sign-ins are synthetic, served by a built-in Graph emulator; no tenant is contacted")
	case configPath != "":
		cfg, err := readConfig(configPath, connectionName)
		if err != nil {
			return nil, nil, err
		}
		name, config, limiters = cfg.connection, cfg.config, cfg.limiters
	}
	p, err := localplugin.Start(entra.Plugin, "entra", localplugin.Options{LimiterTap: entra.TakeBudgetLimiter}, localplugin.Connection{Name: name, Config: config})
	if err == nil {
		err = p.SetRateLimiters(limiters...) // as Steampipe does, even with none
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	e, err := sqlengine.Open(ctx, p, name, 10*time.Minute)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return e, func() { e.Close(); cleanup() }, nil
}

// startDemo serves a synthetic tenant from the emulator and returns the
// connection config that reaches it.
func startDemo() (string, func(), error) {
	const client, secret = "0000aaaa-0000-4000-8000-00000000de30", "demo-secret"
	undo, err := graphfake.TrustEmulator()
	if err != nil {
		return "", nil, err
	}
	srv := graphfake.New(graphfake.Config{
		Log:     graphfake.Log{Seed: 2026, Rows: 20_000},
		Clients: map[string]graphfake.Client{client: {Secret: secret}},
	})
	config := fmt.Sprintf("tenant_id = %q\nclient_id = %q\nclient_secret = %q\nauthority_host = %q\ngraph_endpoint = %q\nrequests_per_window = 100\nrequest_window = 1\n",
		srv.TenantID(), client, secret, srv.URL, srv.URL)
	return config, func() { srv.Close(); undo() }, nil
}

// statements reads the SQL from the arguments, a file, or stdin.
func statements(args []string, file string, stdin io.Reader) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", errors.New("give the SQL as an argument or with -f, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("-f %s cannot be read: %v", file, err)
		}
		return string(b), nil
	case len(args) > 0:
		return strings.Join(args, " "), nil
	}
	b, err := io.ReadAll(stdin)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", errors.New(`no SQL: give it as an argument ("select ..."), with -f FILE, or on stdin`)
	}
	return string(b), nil
}

func query(ctx context.Context, e *sqlengine.Engine, sql, format string, stdout, stderr io.Writer, showProgress bool) int {
	progress := startProgress(e, stderr, showProgress)
	first := true
	err := e.Exec(ctx, sql, func(r sqlengine.Result) error {
		progress.clear()
		if !first && format != "json" && format != "csv" {
			fmt.Fprintln(stdout)
		}
		first = false
		return writeResult(stdout, format, r)
	})
	progress.stop()
	if err != nil {
		fmt.Fprintf(stderr, "entra: %s\n", strings.TrimPrefix(err.Error(), "entra: "))
		return 1
	}
	return 0
}

func listTables(e *sqlengine.Engine, only, format string, stdout, stderr io.Writer) int {
	tables, err := e.Tables()
	if err != nil {
		fmt.Fprintf(stderr, "entra: %v\n", err)
		return 1
	}
	var res sqlengine.Result
	if only == "" {
		res.Columns = []string{"table", "description"}
		for _, t := range tables {
			res.Rows = append(res.Rows, []any{t.Name, t.Description})
		}
		return finish(writeResult(stdout, format, res), stderr)
	}
	for _, t := range tables {
		if t.Name != only {
			continue
		}
		res.Columns = []string{"column", "type", "pushed_down", "description"}
		for _, c := range t.Columns {
			res.Rows = append(res.Rows, []any{c.Name, c.Type, strings.Join(c.Pushed, " "), c.Description})
		}
		return finish(writeResult(stdout, format, res), stderr)
	}
	fmt.Fprintf(stderr, "entra: no table %q; `entra tables` lists them\n", only)
	return 1
}

func finish(err error, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "entra: %v\n", err)
		return 1
	}
	return 0
}
