# mosc — see README.md. `make test` is the one command that sets up a fresh
# machine (apt packages, kustomize, a cached kube-apiserver build) and runs
# every test; .ci/run calls exactly it.
GO      ?= go
BIN     ?= bin/mosc
PKGS    := ./cmd/... ./internal/... ./profiles/... ./layers/... ./templates/...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build test unit e2e bench lint deps demo-cluster golden-update fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mosc

# Everything: set-up, lint, unit tests, end-to-end tests.
test: deps lint unit e2e

deps:
	./hack/install-deps.sh

unit:
	$(GO) test -count=1 $(PKGS)

e2e: deps
	$(GO) test -count=1 -timeout 30m ./e2e/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS) ./e2e/...

lint:
	@out=$$(gofmt -l cmd internal profiles layers templates e2e bench 2>/dev/null); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

golden-update:
	$(GO) test ./internal/render/... ./cmd/... -update

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeProfile -fuzztime 30s ./internal/profile
	$(GO) test -run '^$$' -fuzz FuzzDecodeSite -fuzztime 30s ./internal/profile

demo-cluster: deps
	$(GO) run ./e2e/cmd/demo-cluster

clean:
	rm -rf bin
