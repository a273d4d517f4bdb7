package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

func init() {
	register("version", "the module version, source revision, Go version and BLAS of this binary", func(args []string) error {
		if err := parseSub(flag.NewFlagSet("triad version", flag.ContinueOnError), args); err != nil {
			return err
		}
		version := "(unknown)"
		if bi, ok := debug.ReadBuildInfo(); ok {
			version = bi.Main.Version
		}
		fmt.Printf("triad %s\nrevision %s\n%s %s/%s\nBLAS %s\n", version, train.Revision(), runtime.Version(), runtime.GOOS, runtime.GOARCH, graph.BLAS)
		return nil
	})
}
