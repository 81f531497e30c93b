package entra

import (
	"bytes"
	"context"
	"testing"
	"time"

	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"
)

// benchPage is one full Graph page of generated sign-ins.
func benchPage(b *testing.B) []byte {
	b.Helper()
	l := &graphfake.Log{Seed: 3, Rows: pageSize, Now: time.Now().UTC(), Retention: 30 * 24 * time.Hour, TenantID: "11111111-1111-4111-8111-111111111111"}
	return l.PageJSON(0, pageSize)
}

func perRow(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pageSize), "ns/row")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDecodePage measures the project's streaming decoder.
func BenchmarkDecodePage(b *testing.B) {
	page := benchPage(b)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if _, err := decodeSignInPage(bytes.NewReader(page), "t", func(*signIn) bool { n++; return true }); err != nil || n != pageSize {
			b.Fatalf("decoded %d rows: %v", n, err)
		}
	}
	perRow(b)
}

// BenchmarkDecodePageMsgraphModels measures msgraph-sdk-go's model parser on the same page.
func BenchmarkDecodePageMsgraphModels(b *testing.B) {
	page := benchPage(b)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		node, err := jsonserialization.NewJsonParseNode(page)
		if err != nil {
			b.Fatal(err)
		}
		v, err := node.GetObjectValue(models.CreateSignInCollectionResponseFromDiscriminatorValue)
		if err != nil || len(v.(models.SignInCollectionResponseable).GetValue()) != pageSize {
			b.Fatalf("parse: %v", err)
		}
	}
	perRow(b)
}

// BenchmarkBuildRows measures the SDK transforms and proto conversion of every column.
func BenchmarkBuildRows(b *testing.B) {
	var recs []*signIn
	if _, err := decodeSignInPage(bytes.NewReader(benchPage(b)), "t", func(r *signIn) bool { recs = append(recs, r); return true }); err != nil {
		b.Fatal(err)
	}
	cols := signInColumns()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, rec := range recs {
			td := &transform.TransformData{HydrateItem: rec}
			for _, c := range cols {
				td.ColumnName = c.Name
				v, err := c.Transform.Execute(ctx, td)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.ToColumnValue(v); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	perRow(b)
}
