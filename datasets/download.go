package datasets

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/text/encoding/charmap"
)

// downloadMu serialises downloads within the process, so two goroutines asking
// for the same dataset fetch it once.
var downloadMu sync.Mutex

// downloadLimits bounds what one download may hand over, so that a wrong or
// hostile address fills neither memory nor disk: the bytes of a response body,
// of one archive member, and of an archive's whole decompressed stream. A file
// of known size is also cut one byte past that size.
type downloadLimits struct {
	body, member, total int64
}

// limits are the bounds downloads keep to; far above every registered
// dataset's (the largest archive, FSDD's, is under 100 MB).
var limits = downloadLimits{body: 1 << 30, member: 256 << 20, total: 2 << 30}

// cappedReader reads r and fails once more than n bytes came from it.
type cappedReader struct {
	r    io.Reader
	n    int64 // bytes still allowed
	what string
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errors.New(c.what)
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	if c.n < 0 {
		return k, errors.New(c.what)
	}
	return k, err
}

// capped returns r cut to limit bytes: reading more is an error that says what
// passed the limit.
func capped(r io.Reader, limit int64, what string) io.Reader {
	return &cappedReader{r: r, n: limit, what: fmt.Sprintf("%s is over %d bytes", what, limit)}
}

// defaultClient bounds connecting and waiting for headers, not the transfer.
var defaultClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	},
}

func (f *Finder) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return defaultClient
}

// download fetches into dir the files of d that are missing or fail
// verification, then builds the derived ones.
func (f *Finder) download(ctx context.Context, dir string, d Dataset) error {
	downloadMu.Lock()
	defer downloadMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrap(err, "creating the dataset directory")
	}
	type archive struct {
		urls  []string
		files []File
		sets  []archiveSet
	}
	var archives []*archive
	archiveOf := func(urls []string) *archive {
		for _, a := range archives {
			if a.urls[0] == urls[0] {
				return a
			}
		}
		a := &archive{urls: urls}
		archives = append(archives, a)
		return a
	}
	derive := false
	for _, file := range d.Files {
		p := filepath.Join(dir, filepath.FromSlash(file.Path))
		if verifyFile(p, file) == nil {
			continue
		}
		switch {
		case file.Derived != "":
			derive = true
		case file.Member != "":
			a := archiveOf(file.URLs)
			a.files = append(a.files, file)
		default:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return errors.Wrap(err, "creating the dataset directory")
			}
			if err := f.fetchFile(ctx, p, file); err != nil {
				return err
			}
		}
	}
	for _, s := range d.Sets {
		if verifySet(dir, s) == nil {
			continue
		}
		a := archiveOf(s.URLs)
		a.sets = append(a.sets, archiveSet{FileSet: s, manifest: setManifests[d.Name+"/"+s.Dir]})
		derive = true // derived files may describe the set
	}
	for _, a := range archives {
		if err := f.fetchArchive(ctx, dir, a.urls, a.files, a.sets); err != nil {
			return err
		}
	}
	if derive && d.derive != nil {
		if err := d.derive(dir); err != nil {
			return errors.Wrapf(err, "building the derived files of %s", d.Name)
		}
	}
	return nil
}

// fetchFile downloads file to dst from the first of its URLs that works.
func (f *Finder) fetchFile(ctx context.Context, dst string, file File) error {
	var errs []string
	for _, u := range file.URLs {
		err := f.get(ctx, u, func(body io.Reader) error {
			return writeVerified(dst, body, file, u)
		})
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
	}
	return errors.New(strings.Join(errs, "; "))
}

// archiveSet is a file set to extract from an archive, with the digest its
// manifest must have (empty: the set is checked by count alone).
type archiveSet struct {
	FileSet
	manifest string
}

// fetchArchive downloads a .tar.gz archive from the first of urls that works and
// extracts the members that files and sets ask for.
func (f *Finder) fetchArchive(ctx context.Context, dir string, urls []string, files []File, sets []archiveSet) error {
	var errs []string
	for _, u := range urls {
		err := f.get(ctx, u, func(body io.Reader) error {
			return extractArchive(dir, body, u, files, sets)
		})
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
	}
	return errors.New(strings.Join(errs, "; "))
}

// get requests url and hands the body, with progress reporting, to use.
func (f *Finder) get(ctx context.Context, url string, use func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return errors.Wrap(err, url)
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return err // *url.Error names the address
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.Errorf("%s: HTTP %s", url, resp.Status)
	}
	if resp.ContentLength > limits.body {
		return errors.Errorf("%s: %d bytes, more than the %d a download may have", url, resp.ContentLength, limits.body)
	}
	var body io.Reader = capped(resp.Body, limits.body, url+": the download")
	var bar *progressbar.ProgressBar
	if f.Progress != nil {
		name := path.Base(req.URL.Path)
		if f.ProgressBar {
			bar = progressbar.NewOptions64(resp.ContentLength,
				progressbar.OptionSetWriter(f.Progress),
				progressbar.OptionSetDescription("downloading "+name),
				progressbar.OptionShowBytes(true),
				progressbar.OptionShowTotalBytes(true),
				progressbar.OptionSetWidth(24),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(f.Progress) }),
			)
			r := progressbar.NewReader(resp.Body, bar)
			body = &r
		} else {
			fmt.Fprintf(f.Progress, "datasets: downloading %s\n", url)
		}
	}
	err = use(body)
	if bar != nil {
		if err == nil {
			_ = bar.Finish()
		} else {
			_ = bar.Exit()
		}
	}
	return err
}

// writeVerified writes the content src yields to dst, atomically: through a
// temporary file in dst's directory, renamed into place only when the content's
// size and SHA-256 match file. A gzipped src is decompressed for the check; dst
// is stored gzipped exactly when its name ends in ".gz".
func writeVerified(dst string, src io.Reader, file File, origin string) error {
	br := bufio.NewReaderSize(src, 64<<10)
	magic, _ := br.Peek(2)
	srcGz := len(magic) == 2 && magic[0] == gzipMagic[0] && magic[1] == gzipMagic[1]
	dstGz := strings.HasSuffix(dst, ".gz")
	keepRaw := srcGz && dstGz && file.Charset == ""
	return writeThroughTemp(dst, "download", func(tmp *os.File) error {
		var content io.Reader = br
		if keepRaw {
			content = io.TeeReader(br, tmp)
		}
		if srcGz {
			gz, err := gzip.NewReader(content)
			if err != nil {
				return errors.Wrapf(err, "%s: bad gzip stream", origin)
			}
			content = gz
		}
		if file.Charset != "" {
			dec, err := decoderFor(file.Charset)
			if err != nil {
				return err
			}
			content = dec(content)
		}
		if file.Size > 0 {
			// one byte more than the file has is enough for checkSum to refuse it
			content = io.LimitReader(content, file.Size+1)
		}
		h := sha256.New()
		var out io.Writer = h
		var gw *gzip.Writer
		switch {
		case keepRaw:
		case dstGz:
			gw = gzip.NewWriter(tmp)
			out = io.MultiWriter(h, gw)
		default:
			out = io.MultiWriter(h, tmp)
		}
		n, err := io.Copy(out, content)
		if err != nil {
			return errors.Wrapf(err, "%s: reading", origin)
		}
		if keepRaw {
			// Keep whatever follows the last gzip member, as it came.
			if _, err := io.Copy(tmp, br); err != nil {
				return errors.Wrapf(err, "%s: reading", origin)
			}
		}
		if gw != nil {
			if err := gw.Close(); err != nil {
				return errors.Wrapf(err, "writing %s", tmp.Name())
			}
		}
		if file.Size > 0 && n > file.Size {
			return errors.Errorf("%s: content is over %d bytes, want %d", origin, file.Size, file.Size)
		}
		return checkSum(origin, file, hex.EncodeToString(h.Sum(nil)), n)
	})
}

// decoderFor returns a converter from charset to UTF-8.
func decoderFor(charset string) (func(io.Reader) io.Reader, error) {
	switch strings.ToLower(charset) {
	case "windows-1252", "cp1252":
		return func(r io.Reader) io.Reader { return charmap.Windows1252.NewDecoder().Reader(r) }, nil
	}
	return nil, errors.Errorf("unsupported character set %q", charset)
}

// memberMatch reports whether archive member name is want, possibly below a top
// folder (GitHub archives put everything under REPO-BRANCH/).
func memberMatch(name, want string) bool {
	return name == want || strings.HasSuffix(name, "/"+want)
}

// extractArchive reads a gzipped tar stream and writes the members files and sets
// ask for into dir. Each file is verified; each set is staged in a temporary
// folder and renamed into place once its count, and its manifest's digest where
// it has one, are right. The decompressed stream and each member are bounded by
// limits.
func extractArchive(dir string, body io.Reader, origin string, files []File, sets []archiveSet) (err error) {
	gz, err := gzip.NewReader(bufio.NewReaderSize(body, 64<<10))
	if err != nil {
		return errors.Wrapf(err, "%s: not a gzipped archive", origin)
	}
	stages := make([]string, len(sets))
	counts := make([]int, len(sets))
	defer func() {
		for _, s := range stages {
			if s != "" {
				os.RemoveAll(s)
			}
		}
	}()
	for i, s := range sets {
		final := filepath.Join(dir, filepath.FromSlash(s.Dir))
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return errors.Wrap(err, "creating the dataset directory")
		}
		stages[i], err = os.MkdirTemp(filepath.Dir(final), "."+filepath.Base(final)+".part-*")
		if err != nil {
			return errors.Wrap(err, "creating a temporary folder")
		}
	}
	done := make([]bool, len(files))
	tr := tar.NewReader(capped(gz, limits.total, origin+": the decompressed archive"))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errors.Wrapf(err, "%s: corrupt archive", origin)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if hdr.Size > limits.member {
			return errors.Errorf("%s#%s: %d bytes, more than the %d an archive member may have", origin, name, hdr.Size, limits.member)
		}
		for i, file := range files {
			if !done[i] && memberMatch(name, file.Member) {
				dst := filepath.Join(dir, filepath.FromSlash(file.Path))
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return errors.Wrap(err, "creating the dataset directory")
				}
				if err := writeVerified(dst, tr, file, origin+"#"+name); err != nil {
					return err
				}
				done[i] = true
			}
		}
		base := path.Base(name)
		for i, s := range sets {
			if !memberMatch(path.Dir(name), s.MemberDir) || !strings.HasSuffix(base, s.Ext) || base == s.Ext {
				continue
			}
			if err := copyToFile(filepath.Join(stages[i], base), tr); err != nil {
				return err
			}
			counts[i]++
		}
	}
	for i, file := range files {
		if !done[i] {
			return errors.Errorf("%s: archive has no member %s", origin, file.Member)
		}
	}
	for i, s := range sets {
		if counts[i] != s.Count {
			return errors.Errorf("%s: archive has %d *%s files in %s, want %d", origin, counts[i], s.Ext, s.MemberDir, s.Count)
		}
		if s.manifest != "" {
			sum, err := setManifest(stages[i], s.Ext)
			if err != nil {
				return err
			}
			if sum != s.manifest {
				return errors.Errorf("%s: the manifest of the *%s files in %s has sha256 %s, want %s", origin, s.Ext, s.MemberDir, sum, s.manifest)
			}
		}
		final := filepath.Join(dir, filepath.FromSlash(s.Dir))
		if err := os.RemoveAll(final); err != nil {
			return errors.Wrap(err, "replacing "+final)
		}
		if err := os.Rename(stages[i], final); err != nil {
			return errors.Wrap(err, "moving the download into place")
		}
		stages[i] = ""
	}
	return nil
}

func copyToFile(dst string, r io.Reader) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return errors.Wrapf(err, "writing %s", dst)
	}
	return out.Close()
}

// writeFileAtomic writes data to path through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	return writeThroughTemp(path, "file", func(tmp *os.File) error {
		_, err := tmp.Write(data)
		return errors.Wrapf(err, "writing %s", tmp.Name())
	})
}

// writeThroughTemp writes path through a temporary file in its directory that
// fill writes, synced and renamed into place only when fill succeeds, so that
// path holds either what it held or all of the new content. what names the
// content in the error of a failed rename.
func writeThroughTemp(path, what string, fill func(tmp *os.File) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return errors.Wrap(err, "creating a temporary file")
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return errors.Wrapf(err, "writing %s", tmp.Name())
	}
	if err = tmp.Close(); err != nil {
		return errors.Wrapf(err, "writing %s", tmp.Name())
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return errors.Wrapf(err, "moving the %s into place", what)
	}
	return nil
}

// setManifest returns the hex SHA-256 of the manifest of the files in dir whose
// names end in ext: one line per file, sorted by name, of the file's hex
// SHA-256, two spaces and its name (what `sha256sum` prints for the sorted
// names), so that one digest checks every byte, name and the number of files.
func setManifest(dir, ext string) (string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return "", err
	}
	manifest := sha256.New()
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ext) {
			continue
		}
		fh, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return "", errors.Wrap(err, filepath.Join(dir, e.Name()))
		}
		fmt.Fprintf(manifest, "%x  %s\n", h.Sum(nil), e.Name())
	}
	return hex.EncodeToString(manifest.Sum(nil)), nil
}
