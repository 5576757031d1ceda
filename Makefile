# gomesos build and test entry points. `make test` is the README's test
# command and what CI runs.
GO ?= go

.PHONY: test deps vet unit bench proto

test: deps vet unit

deps:
	./scripts/install-test-deps.sh

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -count=1 -timeout 30m ./...

bench:
	$(GO) run ./cmd/bench

proto:
	./mesos/generate.sh
