# mosc — see README.md. `make test` is the one command that sets up a fresh
# machine (apt packages, kustomize, a cached kube-apiserver build) and runs
# every test; .ci/run calls exactly it.
GO      ?= go
BIN     ?= bin/mosc
PKGS    := ./cmd/... ./internal/... ./profiles/... ./layers/... ./templates/...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# go-containerregistry's transport package calls debug.ReadBuildInfo at init
# to name its own version in the User-Agent (0.4 ms every command paid,
# parsing the build info of ~150 modules); handing it the same version here
# skips that and sends the identical User-Agent (pkg/v1/remote/transport/useragent.go).
GGCR_VERSION := $(shell $(GO) list -m -f '{{.Version}}' github.com/google/go-containerregistry 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X github.com/google/go-containerregistry/pkg/v1/remote/transport.Version=$(GGCR_VERSION)
# urfave_cli_no_docs leaves out urfave/cli's man-page/Markdown generator
# (mosc never calls it) and with it blackfriday, whose init every command
# paid (0.6 ms of start-up; docs/performance.md).
TAGS    ?= urfave_cli_no_docs

.PHONY: build test unit race e2e e2e-build bench bench-render lint deps demo-cluster golden-update fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mosc

# Everything: set-up, lint, unit tests, race detector, end-to-end tests.
test: deps lint unit race e2e

deps:
	./hack/install-deps.sh

unit:
	$(GO) test -count=1 $(PKGS)

# The watcher, checker and simulator are concurrent; their tests run under -race.
race:
	$(GO) test -race -count=1 ./internal/... ./e2e/sim/ ./e2e/kubelet/ ./e2e/registry/

# Real builds (mosc build on the stand-in) take minutes each on vfs: 60m leaves room.
# They are half of the suite's time and mostly CPU, while the cluster tests
# mostly wait on the simulator: the two run side by side, each in its own
# go test process (and test cluster), and both must pass.
E2E_BUILDS := ^TestBuild(Walkthrough|Matrix|Negative|TimeoutLeavesNoContainer)$$
e2e: deps
	@$(GO) test -count=1 -timeout 60m -run '$(E2E_BUILDS)' ./e2e/ & builds=$$!; \
	$(GO) test -count=1 -timeout 60m -skip '$(E2E_BUILDS)' ./e2e/...; cluster=$$?; \
	wait $$builds; b=$$?; \
	echo "e2e: cluster tests exit $$cluster, real image builds exit $$b"; \
	[ $$cluster -eq 0 ] && [ $$b -eq 0 ]

# Real image builds (mosc build) of every supported x86_64 catalog
# combination and the negative cases, on the e2e stand-in; `make e2e` builds
# the walkthrough and a subset (one per API shape, each stack, both variants).
e2e-build: deps
	MOSC_E2E_BUILD=all $(GO) test -count=1 -timeout 12h -run '^TestBuild(Matrix|Negative|Walkthrough)$$' -v ./e2e/

# The 1000-node e2e benchmarks take 7-11 minutes each.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m $(PKGS) ./e2e/...

# Issue 15: mosc render side by side with kustomize, butane (v0.25.1, built
# from the module proxy) and helm if installed; writes docs/performance.md.
bench-render: deps
	./bench/render-bench.sh $(RUNS)

lint:
	@out=$$(gofmt -l cmd internal profiles layers templates e2e bench 2>/dev/null); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

golden-update:
	$(GO) test ./internal/render/... ./internal/watch/... ./internal/build/... ./internal/fleet/... ./internal/profile/... ./cmd/... -update
	$(GO) test ./e2e -run 'TestGate$$' -update-gate-golden

# Each parser of outside input has a fuzz target; `make fuzz FUZZTIME=5m` digs deeper.
# Minimising a failing input is capped: with the large seeds (whole catalogs,
# rendered bundles) the default 60 s of minimisation outlasted the fuzzing.
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 10s
FUZZ_TARGETS := \
	internal/profile:FuzzDecodeProfile internal/profile:FuzzDecodeSite internal/profile:FuzzDecodeFleet internal/profile:FuzzRules \
	internal/bundle:FuzzReadManifests internal/bundle:FuzzMarshalYAML internal/bundle:FuzzEmitYAML internal/bundle:FuzzStrictJSON internal/bundle:FuzzYAMLToJSON internal/bundle:FuzzYAMLFast internal/render:FuzzMatchers \
	internal/render:FuzzBuildInputsJSON internal/render:FuzzToJSON \
	internal/node:FuzzDecodeOVSTable internal/node:FuzzParseMessage \
	internal/node:FuzzParseDpctl internal/node:FuzzParseDevlinkEswitch internal/verify:FuzzParseIperf \
	internal/repo:FuzzParseRepomd internal/repo:FuzzScanPrimary internal/repo:FuzzVercmp internal/repo:FuzzRPMHeader \
	internal/release:FuzzParseImageReferences internal/release:FuzzParseMetaJSON internal/release:FuzzParseExtensionsJSON internal/diff:FuzzMyers internal/diff:FuzzFields \
	internal/build:FuzzParseFacts internal/build:FuzzParseFailure \
	internal/watch:FuzzClassify internal/resolve:FuzzParse internal/mirrors:FuzzParse
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$fn ($$pkg)"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) ./$$pkg; \
	done

demo-cluster: deps
	$(GO) run ./e2e/cmd/demo-cluster

clean:
	rm -rf bin
