package datasets

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/pkg/errors"
)

// EnvData names the environment variable holding the directories searched for
// datasets, as a path list (separated by os.PathListSeparator).
const EnvData = "TRIAD_DATA"

// EnvOffline names the environment variable that, when set to anything but ""
// or "0", forbids downloads.
const EnvOffline = "TRIAD_OFFLINE"

// Finder locates datasets on disk and downloads the missing ones.
type Finder struct {
	// Dirs are searched in order; dataset NAME is looked for in DIR/NAME.
	Dirs []string
	// CacheDir is searched after Dirs and receives downloads; "" disables both.
	CacheDir string
	// Offline forbids downloads.
	Offline bool
	// Client performs downloads; nil means a client with connection timeouts.
	Client *http.Client
	// Progress receives download progress; nil discards it.
	Progress io.Writer
	// ProgressBar draws a progress bar on Progress instead of one line per file.
	ProgressBar bool
}

// DefaultCacheDir returns os.UserCacheDir()/triad/datasets.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", errors.Wrap(err, "no user cache directory")
	}
	return filepath.Join(dir, "triad", "datasets"), nil
}

// EnvDirs returns the directories listed in $TRIAD_DATA, empty entries dropped.
func EnvDirs() []string {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv(EnvData)) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// NewFinder returns the Finder that Find uses: the directories of $TRIAD_DATA,
// then the user cache directory; downloads unless $TRIAD_OFFLINE is set; a
// progress bar on standard error when it is a terminal, one line per file
// otherwise.
func NewFinder() *Finder {
	cache, _ := DefaultCacheDir() // "" when there is none: no cache, no download
	off := os.Getenv(EnvOffline)
	return &Finder{
		Dirs:        EnvDirs(),
		CacheDir:    cache,
		Offline:     off != "" && off != "0",
		Progress:    os.Stderr,
		ProgressBar: isTerminal(os.Stderr),
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Find returns the directory holding the verified files of the registered dataset
// name, downloading it into the cache when no copy is found and the network
// allows. It uses NewFinder.
func Find(name string) (dir string, err error) {
	return NewFinder().Find(context.Background(), name)
}

// Find returns the directory holding the verified files of the registered dataset
// name; see FindDataset.
func (f *Finder) Find(ctx context.Context, name string) (string, error) {
	d, ok := Lookup(name)
	if !ok {
		return "", errors.New("datasets: " + unknownDataset(name))
	}
	return f.FindDataset(ctx, d)
}

// FindDataset looks for d in DIR/d.Name for each directory of f.Dirs, then of
// f.CacheDir, and returns the first whose files all verify. When none does, it
// downloads the missing or corrupt files into f.CacheDir (unless f.Offline or d
// cannot be downloaded) and returns that directory. Otherwise the error, one
// line, lists the paths where the files belong.
func (f *Finder) FindDataset(ctx context.Context, d Dataset) (string, error) {
	var problems []string
	roots := append([]string(nil), f.Dirs...)
	if f.CacheDir != "" {
		roots = append(roots, f.CacheDir)
	}
	for _, root := range roots {
		dir := filepath.Join(root, d.Name)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		err := verifyCached(dir, d)
		if err == nil {
			return dir, nil
		}
		problems = append(problems, err.Error())
	}

	var reason string
	switch {
	case f.CacheDir == "":
		reason = "no cache directory to download into"
	case !d.Downloadable():
		reason = "it cannot be downloaded automatically"
	case f.Offline:
		reason = "downloads are off ($" + EnvOffline + ")"
	default:
		dir := filepath.Join(f.CacheDir, d.Name)
		err := f.download(ctx, dir, d)
		if err == nil {
			forget(dir, d)
			if err = verifyCached(dir, d); err == nil {
				return dir, nil
			}
		}
		reason = "download failed: " + oneLine(err.Error())
	}
	return "", errors.New(notFound(d, f.CacheDir, reason, problems))
}

// notFound builds the one-line error that says where d's files belong.
func notFound(d Dataset, cache, reason string, problems []string) string {
	root := cache
	if root == "" {
		root = "DIR"
	}
	dir := filepath.Join(root, d.Name)
	var want []string
	for _, file := range d.Files {
		want = append(want, filepath.Join(dir, filepath.FromSlash(file.Path)))
	}
	for _, s := range d.Sets {
		want = append(want, fmt.Sprintf("%s%c (%d *%s files)", filepath.Join(dir, filepath.FromSlash(s.Dir)), filepath.Separator, s.Count, s.Ext))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "datasets: %s not found (%s): put %s", d.Name, reason, strings.Join(want, ", "))
	if cache == "" {
		fmt.Fprintf(&b, ", with DIR a directory listed in $%s", EnvData)
	} else {
		fmt.Fprintf(&b, " (or the same names under a directory listed in $%s)", EnvData)
	}
	if d.Source != "" {
		fmt.Fprintf(&b, "; source: %s", d.Source)
	}
	if len(problems) > 0 {
		fmt.Fprintf(&b, "; copies rejected: %s", strings.Join(problems, "; "))
	}
	return oneLine(b.String())
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Verification results are remembered per process, keyed by directory and
// dataset, and reused while the files' sizes and modification times stay the same.
var verified = struct {
	sync.Mutex
	m map[string]verifyResult
}{m: map[string]verifyResult{}}

type verifyResult struct {
	stamp string
	err   error
}

func cacheKey(dir string, d Dataset) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir + "\x00" + d.Name
}

func forget(dir string, d Dataset) {
	verified.Lock()
	delete(verified.m, cacheKey(dir, d))
	verified.Unlock()
}

// verifyCached verifies d in dir, reusing an earlier result when nothing changed.
func verifyCached(dir string, d Dataset) error {
	key := cacheKey(dir, d)
	stamp := stampOf(dir, d)
	verified.Lock()
	r, ok := verified.m[key]
	verified.Unlock()
	if ok && r.stamp == stamp {
		return r.err
	}
	err := Verify(dir, d)
	verified.Lock()
	verified.m[key] = verifyResult{stamp: stamp, err: err}
	verified.Unlock()
	return err
}

// stampOf summarises the sizes and modification times of d's files in dir.
func stampOf(dir string, d Dataset) string {
	var b strings.Builder
	stat := func(p string) {
		st, err := os.Stat(p)
		if err != nil {
			b.WriteString("-;")
			return
		}
		b.WriteString(strconv.FormatInt(st.Size(), 10))
		b.WriteByte(',')
		b.WriteString(strconv.FormatInt(st.ModTime().UnixNano(), 10))
		b.WriteByte(';')
	}
	for _, file := range d.Files {
		stat(filepath.Join(dir, filepath.FromSlash(file.Path)))
	}
	for _, s := range d.Sets {
		stat(filepath.Join(dir, filepath.FromSlash(s.Dir)))
	}
	return b.String()
}

// Verify checks every file of d inside dir: size and SHA-256 of each file's
// content (decompressed for ".gz" files) and the number of files of each set. The
// error names the first file that is missing or wrong.
func Verify(dir string, d Dataset) error {
	for _, file := range d.Files {
		p := filepath.Join(dir, filepath.FromSlash(file.Path))
		if err := verifyFile(p, file); err != nil {
			return err
		}
	}
	for _, s := range d.Sets {
		if err := verifySet(dir, s); err != nil {
			return err
		}
	}
	return nil
}

func verifyFile(path string, file File) error {
	r, err := openData(path)
	if err != nil {
		return err
	}
	defer r.Close()
	sum, n, err := hashReader(r)
	if err != nil {
		return err // openData's reader names the file
	}
	return checkSum(path, file, sum, n)
}

func checkSum(path string, file File, sum string, n int64) error {
	what := "content"
	if strings.HasSuffix(file.Path, ".gz") {
		what = "decompressed content"
	}
	if file.Size > 0 && n != file.Size {
		return errors.Errorf("%s: %s is %d bytes, want %d", path, what, n, file.Size)
	}
	if sum != file.SHA256 {
		return errors.Errorf("%s: sha256 of %s is %s, want %s", path, what, sum, file.SHA256)
	}
	return nil
}

func verifySet(dir string, s FileSet) error {
	p := filepath.Join(dir, filepath.FromSlash(s.Dir))
	entries, err := os.ReadDir(p)
	if err != nil {
		return err // *PathError names the directory
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), s.Ext) {
			n++
		}
	}
	if n != s.Count {
		return errors.Errorf("%s: holds %d *%s files, want %d", p, n, s.Ext, s.Count)
	}
	return nil
}
