// A module of its own, so that the license scanner it tests with is no
// dependency of triad's: `make test` runs it.
module github.com/triadml/triad/internal/licensetest

go 1.26.0

require github.com/google/licensecheck v0.3.1
