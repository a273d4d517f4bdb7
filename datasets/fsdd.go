package datasets

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// FSDDTestTakes is the number of takes per speaker and digit that the Free
// Spoken Digit Dataset's README assigns to the test set: takes 0 to 4.
const FSDDTestTakes = 5

// FSDDCommit is the commit of github.com/Jakobovski/free-spoken-digit-dataset
// whose recordings the registry describes: the one that added the sixth speaker
// (lucas) and completed the 3,000 recordings, none of which later commits
// change. The repository grows as speakers contribute, so its branch is no
// fixed dataset.
const FSDDCommit = "d6938f9bf1545aa66d8489fc9f1385a7abd64282"

// fsddArchive is the address of the repository's tar.gz archive at FSDDCommit.
const fsddArchive = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/" + FSDDCommit + ".tar.gz"

// fsddRecordingsManifest is the SHA-256 of the manifest (see setManifest) of the
// 3,000 recordings at FSDDCommit, computed from a verified copy: a download
// whose recordings differ in any byte, name or number is refused.
const fsddRecordingsManifest = "1801eae019c063377d98f831d3f93574f259475df7332bb0e3d1b080fb5e6959"

// setManifests holds the manifest digest of the file sets that have one, by
// dataset name and set directory ("fsdd/recordings").
var setManifests = map[string]string{
	"fsdd/recordings": fsddRecordingsManifest,
}

// Recording is one recording of the Free Spoken Digit Dataset.
type Recording struct {
	// Digit is the spoken digit, 0-9.
	Digit int
	// Speaker is the speaker's name.
	Speaker string
	// Take numbers the speaker's recordings of the digit, from 0.
	Take int
	// Split is "train" or "test".
	Split string
	// Path is the WAV file.
	Path string
	// NumSamples is the number of samples metadata.tsv states (0 when it has no
	// such column).
	NumSamples int
}

// Samples reads the recording's audio: mono samples in [-1, 1] and the sample
// rate (see ReadWAV). When NumSamples is set, the file must hold that many.
func (r Recording) Samples() (samples []float32, sampleRate int, err error) {
	samples, sampleRate, err = LoadWAV(r.Path)
	if err != nil {
		return nil, 0, err
	}
	if r.NumSamples > 0 && len(samples) != r.NumSamples {
		return nil, 0, errors.Errorf("%s: %d samples, metadata says %d", r.Path, len(samples), r.NumSamples)
	}
	return samples, sampleRate, nil
}

// fsddName parses a recording's file name, DIGIT_SPEAKER_TAKE.wav.
func fsddName(name string) (digit int, speaker string, take int, err error) {
	stem, ok := strings.CutSuffix(name, ".wav")
	parts := strings.Split(stem, "_")
	if !ok || len(parts) != 3 || parts[1] == "" {
		return 0, "", 0, errors.Errorf("recording name %q is not DIGIT_SPEAKER_TAKE.wav", name)
	}
	digit, err1 := strconv.Atoi(parts[0])
	take, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || digit < 0 || digit > 9 || take < 0 {
		return 0, "", 0, errors.Errorf("recording name %q is not DIGIT_SPEAKER_TAKE.wav", name)
	}
	return digit, parts[1], take, nil
}

// LoadFSDD reads metadata.tsv of the Free Spoken Digit Dataset in dir and
// returns its recordings, in file order. The file is tab-separated with a header
// naming the columns path, digit, speaker, index (the take), split and
// optionally num_samples; each path is relative to dir and must agree with the
// digit, speaker and take. Audio is read only by Recording.Samples.
func LoadFSDD(dir string) ([]Recording, error) {
	meta := filepath.Join(dir, "metadata.tsv")
	lines, err := LoadLines(meta)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, errors.Errorf("%s: empty file", meta)
	}
	col := map[string]int{}
	header := strings.Split(lines[0], "\t")
	for i, h := range header {
		col[h] = i
	}
	for _, need := range []string{"path", "digit", "speaker", "index", "split"} {
		if _, ok := col[need]; !ok {
			return nil, lineError(meta, 1, "header lacks the column %q", need)
		}
	}
	_, hasSamples := col["num_samples"]
	recs := make([]Recording, 0, len(lines)-1)
	for i, line := range lines[1:] {
		n := i + 2
		f := strings.Split(line, "\t")
		if len(f) != len(header) {
			return nil, lineError(meta, n, "%d fields, want %d", len(f), len(header))
		}
		rel := f[col["path"]]
		if rel == "" || path.IsAbs(rel) || filepath.IsAbs(rel) || strings.Contains(rel, "\\") ||
			path.Clean(rel) != rel || strings.HasPrefix(rel, "../") {
			return nil, lineError(meta, n, "path %q is not a plain relative path", rel)
		}
		digit, speaker, take, err := fsddName(path.Base(rel))
		if err != nil {
			return nil, lineError(meta, n, "%v", err)
		}
		r := Recording{Digit: digit, Speaker: speaker, Take: take, Split: f[col["split"]], Path: filepath.Join(dir, filepath.FromSlash(rel))}
		if f[col["digit"]] != strconv.Itoa(digit) || f[col["speaker"]] != speaker || f[col["index"]] != strconv.Itoa(take) {
			return nil, lineError(meta, n, "digit, speaker and index (%s, %s, %s) disagree with the file name %s",
				f[col["digit"]], f[col["speaker"]], f[col["index"]], path.Base(rel))
		}
		if r.Split != "train" && r.Split != "test" {
			return nil, lineError(meta, n, "split %q, want train or test", r.Split)
		}
		if hasSamples {
			s, err := strconv.Atoi(f[col["num_samples"]])
			if err != nil || s <= 0 {
				return nil, lineError(meta, n, "bad num_samples %q", f[col["num_samples"]])
			}
			r.NumSamples = s
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// fsddMetadata builds metadata.tsv from the recordings in dir/recordings: a
// header, then one line per recording sorted by path with its digit, speaker,
// take, split (test for takes below FSDDTestTakes) and number of samples.
func fsddMetadata(dir string) ([]byte, error) {
	recDir := filepath.Join(dir, "recordings")
	entries, err := os.ReadDir(recDir) // sorted by name
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("path\tdigit\tspeaker\tindex\tsplit\tnum_samples\n")
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".wav") {
			continue
		}
		digit, speaker, take, err := fsddName(e.Name())
		if err != nil {
			return nil, errors.Wrap(err, recDir)
		}
		p := filepath.Join(recDir, e.Name())
		fh, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		_, frames, err := ReadWAVHeader(fh)
		fh.Close()
		if err != nil {
			return nil, errors.Wrap(err, p)
		}
		split := "train"
		if take < FSDDTestTakes {
			split = "test"
		}
		fmt.Fprintf(&b, "recordings/%s\t%d\t%s\t%d\t%s\t%d\n", e.Name(), digit, speaker, take, split, frames)
	}
	return b.Bytes(), nil
}

// deriveFSDDMetadata writes metadata.tsv for the recordings in dir.
func deriveFSDDMetadata(dir string) error {
	b, err := fsddMetadata(dir)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "metadata.tsv"), b)
}
