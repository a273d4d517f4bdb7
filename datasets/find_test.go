package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestRegistry(t *testing.T) {
	want := []string{"cmudict", "fsdd", "gigaword-sample", "gpt2-bpe", "mnist", "multi30k", "rt-polarity", "snips", "tinyshakespeare"}
	assert.Equal(t, want, Names())
	hexSum := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, name := range Names() {
		d, ok := Lookup(name)
		require.True(t, ok)
		assert.Equal(t, name, d.Name)
		assert.NotEmpty(t, d.Description, name)
		assert.NotEmpty(t, d.Source, name)
		assert.NotEmpty(t, d.License, name)
		require.NotEmpty(t, d.Files, name)
		seen := map[string]bool{}
		for _, f := range d.Files {
			assert.False(t, seen[f.Path], "%s: %s twice", name, f.Path)
			seen[f.Path] = true
			assert.Regexp(t, hexSum, f.SHA256, "%s/%s", name, f.Path)
			assert.Positive(t, f.Size, "%s/%s", name, f.Path)
			assert.Equal(t, path.Clean(f.Path), f.Path)
			assert.False(t, path.IsAbs(f.Path) || strings.HasPrefix(f.Path, ".."), f.Path)
			for _, u := range f.URLs {
				pu, err := url.Parse(u)
				require.NoError(t, err)
				assert.Equal(t, "https", pu.Scheme, u)
			}
			if f.Member != "" {
				assert.NotEmpty(t, f.URLs, "%s/%s: a member needs its archive", name, f.Path)
			}
			assert.False(t, f.Derived != "" && len(f.URLs) > 0, "%s/%s is derived and fetched", name, f.Path)
		}
		assert.Equal(t, name != "gigaword-sample", d.Downloadable(), name)
	}
	_, ok := Lookup("imagenet")
	assert.False(t, ok)
	_, err := (&Finder{}).Find(context.Background(), "imagenet")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "known: cmudict, fsdd,")

	// Lookup hands out copies.
	d, _ := Lookup("mnist")
	d.Files[0].SHA256 = "changed"
	d2, _ := Lookup("mnist")
	assert.NotEqual(t, "changed", d2.Files[0].SHA256)
}

// toyDataset is a two-file dataset, one of them gzipped, whose files are written
// under root/toy by write.
func toyDataset() (Dataset, map[string][]byte) {
	content := map[string][]byte{
		"a.txt":     []byte("alpha\n"),
		"sub/b.txt": []byte("beta beta\n"),
	}
	d := Dataset{Name: "toy", Source: "made up for the test", Files: []File{
		{Path: "a.txt", Size: 6, SHA256: sha(content["a.txt"])},
		{Path: "sub/b.txt.gz", Size: 10, SHA256: sha(content["sub/b.txt"])},
	}}
	return d, content
}

func writeToy(t *testing.T, root string, content map[string][]byte) {
	writeFile(t, filepath.Join(root, "toy", "a.txt"), content["a.txt"])
	writeFile(t, filepath.Join(root, "toy", "sub", "b.txt.gz"), gzipBytes(t, content["sub/b.txt"]))
}

func TestFindSearchesDirsInOrder(t *testing.T) {
	d, content := toyDataset()
	empty, full := t.TempDir(), t.TempDir()
	writeToy(t, full, content)
	f := &Finder{Dirs: []string{empty, filepath.Join(empty, "nope"), full}, Offline: true}
	dir, err := f.FindDataset(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(full, "toy"), dir)

	// The cache directory is searched after Dirs.
	f = &Finder{Dirs: []string{empty}, CacheDir: full, Offline: true}
	dir, err = f.FindDataset(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(full, "toy"), dir)
}

func TestVerifyIsCachedUntilFilesChange(t *testing.T) {
	d, content := toyDataset()
	root := t.TempDir()
	writeToy(t, root, content)
	f := &Finder{Dirs: []string{root}, Offline: true}
	_, err := f.FindDataset(context.Background(), d)
	require.NoError(t, err)

	// Same size, same modification time, different bytes: the cached result
	// stands (this is what makes repeated lookups cheap).
	p := filepath.Join(root, "toy", "a.txt")
	st, err := os.Stat(p)
	require.NoError(t, err)
	writeFile(t, p, []byte("ALPHA\n"))
	require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime()))
	_, err = f.FindDataset(context.Background(), d)
	require.NoError(t, err)

	// A new modification time makes Find verify again and reject the copy.
	later := st.ModTime().Add(time.Second)
	require.NoError(t, os.Chtimes(p, later, later))
	_, err = f.FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p+": sha256 of content is "+sha([]byte("ALPHA\n")))

	assert.Error(t, Verify(filepath.Join(root, "toy"), d))
}

func TestVerifyErrors(t *testing.T) {
	d, content := toyDataset()
	root := t.TempDir()
	writeToy(t, root, content)
	dir := filepath.Join(root, "toy")
	require.NoError(t, Verify(dir, d))

	gz := filepath.Join(dir, "sub", "b.txt.gz")
	writeFile(t, gz, gzipBytes(t, []byte("beta\n")))
	err := Verify(dir, d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), gz+": decompressed content is 5 bytes, want 10")

	writeFile(t, gz, content["sub/b.txt"]) // not gzipped
	err = Verify(dir, d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), gz+": not a gzip file")

	require.NoError(t, os.Remove(gz))
	err = Verify(dir, d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), gz)

	set := Dataset{Name: "s", Sets: []FileSet{{Dir: "rec", Ext: ".wav", Count: 2}}}
	writeFile(t, filepath.Join(dir, "rec", "1.wav"), nil)
	writeFile(t, filepath.Join(dir, "rec", "notes.txt"), nil)
	err = Verify(dir, set)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds 1 *.wav files, want 2")
	writeFile(t, filepath.Join(dir, "rec", "2.wav"), nil)
	assert.NoError(t, Verify(dir, set))
}

func TestFindOfflineErrorSaysWhereFilesGo(t *testing.T) {
	d, content := toyDataset()
	for i := range d.Files {
		d.Files[i].URLs = []string{"https://example.invalid/" + d.Files[i].Path}
	}
	d.Sets = []FileSet{{Dir: "rec", Ext: ".wav", Count: 3, URLs: []string{"https://example.invalid/rec.tar.gz"}, MemberDir: "rec"}}
	cache, other := t.TempDir(), t.TempDir()
	f := &Finder{Dirs: []string{other}, CacheDir: cache, Offline: true}
	_, err := f.FindDataset(context.Background(), d)
	require.Error(t, err)
	msg := err.Error()
	assert.NotContains(t, msg, "\n")
	assert.Contains(t, msg, "toy not found (downloads are off ($TRIAD_OFFLINE))")
	assert.Contains(t, msg, filepath.Join(cache, "toy", "a.txt")+", "+filepath.Join(cache, "toy", "sub", "b.txt.gz"))
	assert.Contains(t, msg, filepath.Join(cache, "toy", "rec")+string(filepath.Separator)+" (3 *.wav files)")
	assert.Contains(t, msg, "$TRIAD_DATA")
	assert.Contains(t, msg, "source: made up for the test")

	// A copy that fails verification is mentioned.
	writeToy(t, other, content)
	_, err = f.FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "copies rejected: open "+filepath.Join(other, "toy", "rec"))

	// Without a cache directory the paths are given relative to DIR.
	f = &Finder{Offline: true}
	_, err = f.FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join("DIR", "toy", "a.txt"))
	assert.Contains(t, err.Error(), "with DIR a directory listed in $TRIAD_DATA")

	// A dataset without a public source is not downloaded even when online.
	d, _ = toyDataset()
	f = &Finder{CacheDir: cache}
	_, err = f.FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "it cannot be downloaded automatically")
}

func TestNewFinderReadsEnvironment(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	t.Setenv(EnvData, a+string(os.PathListSeparator)+string(os.PathListSeparator)+b)
	t.Setenv(EnvOffline, "1")
	f := NewFinder()
	assert.Equal(t, []string{a, b}, f.Dirs)
	assert.True(t, f.Offline)
	if c, err := DefaultCacheDir(); err == nil {
		assert.Equal(t, c, f.CacheDir)
		assert.True(t, strings.HasSuffix(c, filepath.Join("triad", "datasets")))
	}
	t.Setenv(EnvOffline, "0")
	assert.False(t, NewFinder().Offline)
}
