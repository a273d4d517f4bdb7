# triad: the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)),)
export TRIAD_DATA ?= $(SHARED_DATA)
endif
# Go tests are timed out well below CI's limit so that a hang fails loudly.
TEST_TIMEOUT ?= 9m

.PHONY: all build test bench lint demo fuzz

all: build

build:
	$(GO) build ./...

test: lint
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

demo:
	$(GO) run ./cmd/triad demo

# Each parser's fuzz target for FUZZTIME (default 60s).
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
