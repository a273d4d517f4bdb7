# triad: the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)),)
export TRIAD_DATA ?= $(SHARED_DATA)
endif
# Go tests are timed out well below CI's limit so that a hang fails loudly.
TEST_TIMEOUT ?= 9m
# OpenBLAS (Debian's libopenblas-dev) makes the matrix products 2-4x faster than
# gonum's pure-Go BLAS; it is used when the linker finds it. TAGS= forces pure Go.
TAGS ?= $(shell echo 'int main(void){return 0;}' | $(CC) -x c - -lopenblas -o /dev/null 2>/dev/null && echo openblas)
GOFLAGS_TAGS := $(if $(strip $(TAGS)),-tags $(TAGS),)
# The source revision recorded in every run's config.json, also where Go's VCS
# stamping is off (a build outside the checkout, -buildvcs=false).
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)$(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo +dirty)
LDFLAGS := $(if $(COMMIT),-ldflags "-X github.com/triadml/triad/train.Commit=$(COMMIT)",)

.PHONY: all build print-tags test test-purego test-mpi bench lint demo fuzz notebooks notebooks-sync

all: build

build:
	$(GO) build $(GOFLAGS_TAGS) $(LDFLAGS) -o bin/triad ./cmd/triad

test: lint
	$(GO) test $(GOFLAGS_TAGS) -timeout $(TEST_TIMEOUT) ./...
	cd internal/licensetest && $(GO) test ./...

# The BLAS-dependent packages again with gonum's pure-Go BLAS, for machines
# without OpenBLAS.
test-purego:
	$(GO) test -timeout $(TEST_TIMEOUT) ./graph/... ./models/...

# Data-parallel training over MPI under mpirun (needs openmpi-bin and
# libopenmpi-dev, which `make test` does not): see scripts/test_mpi.sh.
test-mpi:
	TAGS="$(TAGS)" GO="$(GO)" ./scripts/test_mpi.sh

bench:
	$(GO) test $(GOFLAGS_TAGS) -run='^$$' -bench=. -benchmem ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(GOFLAGS_TAGS) ./...
	$(GO) run ./internal/doccheck .

demo:
	$(GO) run $(GOFLAGS_TAGS) $(LDFLAGS) ./cmd/triad demo

# Every notebook of notebooks/ executed headless on the GoNB Jupyter kernel, in
# short mode (TRIAD_NOTEBOOK_SHORT=0 for full runs), after installing what is
# missing; fails on a cell with an error or a notebook without an image. The
# executed notebooks go to out/notebooks/. See notebooks/run.sh.
notebooks:
	GO="$(GO)" ./notebooks/run.sh

# Rewrites notebooks/*.ipynb from the scripts of examples/ (their one source).
notebooks-sync:
	$(GO) run ./examples/internal/ipynb

# Each parser's fuzz target for FUZZTIME (default 60s).
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The build tags make test uses (empty: pure Go).
print-tags:
	@echo $(TAGS)
