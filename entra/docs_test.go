package entra

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTableDocs checks every table's page: it exists, lists every
// pushed-down column under Important Notes, and has at least five
// examples, each of which puts a pushed-down column in its WHERE clause.
func TestTableDocs(t *testing.T) {
	p := Plugin(t.Context())
	sqlBlock := regexp.MustCompile("(?s)```sql\n(.*?)```")
	for name, table := range p.TableMap {
		raw, err := os.ReadFile(filepath.Join("..", "docs", "tables", name+".md"))
		if err != nil {
			t.Errorf("%s has no page: %v", name, err)
			continue
		}
		doc := string(raw)
		notes, _, _ := strings.Cut(doc[strings.Index(doc, "## Important Notes"):], "## Examples")
		var keys []string
		for _, kc := range table.List.KeyColumns {
			keys = append(keys, kc.Name)
			if !strings.Contains(notes, "`"+kc.Name+"`") {
				t.Errorf("%s: Important Notes does not list the pushed-down column %s", name, kc.Name)
			}
		}
		examples := sqlBlock.FindAllStringSubmatch(doc, -1)
		if len(examples) < 5 {
			t.Errorf("%s: %d examples, want at least 5", name, len(examples))
		}
		for _, ex := range examples {
			sql := ex[1]
			if !strings.Contains(sql, "from\n  "+name) && !strings.Contains(sql, " "+name+" as ") {
				t.Errorf("%s: an example does not query the table:\n%s", name, sql)
			}
			_, where, ok := strings.Cut(sql, "where")
			pushed := false
			for _, k := range keys {
				pushed = pushed || (ok && strings.Contains(where, k+" "))
			}
			if !pushed {
				t.Errorf("%s: an example puts no pushed-down column in WHERE:\n%s", name, sql)
			}
		}
	}
}
