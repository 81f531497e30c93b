# steampipe-plugin-entra
GO      ?= go
PLUGIN  := $(HOME)/.steampipe/plugins/local/entra/entra.plugin
PKGS    := ./...

.PHONY: build install test bench vet entra clean

build:
	$(GO) build -o entra.plugin .

install: build
	mkdir -p $(dir $(PLUGIN))
	cp entra.plugin $(PLUGIN)

test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 20m $(PKGS)

# Per-row costs (decoding, row building), then whole queries against an
# emulator in its own process: rows, requests, 429s, rows/s, share of the
# throttle ceiling, peak heap.
bench:
	$(GO) test -run '^$$' -bench 'Decode|BuildRows' -benchmem ./entra/
	$(GO) test -run '^$$' -bench 'Selective|FullScan|Limit10|Repeat' -benchtime 1x -timeout 30m ./entra/

vet:
	$(GO) vet $(PKGS)

entra:
	$(GO) build -o bin/entra ./cmd/entra

clean:
	rm -rf entra.plugin bin
