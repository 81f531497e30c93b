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

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 30m ./entra/ ./internal/...

vet:
	$(GO) vet $(PKGS)

entra:
	$(GO) build -o bin/entra ./cmd/entra

clean:
	rm -rf entra.plugin bin
