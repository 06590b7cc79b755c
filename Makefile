# OMTX-Hub. `make dev` starts the whole system locally; `make test` runs the tests.
SHELL := /bin/bash
GO    ?= go
TOOLS := $(CURDIR)/.tools
export ONNXRUNTIME_LIB ?= $(TOOLS)/lib/libonnxruntime.so
export GOFLAGS ?= -buildvcs=false

WORKFLOWCHECK_VERSION := v0.6.0
STATICCHECK_VERSION   := v0.8.2

.PHONY: all dev tools build test test-unit lint fuzz bench model gpu-check up down histories boltz-lock clean

all: build

## tools: install the pinned local-stack tools into .tools/ (idempotent)
tools:
	@scripts/install-tools.sh

## dev: start Temporal (UI :8233), the Firestore emulator, fake-gcs-server, the API (:8080) and both workers
## (omtx-dev runs in make's place, so when make dies, it and every service die too)
dev: tools
	$(GO) build -o bin/omtx-dev ./cmd/omtx-dev
	exec bin/omtx-dev

## build: build every binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/omtx-api ./cmd/omtx-worker
	$(GO) build -o bin/ ./cmd/omtx-gpu-worker ./cmd/omtx-dev

## test: unit tests, workflow tests and integration tests against the real local services
test: tools
	OMTX_REQUIRE_ORT=1 OMTX_INTEGRATION=1 $(GO) test -p 2 -timeout 45m -count=1 ./...

## test-unit: the tests that need no local services
test-unit:
	$(GO) test -count=1 ./...

## lint: gofmt, go mod tidy, go vet, staticcheck, workflowcheck and Redocly on the OpenAPI contract
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(GO) run go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION) ./workflows/...
	scripts/install-redocly.sh
	$(TOOLS)/bin/redocly lint --extends=recommended api/openapi.yaml

FUZZTIME ?= 10s

## fuzz: run every fuzz target for FUZZTIME each, one after another (go test -fuzz takes one target per run)
fuzz:
	@set -e; for f in $$(git grep -l '^func Fuzz' -- '*_test.go'); do \
	  for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "fuzz: $$name in ./$$(dirname $$f) for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s -parallel 2 ./$$(dirname $$f)/; \
	  done; \
	done

## bench: run the benchmarks and print their figures
bench: tools
	OMTX_INTEGRATION=1 $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

## boltz-lock: fill deploy/gpu/boltz/requirements.lock's hashes (needs PyPI; see deploy/gpu/boltz/README.md)
boltz-lock:
	deploy/gpu/boltz/lock.sh

## model: regenerate the shipped baseline model bundle (reproducible)
model:
	$(GO) run ./cmd/genbaseline -out models/descriptor-baseline-v1

## gpu-check: on a CUDA machine, CPU vs GPU latency of the shipped model per batch size
gpu-check: tools
	$(GO) run ./cmd/gpucheck -require-cuda

## up / down: the docker compose stack (needs a Docker engine)
up:
	docker compose -f docker-compose.temporal.yml up -d --build
down:
	docker compose -f docker-compose.temporal.yml down

clean:
	rm -rf bin

# HISTORY_TESTS are the integration tests that capture a history: the happy
# paths, a batch mid-run, a refused job, failed predictions (model, MSA),
# a batch that cannot run, a failed chunk, a cancelled batch, an OOM
# reroute, an MSA computation, and webhooks delivered and failed.
HISTORY_TESTS = TestSeedPredictionEndToEnd|TestSeedBatchEndToEnd|TestBatchContinuesAsNewMidRun|TestWebhooks|TestSIGTERMMidChunkLosesNothing|TestEndsOtherThanCompleted|TestBatchSkipInvalidAndCancel|TestOutOfMemoryReroutesToLargerGPU|TestMSAComputedOncePerProtein

## histories: capture the current workflow shapes from real runs into workflows/testdata/histories/$(RELEASE); released shapes are never deleted
histories: tools
	@test -n "$(RELEASE)" || { echo "usage: make histories RELEASE=vN (a new folder; earlier releases stay)"; exit 2; }
	rm -rf workflows/testdata/histories/$(RELEASE)
	OMTX_INTEGRATION=1 OMTX_REQUIRE_ORT=1 OMTX_CAPTURE_HISTORIES=workflows/testdata/histories/$(RELEASE) $(GO) test -count=1 -timeout 20m \
		-run '$(HISTORY_TESTS)' ./integration/
