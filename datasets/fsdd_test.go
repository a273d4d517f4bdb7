package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFSDD writes a tiny FSDD-shaped dataset: digits 0-1, speaker "ann", takes
// 0-6, recording (d, take) holding take+1 samples; and its metadata.
func writeFSDD(t *testing.T, dir string) {
	for d := 0; d < 2; d++ {
		for take := 0; take < 7; take++ {
			s := make([]int16, take+1)
			s[0] = int16(1000 * (d + 1))
			writeFile(t, filepath.Join(dir, "recordings", fmt.Sprintf("%d_ann_%d.wav", d, take)),
				wavBytes(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16}, pcm16(s...)))
		}
	}
	require.NoError(t, deriveFSDDMetadata(dir))
}

func TestLoadFSDDFixture(t *testing.T) {
	dir := t.TempDir()
	writeFSDD(t, dir)
	meta, err := os.ReadFile(filepath.Join(dir, "metadata.tsv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(meta), "\n"), "\n")
	require.Len(t, lines, 15)
	assert.Equal(t, "path\tdigit\tspeaker\tindex\tsplit\tnum_samples", lines[0])
	assert.Equal(t, "recordings/0_ann_0.wav\t0\tann\t0\ttest\t1", lines[1])

	recs, err := LoadFSDD(dir)
	require.NoError(t, err)
	require.Len(t, recs, 14)
	test := 0
	for _, r := range recs {
		want := "train"
		if r.Take < 5 {
			want = "test"
			test++
		}
		assert.Equal(t, want, r.Split, "%+v", r)
		assert.Equal(t, "ann", r.Speaker)
		assert.Equal(t, r.Take+1, r.NumSamples)
	}
	assert.Equal(t, 10, test)
	s, rate, err := recs[0].Samples()
	require.NoError(t, err)
	assert.Equal(t, 8000, rate)
	assert.Equal(t, []float32{1000.0 / 32768}, s)

	// A recording shorter than the metadata says.
	r := recs[3]
	r.NumSamples++
	_, _, err = r.Samples()
	require.Error(t, err)
	assert.Contains(t, err.Error(), r.Path)
}

func TestLoadFSDDErrors(t *testing.T) {
	head := "path\tdigit\tspeaker\tindex\tsplit\tnum_samples\n"
	cases := []struct{ meta, want string }{
		{"", "empty file"},
		{"path\tdigit\tspeaker\tsplit\n", "header lacks the column \"index\""},
		{head + "recordings/0_a_0.wav\t0\ta\t0\ttest\n", "line 2: 5 fields, want 6"},
		{head + "recordings/0_a_0.wav\t1\ta\t0\ttest\t9\n", "disagree with the file name"},
		{head + "recordings/0_a_0.wav\t0\ta\t0\tdev\t9\n", "split \"dev\""},
		{head + "recordings/0_a_0.wav\t0\ta\t0\ttest\tmany\n", "bad num_samples"},
		{head + "../0_a_0.wav\t0\ta\t0\ttest\t9\n", "not a plain relative path"},
		{head + "/abs/0_a_0.wav\t0\ta\t0\ttest\t9\n", "not a plain relative path"},
		{head + "recordings/zero_a_0.wav\t0\ta\t0\ttest\t9\n", "not DIGIT_SPEAKER_TAKE.wav"},
		{head + "recordings/0_a_0.mp3\t0\ta\t0\ttest\t9\n", "not DIGIT_SPEAKER_TAKE.wav"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "metadata.tsv"), []byte(c.meta))
		_, err := LoadFSDD(dir)
		require.Error(t, err, "%q", c.meta)
		assert.Contains(t, err.Error(), "metadata.tsv")
		assert.Contains(t, err.Error(), c.want, "%q", c.meta)
	}
	_, err := LoadFSDD(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metadata.tsv")

	// Building metadata from a corrupt recording names it.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "recordings", "1_b_2.wav"), []byte("RIFF"))
	err = deriveFSDDMetadata(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1_b_2.wav")
}

// The recordings' manifest digest is that of the verified local copy, so a
// download is checked against real content.
func TestFSDDManifestMatchesLocalCopy(t *testing.T) {
	dir := realData(t, "fsdd")
	sum, err := setManifest(filepath.Join(dir, "recordings"), ".wav")
	require.NoError(t, err)
	assert.Equal(t, fsddRecordingsManifest, sum)
	assert.Contains(t, fsddArchive, "/archive/"+FSDDCommit+".tar.gz")
}
