# gomesos build and test entry points. `make test` is the README's test
# command and what CI runs.
GO ?= go

.PHONY: test deps vet unit fuzz bench proto

test: deps vet unit fuzz

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
	./master:FuzzDecodeCall ./master:FuzzParseRateLimits \
	./recordio:FuzzReader \
	./auth/acls:FuzzParse

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
