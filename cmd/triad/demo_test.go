package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/train"

	"github.com/triadml/triad/graph"
)

func demoDate(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func formatIn(t *testing.T, lang int, template string, d time.Time, c int) string {
	t.Helper()
	for _, f := range dateFormats {
		if f.lang == &dateLangs[lang] && f.template == template {
			return formatDate(d, f, c)
		}
	}
	t.Fatalf("no format %q", template)
	return ""
}

func TestDateFormats(t *testing.T) {
	d := demoDate(2026, 11, 28) // a Saturday
	require.Equal(t, "saturday, 28 nov. 2026", formatIn(t, 0, "{WD}, {D} {MON} {YYYY}", d, 0))
	require.Equal(t, "November 28th, 2026", formatIn(t, 0, "{MONTH} {ORD}, {YYYY}", d, 1))
	require.Equal(t, "SAMSTAG, 28. NOVEMBER 2026", formatIn(t, 2, "{WD}, {D}. {MONTH} {YYYY}", d, 2))
	require.Equal(t, "samedi 28 novembre 2026", formatIn(t, 1, "{WD} {D1} {MONTH} {YYYY}", d, 0))
	require.Equal(t, "le 1er août 1999", formatIn(t, 1, "le {D1} {MONTH} {YYYY}", demoDate(1999, 8, 1), 0))
	require.Equal(t, "Sábado, 28 De Noviembre De 2026", formatIn(t, 3, "{WD}, {D} de {MONTH} de {YYYY}", d, 1))
	require.Equal(t, "28/11/2026", formatIn(t, 5, "{DD}/{MM}/{YYYY}", d, 0))
	require.Equal(t, "05.03.1907", formatIn(t, 5, "{DD}.{MM}.{YYYY}", demoDate(1907, 3, 5), 0))
	for d, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 23: "23rd", 31: "31st"} {
		require.Equal(t, want, englishOrdinal(d))
	}
}

func TestRandomDatesAreConsistent(t *testing.T) {
	alphabet, longest := dateAlphabet()
	v := newCharVocab(alphabet)
	rng := graph.NewRNG(3, "test")
	for i := 0; i < 2000; i++ {
		p := randomDate(rng)
		d, err := time.Parse("2006-01-02", p.tgt)
		require.NoError(t, err)
		require.True(t, d.Year() >= 1900 && d.Year() < 2100)
		require.LessOrEqual(t, utf8.RuneCountInString(p.src), longest)
		for _, id := range v.encode(p.src) {
			require.NotEqual(t, demoUnk, id, "character of %q outside the alphabet", p.src)
		}
		// the year is always written out in full
		require.Contains(t, p.src, p.tgt[:4])
	}
	require.Equal(t, "2026-11-28", newCharVocab("-0123456789").decode(newCharVocab("-0123456789").encode("2026-11-28")))
}

// The demo runs end to end in a few steps and writes its run directory.
func TestDemoRunsAFewSteps(t *testing.T) {
	for _, model := range []string{"rnn", "transformer"} {
		t.Run(model, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			args := []string{"--out", dir, "--model", model, "--max-steps", "3", "--eval-every", "3", "--log-every", "1",
				"--test-size", "12", "--beam-eval", "2", "--examples", "2", "--batch", "4",
				"--embed", "8", "--hidden", "8", "--attn-dim", "8", "--dim", "8", "--heads", "2", "--ff", "8", "--layers", "1"}
			require.NoError(t, demoMain(args))
			for _, f := range []string{"config.json", "metrics.jsonl", "summary.json", "results.json", "attention.png", "attention_3.png"} {
				_, err := os.Stat(filepath.Join(dir, f))
				require.NoError(t, err, f)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "results.json"))
			require.NoError(t, err)
			var res struct {
				ExactMatch float64 `json:"exact_match"`
				TestSize   int     `json:"test_size"`
				Steps      int     `json:"steps"`
				Examples   []struct{ Source, Target string }
			}
			require.NoError(t, json.Unmarshal(raw, &res))
			require.Equal(t, 12, res.TestSize)
			require.Equal(t, 3, res.Steps)
			require.Len(t, res.Examples, 2)
			require.True(t, strings.HasPrefix(res.Examples[0].Target, res.Examples[0].Target[:4]))
		})
	}
}

func TestDemoBadFlags(t *testing.T) {
	err := demoMain([]string{"--out", t.TempDir(), "--model", "cnn"})
	require.ErrorContains(t, err, `unknown model "cnn"`)
	var ue train.UsageError
	require.ErrorAs(t, err, &ue)
	require.ErrorContains(t, demoMain([]string{"--out", t.TempDir(), "--batch", "0"}), "must be positive")
}
