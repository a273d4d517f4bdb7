package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNotebooksMatchScripts fails when a committed notebook differs from what
// its script makes: run `go run ./examples/internal/ipynb` after editing a
// script.
func TestNotebooksMatchScripts(t *testing.T) {
	stale, err := syncAll("../../..", false)
	require.NoError(t, err)
	require.Empty(t, stale, "run go run ./examples/internal/ipynb")
	names, err := scripts("../../..")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(names), 7)
}

const script = `// Command demo shows a *cell* split.
package main

import "fmt"

func main() {
	fmt.Println(twice(2))
	if true {
		fmt.Println("nested")
	}
}

// twice doubles.
func twice(x int) int { return 2 * x }

//notebook:md ## Second part
//notebook:md Prose.

func half(x int) int { return x / 2 }
`

func TestGenerateCells(t *testing.T) {
	b, err := Generate("09-demo", []byte(script))
	require.NoError(t, err)
	var nb struct {
		Cells []struct {
			CellType string   `json:"cell_type"`
			Source   []string `json:"source"`
		} `json:"cells"`
		NBFormat int `json:"nbformat"`
	}
	require.NoError(t, json.Unmarshal(b, &nb))
	require.Equal(t, 4, nb.NBFormat)
	var kinds, srcs []string
	for _, c := range nb.Cells {
		kinds = append(kinds, c.CellType)
		srcs = append(srcs, strings.Join(c.Source, ""))
	}
	require.Equal(t, []string{"markdown", "code", "code", "markdown", "code", "markdown", "code"}, kinds)
	require.Equal(t, 4, strings.Count(string(b), `"execution_count": null`), "each code cell has an execution_count")
	require.Contains(t, srcs[0], "# 09-demo\n\nCommand demo shows a \\*cell\\* split.\n")
	require.Contains(t, srcs[1], "go mod edit -replace=github.com/triadml/triad=")
	require.Equal(t, setupImports+"\n\nimport \"fmt\"\n\n// twice doubles.\nfunc twice(x int) int { return 2 * x }\n\n"+setupInit, srcs[2])
	require.NotContains(t, srcs[2], "func main", "main runs in the last cell")
	require.Equal(t, "## Second part\nProse.", srcs[3])
	require.Equal(t, "func half(x int) int { return x / 2 }", srcs[4])
	require.Equal(t, "%%\nfmt.Println(twice(2))\nif true {\n\tfmt.Println(\"nested\")\n}", srcs[6])

	_, err = Generate("x", []byte("package main\n\nfunc main() {}\n"))
	require.ErrorContains(t, err, "package comment")
	_, err = Generate("x", []byte("// Command x.\npackage main\n\nfunc f() {}\n"))
	require.ErrorContains(t, err, "no main")
}
