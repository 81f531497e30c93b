package entra

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/localplugin"
)

// The scan benchmarks run Graph's throttle five times faster than the real
// one, on both sides: 5 requests per 2 s instead of per 10 s, and pages of
// 400 ms ± 120 ms instead of 2 s. Rates are reported against that ceiling.
const (
	benchRequests = 5
	benchWindow   = 2 * time.Second
	benchCeiling  = float64(benchRequests*pageSize) / 2 // rows per second of the scaled window
)

// benchTenant serves an emulated tenant from its own process, so the heap
// and CPU measured are the plugin's alone, and connects the plugin to it.
func benchTenant(b *testing.B, rows int, opts localplugin.Options) *localplugin.Plugin {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "graphfaked")
	if out, err := exec.Command("go", "build", "-o", bin, "../internal/graphfake/graphfaked").CombinedOutput(); err != nil {
		b.Fatalf("building the emulator: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-rows", strconv.Itoa(rows), "-now", testNow.Format(time.RFC3339), "-retention", "696h",
		"-throttle-requests", strconv.Itoa(benchRequests), "-throttle-window", benchWindow.String(), "-latency", "400ms", "-jitter", "120ms")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var info struct {
		URL          string `json:"url"`
		TenantID     string `json:"tenant_id"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &info)
	}
	if err != nil {
		b.Fatalf("reading the emulator's address: %v", err)
	}
	hcl := fmt.Sprintf("tenant_id = %q\nclient_id = %q\nclient_secret = %q\nauthority_host = %q\ngraph_endpoint = %q\nrequests_per_window = %d\nrequest_window = %g\n",
		info.TenantID, info.ClientID, info.ClientSecret, info.URL, info.URL, benchRequests, benchWindow.Seconds())
	p, err := localplugin.Start(Plugin, "entra", opts, localplugin.Connection{Name: "entra", Config: hcl})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// scanResult is what one benchmarked query did.
type scanResult struct {
	rows, requests, throttled int
	wall                      time.Duration
	peakHeap, retained        uint64
}

func (r scanResult) report(b *testing.B) {
	b.ReportMetric(float64(r.rows), "rows")
	b.ReportMetric(float64(r.requests), "requests")
	b.ReportMetric(float64(r.throttled), "429s")
	b.ReportMetric(r.wall.Seconds(), "wall-s")
	if r.wall > 0 {
		b.ReportMetric(float64(r.rows)/r.wall.Seconds(), "rows/s")
		b.ReportMetric(100*float64(r.rows)/r.wall.Seconds()/benchCeiling, "%ceiling")
	}
	if r.peakHeap > 0 {
		b.ReportMetric(float64(r.peakHeap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(r.retained)/(1<<20), "retained-MB")
	}
	b.ReportMetric(0, "ns/op")
}

// measure runs a query, sampling the heap while it runs. Requests and 429s
// are the plugin's own counts.
func measure(b *testing.B, p *localplugin.Plugin, q localplugin.Query) scanResult {
	b.Helper()
	before, heapBefore := RequestStats(), liveHeap()
	// Peak heap is the most the heap held during the scan beyond what was
	// live before it, garbage not yet collected included; retained is what
	// is still live after the scan, beyond what was live before it.
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	n := 0
	q.Connection = "entra"
	if err := p.Execute(context.Background(), q, func(localplugin.Row) bool { n++; return true }); err != nil {
		b.Fatal(err)
	}
	wall := time.Since(start)
	close(stop)
	wg.Wait()
	after := RequestStats()
	return scanResult{rows: n, requests: int(after.Requests - before.Requests), throttled: int(after.Throttled - before.Throttled), wall: wall, peakHeap: max(peak, heapBefore) - heapBefore, retained: max(liveHeap(), heapBefore) - heapBefore}
}

func liveHeap() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

var benchColumns = []string{"id", "created_date_time", "user_principal_name", "app_display_name", "ip_address", "status_error_code", "location_country_or_region", "sign_in_event_type"}

// BenchmarkSelectiveQuery: one user's sign-ins over one day, in a 30-day log of 100,000 rows.
func BenchmarkSelectiveQuery(b *testing.B) {
	p := benchTenant(b, 100_000, localplugin.Options{CacheMB: 1})
	day := testNow.Add(-24 * time.Hour)
	r := measure(b, p, localplugin.Query{Table: "entra_sign_in", Columns: benchColumns, Quals: []localplugin.Qual{
		{Column: "user_principal_name", Operator: "=", Value: "adele.vance@contoso.example"},
		{Column: "created_date_time", Operator: ">=", Value: day}}})
	want := max(1, (r.rows+pageSize-1)/pageSize)
	if r.requests != want {
		b.Errorf("%d matching rows took %d requests, want %d", r.rows, r.requests, want)
	}
	r.peakHeap = 0
	r.report(b)
}

// BenchmarkFullScan: the whole 30-day log, at the throttle ceiling.
func BenchmarkFullScan(b *testing.B) {
	for _, rows := range []int{50_000, 100_000} {
		b.Run(strconv.Itoa(rows)+"-rows", func(b *testing.B) {
			p := benchTenant(b, rows, localplugin.Options{CacheMB: 1}) // a token query cache: the heap is the scan's
			r := measure(b, p, localplugin.Query{Table: "entra_sign_in", Columns: benchColumns})
			if r.rows != rows {
				b.Errorf("scanned %d rows of %d", r.rows, rows)
			}
			r.report(b)
		})
	}
}

// BenchmarkLimit10: limit 10 is one request of $top=10.
func BenchmarkLimit10(b *testing.B) {
	p := benchTenant(b, 100_000, localplugin.Options{CacheMB: 1})
	r := measure(b, p, localplugin.Query{Table: "entra_sign_in", Columns: benchColumns, Limit: 10})
	if r.rows != 10 || r.requests != 1 {
		b.Errorf("limit 10: %d rows in %d requests", r.rows, r.requests)
	}
	r.peakHeap = 0
	r.report(b)
}

// BenchmarkRepeatWithinCacheTTL: the second identical query makes no request.
func BenchmarkRepeatWithinCacheTTL(b *testing.B) {
	p := benchTenant(b, 100_000, localplugin.Options{})
	q := localplugin.Query{Table: "entra_sign_in", Columns: benchColumns, CacheTTL: 5 * time.Minute, Quals: []localplugin.Qual{
		{Column: "created_date_time", Operator: ">=", Value: testNow.Add(-12 * time.Hour)}}}
	first := measure(b, p, q)
	r := measure(b, p, q)
	if r.requests != 0 || r.rows != first.rows {
		b.Errorf("repeat: %d rows in %d requests; first run %d rows", r.rows, r.requests, first.rows)
	}
	r.peakHeap = 0
	r.report(b)
}
