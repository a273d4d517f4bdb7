package datasets

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"

	"github.com/pkg/errors"
)

// gzipMagic are the first two bytes of every gzip member (RFC 1952, section 2.3.1).
var gzipMagic = [2]byte{0x1f, 0x8b}

// dataReader reads a data file, decompressing it when its name ends in ".gz", and
// words read errors with the file's name and what went wrong.
type dataReader struct {
	path string
	f    *os.File
	gz   *gzip.Reader
	r    io.Reader
}

// openData opens path for reading; a ".gz" file is decompressed on the fly and
// must be gzip. Errors name the file.
func openData(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	d := &dataReader{path: path, f: f, r: f}
	if strings.HasSuffix(path, ".gz") {
		br := bufio.NewReaderSize(f, 64<<10)
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, d.wrap(err)
		}
		d.gz, d.r = gz, gz
	}
	return d, nil
}

// Read reads decompressed content, naming the file in errors.
func (d *dataReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = d.wrap(err)
	}
	return n, err
}

// Close closes the decompressor and the file.
func (d *dataReader) Close() error {
	if d.gz != nil {
		d.gz.Close()
	}
	return d.f.Close()
}

// wrap names the file and says plainly what a gzip error means.
func (d *dataReader) wrap(err error) error {
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		if d.gz != nil || strings.HasSuffix(d.path, ".gz") {
			return errors.Errorf("%s: truncated gzip stream", d.path)
		}
		return errors.Errorf("%s: truncated", d.path)
	case gzip.ErrHeader:
		return errors.Errorf("%s: not a gzip file, or a corrupt gzip header", d.path)
	case gzip.ErrChecksum:
		return errors.Errorf("%s: corrupt gzip stream (checksum mismatch)", d.path)
	}
	if _, ok := err.(*os.PathError); ok {
		return err
	}
	if d.gz != nil {
		return errors.Wrapf(err, "%s: corrupt gzip stream", d.path)
	}
	return errors.Wrap(err, d.path)
}

// readAllData reads a whole data file (decompressed when it ends in ".gz").
func readAllData(path string) ([]byte, error) {
	r, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// hashReader returns the hex SHA-256 of everything r yields and its length.
func hashReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
