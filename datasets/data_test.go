package datasets

// Tests against the real datasets. Each skips when its dataset is not found in
// $TRIAD_DATA or ../shared/data; the expected counts are those the datasets'
// sources publish (and the shared data README repeats).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
)

func TestRealDatasetsVerify(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			dir := realData(t, name) // fails when a copy is present but wrong
			require.NoError(t, verifyCached(dir, registry[name]))
		})
	}
}

func TestRealTinyShakespeare(t *testing.T) {
	text, err := LoadTinyShakespeare(realData(t, "tinyshakespeare"))
	require.NoError(t, err)
	assert.Equal(t, 1115394, len(text))
	chars := map[rune]bool{}
	for _, r := range text {
		chars[r] = true
	}
	assert.Len(t, chars, 65)
	assert.True(t, strings.HasPrefix(text, "First Citizen:\n"))
}

func TestRealMNIST(t *testing.T) {
	dir := realData(t, "mnist")
	for _, c := range []struct {
		split string
		n     int
	}{{"train", 60000}, {"test", 10000}} {
		images, labels, rows, cols, err := LoadMNIST(dir, c.split)
		require.NoError(t, err)
		assert.Equal(t, 28, rows)
		assert.Equal(t, 28, cols)
		assert.Len(t, labels, c.n)
		assert.Len(t, images, c.n*28*28)
		if c.split == "train" {
			// The first training labels are 5 0 4 1 9, as every MNIST reader shows.
			assert.Equal(t, []byte{5, 0, 4, 1, 9}, labels[:5])
		}
		counts := make([]int, 10)
		for _, l := range labels {
			counts[l]++
		}
		for d, n := range counts {
			assert.Greater(t, n, c.n/20, "digit %d", d)
		}
	}
}

func TestRealMulti30k(t *testing.T) {
	dir := realData(t, "multi30k")
	train, err := LoadMulti30k(dir, "train", "en", "de")
	require.NoError(t, err)
	assert.Len(t, train, 29000)
	assert.Equal(t, Pair{"Two young, White males are outside near many bushes.",
		"Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche."}, train[0])
	val, err := LoadMulti30k(dir, "val", "de", "en")
	require.NoError(t, err)
	assert.Len(t, val, 1014)
	assert.Equal(t, "A group of men are loading cotton onto a truck", val[0].Target)
}

func TestRealGigaword(t *testing.T) {
	dir := realData(t, "gigaword-sample")
	train, err := LoadGigaword(dir, "train")
	require.NoError(t, err)
	assert.Len(t, train, 10000)
	assert.Equal(t, "australian current account deficit narrows sharply", train[0].Target)
	valid, err := LoadGigaword(dir, "valid")
	require.NoError(t, err)
	assert.Len(t, valid, 1000)
}

func TestRealRTPolarity(t *testing.T) {
	ex, names, err := LoadRTPolarity(realData(t, "rt-polarity"))
	require.NoError(t, err)
	assert.Equal(t, RTPolarityLabels, names)
	counts := [2]int{}
	for _, e := range ex {
		counts[e.Label]++
	}
	assert.Equal(t, [2]int{5331, 5331}, counts)
}

func TestRealSNIPS(t *testing.T) {
	dir := realData(t, "snips")
	train, names, err := LoadSNIPS(dir, "train")
	require.NoError(t, err)
	assert.Len(t, train, 13784)
	assert.Len(t, names, 7)
	perIntent := make([]int, len(names))
	pizza := false
	for _, e := range train {
		perIntent[e.Label]++
		pizza = pizza || strings.Contains(e.Text, "🍕")
	}
	for i, n := range perIntent {
		assert.Greater(t, n, 1900, names[i])
	}
	assert.True(t, pizza, "the emoji the JSON holds as CESU-8 is in the TSV as UTF-8")
	valid, _, err := LoadSNIPS(dir, "valid")
	require.NoError(t, err)
	assert.Len(t, valid, 700)
}

func TestRealSNIPSDerivation(t *testing.T) {
	src := realData(t, "snips")
	dir := t.TempDir()
	require.NoError(t, os.Symlink(filepath.Join(src, "original"), filepath.Join(dir, "original")))
	require.NoError(t, deriveSNIPS(dir))
	d := registry["snips"]
	for _, f := range d.Files[:2] {
		require.NoError(t, verifyFile(filepath.Join(dir, f.Path), f), "the TSVs rebuilt from the JSON match the registry")
	}
}

func TestRealFSDD(t *testing.T) {
	dir := realData(t, "fsdd")
	recs, err := LoadFSDD(dir)
	require.NoError(t, err)
	require.Len(t, recs, 3000)
	splits := map[string]int{}
	speakers := map[string]int{}
	digits := make([]int, 10)
	for _, r := range recs {
		splits[r.Split]++
		speakers[r.Speaker]++
		digits[r.Digit]++
		assert.Equal(t, r.Take < 5, r.Split == "test", "%+v", r)
	}
	assert.Equal(t, map[string]int{"train": 2700, "test": 300}, splits)
	assert.Len(t, speakers, 6)
	for d, n := range digits {
		assert.Equal(t, 300, n, "digit %d", d)
	}
	for _, r := range []Recording{recs[0], recs[1499], recs[2999]} {
		s, rate, err := r.Samples()
		require.NoError(t, err)
		assert.Equal(t, 8000, rate)
		assert.Len(t, s, r.NumSamples)
		peak := float32(0)
		for _, v := range s {
			assert.True(t, v >= -1 && v <= 1)
			peak = max(peak, v, -v)
		}
		assert.Greater(t, peak, float32(0.01), "%s is not silent", r.Path)
	}
}

func TestRealFSDDMetadataRebuilt(t *testing.T) {
	dir := realData(t, "fsdd")
	b, err := fsddMetadata(dir)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	assert.Equal(t, registry["fsdd"].Files[0].SHA256, hex.EncodeToString(sum[:]), "metadata.tsv rebuilt from the recordings matches the registry")
}

func TestRealCMUDict(t *testing.T) {
	entries, err := LoadCMUDict(realData(t, "cmudict"))
	require.NoError(t, err)
	assert.Len(t, entries, 134723)
	phones := map[string]bool{}
	for _, e := range entries {
		for _, p := range e.Phones {
			phones[p] = true
		}
	}
	assert.Len(t, phones, 39)
}

// TestRealDownloadRecipes downloads every downloadable dataset from a fake
// internet that serves the local copies at the registry's canonical addresses,
// in the form the sources publish them (plain JSON, gzipped IDX, a tar.gz of
// Windows-1252 text, a GitHub archive of WAV files). It checks that each recipe
// (direct files, archive members, transcoding, derived files) rebuilds files
// that verify.
func TestRealDownloadRecipes(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every dataset; skipped with -short")
	}
	local := map[string]string{}
	f := localFinder()
	for _, name := range Names() {
		if d := registry[name]; d.Downloadable() {
			if dir, err := f.Find(context.Background(), name); err == nil {
				local[name] = dir
			}
		}
	}
	if len(local) == 0 {
		t.Skip("no dataset found in $TRIAD_DATA or ../shared/data; skipping")
	}
	serve := map[string]func() ([]byte, error){}
	for name, dir := range local {
		d := registry[name]
		archives := map[string][][2]string{}
		for _, file := range d.Files {
			p := filepath.Join(dir, filepath.FromSlash(file.Path))
			switch {
			case file.Member != "":
				text, err := readAllData(p)
				require.NoError(t, err)
				if file.Charset != "" { // the archive holds the text before conversion
					require.Equal(t, "windows-1252", file.Charset)
					text, err = charmap.Windows1252.NewEncoder().Bytes(text)
					require.NoError(t, err)
				}
				archives[file.URLs[0]] = append(archives[file.URLs[0]], [2]string{file.Member, string(text)})
			case len(file.URLs) > 0:
				u := file.URLs[0]
				serve[u] = func() ([]byte, error) {
					if strings.HasSuffix(u, ".gz") && strings.HasSuffix(p, ".gz") {
						return os.ReadFile(p)
					}
					return readAllData(p)
				}
			}
		}
		for _, s := range d.Sets {
			entries, err := os.ReadDir(filepath.Join(dir, s.Dir))
			require.NoError(t, err)
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, s.Dir, e.Name()))
				require.NoError(t, err)
				archives[s.URLs[0]] = append(archives[s.URLs[0]], [2]string{"repo-master/" + s.MemberDir + "/" + e.Name(), string(b)})
			}
		}
		for u, members := range archives {
			body := tarGz(t, members)
			serve[u] = func() ([]byte, error) { return body, nil }
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		get, ok := serve[r.Header.Get("X-Original-URL")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := get()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	client := &http.Client{Transport: rewriteTransport{target}}

	cache := t.TempDir()
	finder := &Finder{CacheDir: cache, Client: client}
	for name := range local {
		dir, err := finder.Find(context.Background(), name)
		require.NoError(t, err, name)
		assert.Equal(t, filepath.Join(cache, name), dir)
	}
}

// rewriteTransport sends every request to target, with the address asked for in
// the X-Original-URL header.
type rewriteTransport struct{ target *url.URL }

func (rt rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("X-Original-URL", req.URL.String())
	r.URL.Scheme, r.URL.Host, r.Host = rt.target.Scheme, rt.target.Host, rt.target.Host
	return http.DefaultTransport.RoundTrip(r)
}
