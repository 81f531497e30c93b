package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/turbot/steampipe-plugin-entra/internal/sqlengine"
)

// writeResult prints one statement's result in the chosen format.
func writeResult(w io.Writer, format string, r sqlengine.Result) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(r.Columns)
		for _, row := range r.Rows {
			rec := make([]string, len(row))
			for i, v := range row {
				rec[i] = text(v)
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		return writeJSON(w, r)
	case "line":
		width := 0
		for _, c := range r.Columns {
			width = max(width, utf8.RuneCountInString(c))
		}
		for i, row := range r.Rows {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "-[ RECORD %-2d ]%s\n", i+1, strings.Repeat("-", max(0, width+3)))
			for j, v := range row {
				fmt.Fprintf(w, "%-*s | %s\n", width, r.Columns[j], text(v))
			}
		}
		return nil
	default:
		return writeTable(w, r)
	}
}

// writeTable draws the result as a bordered table.
func writeTable(w io.Writer, r sqlengine.Result) error {
	widths := make([]int, len(r.Columns))
	cells := make([][]string, len(r.Rows))
	for i, c := range r.Columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for i, row := range r.Rows {
		cells[i] = make([]string, len(row))
		for j, v := range row {
			s := strings.ReplaceAll(text(v), "\n", " ")
			if utf8.RuneCountInString(s) > 80 {
				s = string([]rune(s)[:79]) + "…"
			}
			cells[i][j] = s
			widths[j] = max(widths[j], utf8.RuneCountInString(s))
		}
	}
	rule := "+"
	for _, wd := range widths {
		rule += strings.Repeat("-", wd+2) + "+"
	}
	line := func(vals []string) {
		var b strings.Builder
		b.WriteString("|")
		for j, v := range vals {
			b.WriteString(" " + v + strings.Repeat(" ", widths[j]-utf8.RuneCountInString(v)) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintln(w, rule)
	line(r.Columns)
	fmt.Fprintln(w, rule)
	for _, row := range cells {
		line(row)
	}
	fmt.Fprintln(w, rule)
	return nil
}

// writeJSON writes an array of objects, keys in column order.
func writeJSON(w io.Writer, r sqlengine.Result) error {
	var b strings.Builder
	b.WriteString("[")
	for i, row := range r.Rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  {")
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			k, _ := json.Marshal(r.Columns[j])
			val, err := json.Marshal(jsonValue(v))
			if err != nil {
				return err
			}
			b.Write(k)
			b.WriteString(": ")
			b.Write(val)
		}
		b.WriteString("}")
	}
	b.WriteString("\n]\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// text renders a value for table, CSV and line output; NULL is empty.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// jsonValue keeps JSON columns as JSON in JSON output.
func jsonValue(v any) any {
	if s, ok := v.(string); ok && len(s) > 1 && (s[0] == '{' || s[0] == '[') && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}
