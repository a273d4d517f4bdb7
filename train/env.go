package train

import (
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/triadml/triad/graph"
)

// Env describes where a run ran, for config.json.
type Env struct {
	Commit    string `json:"git_commit"`
	GoVersion string `json:"go_version"`
	BLAS      string `json:"blas"`
	Threads   int    `json:"threads"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	Started   string `json:"started"`
	Command   string `json:"command"`
}

// CurrentEnv returns the environment of this process; threads is the configured
// thread count (0: all CPUs).
func CurrentEnv(threads int, args []string) Env {
	return Env{
		Commit:    Revision(),
		GoVersion: runtime.Version(),
		BLAS:      graph.BLAS,
		Threads:   threadsOf(threads),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		CPUs:      runtime.NumCPU(),
		Started:   time.Now().UTC().Format(time.RFC3339),
		Command:   strings.Join(args, " "),
	}
}

func threadsOf(n int) int {
	if n <= 0 {
		return runtime.NumCPU()
	}
	return n
}

func threads(n int) int { return threadsOf(n) }

// SetThreads limits the process to n threads (0: all CPUs): Go code through
// GOMAXPROCS and, in an OpenBLAS build, OpenBLAS's own threads.
func SetThreads(n int) {
	runtime.GOMAXPROCS(threadsOf(n))
	graph.SetBLASThreads(threadsOf(n))
}

// Commit is the source revision the binary was built from, set at link time
// (the Makefile passes -ldflags "-X github.com/triadml/triad/train.Commit=...")
// for builds without Go's VCS stamping; empty otherwise.
var Commit string

// Revision returns the source revision of this binary: Commit when it was set
// at link time, else Go's VCS stamp (with "+dirty" for modified sources), else
// what git says of the working directory, else "unknown".
func Revision() string {
	if Commit != "" {
		return Commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "+dirty"
			}
			return rev
		}
	}
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		commit += "+dirty"
	}
	return commit
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
