//go:build tools

// Package tools pins the versions of the programs that run the notebooks.
package tools

import (
	_ "github.com/janpfeifer/gonb"
	_ "golang.org/x/tools/cmd/goimports"
)
