// Command graphfaked serves the Graph emulator in its own process, so that
// benchmarks measure the plugin's CPU and memory apart from the emulator's.
// It prints one JSON line with what a client needs, then serves until killed.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"os/signal"
	"time"

	"github.com/turbot/steampipe-plugin-entra/internal/graphfake"
)

func main() {
	rows := flag.Int("rows", 100_000, "sign-ins in the 30-day log")
	seed := flag.Int64("seed", 11, "data seed")
	requests := flag.Int("throttle-requests", 5, "requests per throttle window (0: no throttle)")
	window := flag.Duration("throttle-window", 10*time.Second, "throttle window")
	latency := flag.Duration("latency", 2*time.Second, "page latency")
	jitter := flag.Duration("jitter", 600*time.Millisecond, "page latency jitter (±)")
	now := flag.String("now", "", "the newest sign-in's time, RFC 3339 (default: now)")
	retention := flag.Duration("retention", 30*24*time.Hour, "how far back the log goes")
	flag.Parse()

	cfg := graphfake.Config{
		Log:         graphfake.Log{Seed: *seed, Rows: *rows, Retention: *retention},
		Clients:     map[string]graphfake.Client{"0000aaaa-0000-4000-8000-0000000000fa": {Secret: "graphfaked-secret"}},
		Throttle:    graphfake.Throttle{Requests: *requests, Window: *window},
		PageLatency: *latency, LatencyJitter: *jitter,
	}
	if *now != "" {
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			panic(err)
		}
		cfg.Log.Now = t
	}
	s := graphfake.New(cfg)
	defer s.Close()
	_ = json.NewEncoder(os.Stdout).Encode(map[string]string{
		"url": s.URL, "tenant_id": s.TenantID(), "client_id": "0000aaaa-0000-4000-8000-0000000000fa",
		"client_secret": "graphfaked-secret", "certificate_pem": string(s.CertificatePEM()),
	})
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
}
