# gomesos build and test entry points. `make test` is the README's test
# command and what CI runs.
GO ?= go

.PHONY: test deps vet unit fuzz sim bench proto

test: deps vet unit fuzz sim

deps:
	./scripts/install-test-deps.sh

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -count=1 -timeout 30m ./...

# A short run of every fuzz target (package:Target) from its committed
# corpus on (about 100 s in all on 2 cores); FUZZTIME=1m for a longer look.
FUZZTIME ?= 3s
FUZZ_TARGETS = \
	./process/wire:FuzzDecoder \
	./process/upid:FuzzParse \
	./process/metrics:FuzzParseDuration \
	./flags:FuzzParse ./flags:FuzzParseDuration ./flags:FuzzParseBytes \
	./resources:FuzzParse \
	./slave/state:FuzzDecodeMessages \
	./slave:FuzzFilesQuery \
	./master:FuzzDecodeCall ./master:FuzzParseRateLimits ./master:FuzzOperationEndpoints ./master:FuzzMaintenanceAndQuotaBodies \
	./internal/operatorapi:FuzzDecodeOperatorCall \
	./mesos/jsonv1:FuzzRoundTrip \
	./recordio:FuzzReader \
	./auth/acls:FuzzParse \
	./containerizer/external:FuzzReadRecord

# The simulator without the race detector (its runs are single-threaded;
# `unit` covers them with -race on a few seeds): SIM_SEEDS generated
# schedules (each run twice, traces compared), the gopter property, the
# regression schedules, and the mutation check (a master built with a
# known bug must be caught and shrunk to at most 10 faults). GOGC=400 as
# cmd/sim sets it: a simulation allocates much and keeps little.
SIM_SEEDS ?= 1000
sim:
	GOGC=400 $(GO) test -count=1 -timeout 30m -run 'TestSim|TestReplayRegressions' ./sim -args -sim.seeds=$(SIM_SEEDS)
	GOGC=400 $(GO) test -count=1 -timeout 30m -tags simmutation -run 'TestMutationIsCaught|TestTraceViewerMarksViolation' ./sim

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

bench:
	$(GO) run ./cmd/bench

proto:
	./mesos/generate.sh
