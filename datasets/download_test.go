package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeOrigin is an HTTP server serving fixed bodies by path and counting
// requests.
type fakeOrigin struct {
	*httptest.Server
	mu     sync.Mutex
	bodies map[string][]byte
	hits   map[string]int
}

func newOrigin(t *testing.T, bodies map[string][]byte) *fakeOrigin {
	o := &fakeOrigin{bodies: bodies, hits: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.Path]++
		body, ok := o.bodies[r.URL.Path]
		o.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *fakeOrigin) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, h := range o.hits {
		n += h
	}
	return n
}

// listFiles returns the names of the files below dir, slash-separated.
func listFiles(t *testing.T, dir string) []string {
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	}))
	return out
}

func TestDownloadFiles(t *testing.T) {
	a := []byte("plain file\n")
	b := []byte(strings.Repeat("gzipped on the server, kept gzipped\n", 50))
	c := []byte("plain on the server, stored gzipped\n")
	dd := []byte("gzipped on the server, stored plain\n")
	e := []byte("found on the mirror\n")
	bGz := gzipBytes(t, b)
	o := newOrigin(t, map[string][]byte{
		"/a.txt": a, "/b.gz": bGz, "/c.txt": c, "/d.gz": gzipBytes(t, dd), "/mirror/e.txt": e,
	})
	d := Dataset{Name: "web", Files: []File{
		{Path: "a.txt", Size: int64(len(a)), SHA256: sha(a), URLs: []string{o.URL + "/a.txt"}},
		{Path: "b.txt.gz", Size: int64(len(b)), SHA256: sha(b), URLs: []string{o.URL + "/b.gz"}},
		{Path: "sub/c.txt.gz", Size: int64(len(c)), SHA256: sha(c), URLs: []string{o.URL + "/c.txt"}},
		{Path: "d.txt", Size: int64(len(dd)), SHA256: sha(dd), URLs: []string{o.URL + "/d.gz"}},
		{Path: "e.txt", Size: int64(len(e)), SHA256: sha(e), URLs: []string{o.URL + "/gone/e.txt", o.URL + "/mirror/e.txt"}},
	}}
	var progress bytes.Buffer
	cache := t.TempDir()
	f := &Finder{CacheDir: cache, Progress: &progress, ProgressBar: true}
	dir, err := f.FindDataset(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(cache, "web"), dir)
	assert.Equal(t, []string{"a.txt", "b.txt.gz", "d.txt", "e.txt", "sub/c.txt.gz"}, listFiles(t, dir))
	raw, err := os.ReadFile(filepath.Join(dir, "b.txt.gz"))
	require.NoError(t, err)
	assert.Equal(t, bGz, raw, "a gzipped download is stored as it came")
	got, err := LoadText(filepath.Join(dir, "sub", "c.txt.gz"))
	require.NoError(t, err)
	assert.Equal(t, string(c), got)
	got, err = LoadText(filepath.Join(dir, "d.txt"))
	require.NoError(t, err)
	assert.Equal(t, string(dd), got)
	assert.Equal(t, 1, o.hits["/gone/e.txt"])
	assert.Contains(t, progress.String(), "downloading a.txt")

	// Found in the cache now: no more requests.
	before := o.total()
	_, err = f.FindDataset(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, before, o.total())

	// A damaged file is fetched again, alone.
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("damaged\n"))
	var lines bytes.Buffer
	f.Progress, f.ProgressBar = &lines, false
	_, err = f.FindDataset(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, before+1, o.total())
	assert.Equal(t, 2, o.hits["/a.txt"])
	assert.Equal(t, "datasets: downloading "+o.URL+"/a.txt\n", lines.String())
}

func TestDownloadChecksumMismatch(t *testing.T) {
	o := newOrigin(t, map[string][]byte{"/x.txt": []byte("tampered\n")})
	want := []byte("original\n")
	d := Dataset{Name: "bad", Files: []File{
		{Path: "x.txt", Size: int64(len(want)), SHA256: sha(want), URLs: []string{o.URL + "/x.txt"}},
	}}
	cache := t.TempDir()
	_, err := (&Finder{CacheDir: cache}).FindDataset(context.Background(), d)
	require.Error(t, err)
	msg := err.Error()
	assert.NotContains(t, msg, "\n")
	assert.Contains(t, msg, "download failed: "+o.URL+"/x.txt: sha256 of content is "+sha([]byte("tampered\n")))
	assert.Contains(t, msg, "put "+filepath.Join(cache, "bad", "x.txt"))
	assert.Empty(t, listFiles(t, cache), "nothing half-written is left behind")

	// Wrong size is caught too, and a 404 is reported with its status.
	d.Files[0].Size = 3
	d.Files[0].URLs = append(d.Files[0].URLs, o.URL+"/missing")
	_, err = (&Finder{CacheDir: cache}).FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "content is over 3 bytes, want 3")
	assert.Contains(t, err.Error(), "/missing: HTTP 404")
}

func TestDownloadUnreachable(t *testing.T) {
	o := newOrigin(t, nil)
	addr := o.URL
	o.Close() // nothing listens there any more
	d := Dataset{Name: "far", Files: []File{{Path: "x.txt", Size: 1, SHA256: sha([]byte("x")), URLs: []string{addr + "/x.txt"}}}}
	cache := t.TempDir()
	_, err := (&Finder{CacheDir: cache}).FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	assert.Contains(t, err.Error(), "far not found (download failed: Get")
	assert.Contains(t, err.Error(), filepath.Join(cache, "far", "x.txt"))
}

// tarGz builds a gzipped tar archive of the given members, in order.
func tarGz(t testing.TB, members [][2]string) []byte {
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: m[0], Mode: 0o644, Size: int64(len(m[1])), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(m[1]))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func TestDownloadArchive(t *testing.T) {
	// Windows-1252: E9 is é, 93/94 are curly double quotes, 85 an ellipsis.
	cp1252 := "caf\xe9 \x93ok\x94\x85\n"
	utf8Text := "café “ok”…\n"
	archive := tarGz(t, [][2]string{
		{"proj-1.0/README", "read me"},
		{"proj-1.0/text/notes.txt", cp1252},
		{"proj-1.0/rec/1.wav", "one"},
		{"proj-1.0/rec/2.wav", "two"},
		{"proj-1.0/rec/list.txt", "not a wav"},
		{"proj-1.0/other/3.wav", "elsewhere"},
	})
	o := newOrigin(t, map[string][]byte{"/proj.tar.gz": archive})
	derived := []byte("2\n")
	d := Dataset{Name: "arch",
		Files: []File{
			{Path: "notes.txt", Size: int64(len(utf8Text)), SHA256: sha([]byte(utf8Text)),
				URLs: []string{o.URL + "/proj.tar.gz"}, Member: "text/notes.txt", Charset: "windows-1252"},
			{Path: "count.txt", Size: 2, SHA256: sha(derived), Derived: "number of recordings"},
		},
		Sets: []FileSet{{Dir: "recordings", Ext: ".wav", Count: 2, URLs: []string{o.URL + "/proj.tar.gz"}, MemberDir: "rec"}},
		derive: func(dir string) error {
			entries, err := os.ReadDir(filepath.Join(dir, "recordings"))
			if err != nil {
				return err
			}
			return writeFileAtomic(filepath.Join(dir, "count.txt"), []byte(fmt.Sprintf("%d\n", len(entries))))
		},
	}
	require.True(t, d.Downloadable())
	cache := t.TempDir()
	dir, err := (&Finder{CacheDir: cache}).FindDataset(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, []string{"count.txt", "notes.txt", "recordings/1.wav", "recordings/2.wav"}, listFiles(t, dir))
	assert.Equal(t, 1, o.hits["/proj.tar.gz"], "one archive download serves the file and the set")
	got, err := LoadText(filepath.Join(dir, "notes.txt"))
	require.NoError(t, err)
	assert.Equal(t, utf8Text, got)

	// Missing member and wrong count.
	d.Files[0].Member = "text/absent.txt"
	_, err = (&Finder{CacheDir: t.TempDir()}).FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "archive has no member text/absent.txt")
	d.Files[0].Member = "text/notes.txt"
	d.Sets[0].Count = 3
	cache = t.TempDir()
	_, err = (&Finder{CacheDir: cache}).FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "archive has 2 *.wav files in rec, want 3")
	for _, f := range listFiles(t, cache) {
		assert.NotContains(t, f, "recordings", "no partial set is left behind")
	}

	// Not an archive at all.
	o.mu.Lock()
	o.bodies["/proj.tar.gz"] = []byte("<html>moved</html>")
	o.mu.Unlock()
	d.Sets[0].Count = 2
	_, err = (&Finder{CacheDir: t.TempDir()}).FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a gzipped archive")
}

// withLimits sets the download limits for the rest of the test.
func withLimits(t *testing.T, l downloadLimits) {
	old := limits
	limits = l
	t.Cleanup(func() { limits = old })
}

// archiveSetDataset is a dataset of one set of two .wav files in rec/ of the
// archive at url, checked by the manifest digest manifest when not empty.
func archiveSetDataset(t *testing.T, url, manifest string) Dataset {
	name := "pinned-" + strings.ReplaceAll(t.Name(), "/", "-")
	if manifest != "" {
		setManifests[name+"/recordings"] = manifest
		t.Cleanup(func() { delete(setManifests, name+"/recordings") })
	}
	return Dataset{Name: name, Sets: []FileSet{{Dir: "recordings", Ext: ".wav", Count: 2, URLs: []string{url}, MemberDir: "rec"}}}
}

func TestDownloadSetManifest(t *testing.T) {
	members := [][2]string{{"p-1/rec/1.wav", "one"}, {"p-1/rec/2.wav", "two"}, {"p-1/README", "x"}}
	o := newOrigin(t, map[string][]byte{"/good.tar.gz": tarGz(t, members)})

	// the manifest as sha256sum writes it for the files
	ref := t.TempDir()
	writeFile(t, filepath.Join(ref, "1.wav"), []byte("one"))
	writeFile(t, filepath.Join(ref, "2.wav"), []byte("two"))
	writeFile(t, filepath.Join(ref, "notes.txt"), []byte("not a recording"))
	manifest := fmt.Sprintf("%s  1.wav\n%s  2.wav\n", sha([]byte("one")), sha([]byte("two")))
	want := sha([]byte(manifest))
	got, err := setManifest(ref, ".wav")
	require.NoError(t, err)
	require.Equal(t, want, got)

	cache := t.TempDir()
	dir, err := (&Finder{CacheDir: cache}).FindDataset(context.Background(), archiveSetDataset(t, o.URL+"/good.tar.gz", want))
	require.NoError(t, err)
	assert.Equal(t, []string{"recordings/1.wav", "recordings/2.wav"}, listFiles(t, dir))

	// one byte changed, or two files swapped: the right count, a wrong manifest
	for name, body := range map[string][][2]string{
		"changed": {{"p-1/rec/1.wav", "onE"}, {"p-1/rec/2.wav", "two"}},
		"swapped": {{"p-1/rec/1.wav", "two"}, {"p-1/rec/2.wav", "one"}},
	} {
		o.mu.Lock()
		o.bodies["/"+name+".tar.gz"] = tarGz(t, body)
		o.mu.Unlock()
		cache := t.TempDir()
		_, err := (&Finder{CacheDir: cache}).FindDataset(context.Background(), archiveSetDataset(t, o.URL+"/"+name+".tar.gz", want))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "the manifest of the *.wav files in rec has sha256", name)
		assert.Contains(t, err.Error(), "want "+want, name)
		assert.Empty(t, listFiles(t, cache), "%s: nothing of a refused set is left", name)
	}
}

func TestDownloadLimits(t *testing.T) {
	pad := strings.Repeat("z", 300)
	o := newOrigin(t, map[string][]byte{
		"/member.tar.gz": tarGz(t, [][2]string{{"p/rec/1.wav", "one"}, {"p/rec/2.wav", pad}}),
		// members outside the set count towards the decompressed total too
		"/total.tar.gz": tarGz(t, [][2]string{{"p/a", pad}, {"p/b", pad}, {"p/c", pad}, {"p/d", pad},
			{"p/rec/1.wav", "one"}, {"p/rec/2.wav", "two"}}),
		"/big.txt": bytes.Repeat([]byte("x"), 5<<10),
	})
	for _, c := range []struct {
		path, want string
		limits     downloadLimits
	}{
		{"/member.tar.gz", "p/rec/2.wav: 300 bytes, more than the 100 an archive member may have", downloadLimits{body: 1 << 20, member: 100, total: 1 << 20}},
		{"/total.tar.gz", "the decompressed archive is over 2048 bytes", downloadLimits{body: 1 << 20, member: 1 << 20, total: 2 << 10}},
		{"/big.txt", "the download is over 4096 bytes", downloadLimits{body: 4 << 10, member: 1 << 20, total: 1 << 20}},
	} {
		withLimits(t, c.limits)
		cache := t.TempDir()
		d := archiveSetDataset(t, o.URL+c.path, "")
		if c.path == "/big.txt" { // a plain file of unknown size
			d = Dataset{Name: "big", Files: []File{{Path: "big.txt", SHA256: sha([]byte("x")), URLs: []string{o.URL + c.path}}}}
		}
		_, err := (&Finder{CacheDir: cache}).FindDataset(context.Background(), d)
		require.Error(t, err, c.path)
		assert.Contains(t, err.Error(), c.want, c.path)
		assert.NotContains(t, err.Error(), "\n")
		assert.Empty(t, listFiles(t, cache), "%s: nothing is left behind", c.path)
		// the same archive within the limits downloads
		if c.path != "/big.txt" {
			withLimits(t, downloadLimits{body: 1 << 20, member: 1 << 20, total: 1 << 20})
			_, err := (&Finder{CacheDir: t.TempDir()}).FindDataset(context.Background(), d)
			require.NoError(t, err, c.path)
		}
	}

	// a declared length over the limit is refused before reading
	withLimits(t, downloadLimits{body: 4 << 10, member: 1 << 20, total: 1 << 20})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write([]byte("short"))
	}))
	defer srv.Close()
	d := Dataset{Name: "long", Files: []File{{Path: "x.txt", Size: 5, SHA256: sha([]byte("short")), URLs: []string{srv.URL + "/x.txt"}}}}
	_, err := (&Finder{CacheDir: t.TempDir()}).FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1000000 bytes, more than the 4096 a download may have")
}

// A small gzipped file that decompresses to far more than the registry says is
// cut one byte past its size, not written out whole.
func TestDownloadGzipBomb(t *testing.T) {
	want := []byte("tiny\n")
	bomb := gzipBytes(t, bytes.Repeat([]byte{0}, 64<<20))
	require.Less(t, len(bomb), 1<<20)
	o := newOrigin(t, map[string][]byte{"/x.gz": bomb})
	d := Dataset{Name: "bomb", Files: []File{{Path: "x.txt", Size: int64(len(want)), SHA256: sha(want), URLs: []string{o.URL + "/x.gz"}}}}
	cache := t.TempDir()
	_, err := (&Finder{CacheDir: cache}).FindDataset(context.Background(), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "content is over 5 bytes, want 5")
	assert.Empty(t, listFiles(t, cache))
}
