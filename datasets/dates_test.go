package datasets

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
)

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

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
	d := day(2026, 11, 28) // a Saturday
	require.Equal(t, "saturday, 28 nov. 2026", formatIn(t, 0, "{WD}, {D} {MON} {YYYY}", d, 0))
	require.Equal(t, "November 28th, 2026", formatIn(t, 0, "{MONTH} {ORD}, {YYYY}", d, 1))
	require.Equal(t, "SAMSTAG, 28. NOVEMBER 2026", formatIn(t, 2, "{WD}, {D}. {MONTH} {YYYY}", d, 2))
	require.Equal(t, "samedi 28 novembre 2026", formatIn(t, 1, "{WD} {D1} {MONTH} {YYYY}", d, 0))
	require.Equal(t, "le 1er août 1999", formatIn(t, 1, "le {D1} {MONTH} {YYYY}", day(1999, 8, 1), 0))
	require.Equal(t, "Sábado, 28 De Noviembre De 2026", formatIn(t, 3, "{WD}, {D} de {MONTH} de {YYYY}", d, 1))
	require.Equal(t, "28/11/2026", formatIn(t, 5, "{DD}/{MM}/{YYYY}", d, 0))
	require.Equal(t, "05.03.1907", formatIn(t, 5, "{DD}.{MM}.{YYYY}", day(1907, 3, 5), 0))
	for d, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 23: "23rd", 31: "31st"} {
		require.Equal(t, want, englishOrdinal(d))
	}
}

func TestRandomDatesAreConsistent(t *testing.T) {
	alphabet, longest := DateAlphabet()
	rng := graph.NewRNG(3, "test")
	for i := 0; i < 2000; i++ {
		p := RandomDate(rng)
		d, err := time.Parse(DateISO, p.Target)
		require.NoError(t, err)
		require.True(t, d.Year() >= 1900 && d.Year() < 2100)
		require.LessOrEqual(t, utf8.RuneCountInString(p.Source), longest)
		for _, r := range p.Source {
			require.True(t, strings.ContainsRune(alphabet, r), "character %q of %q outside the alphabet", r, p.Source)
		}
		// the year is always written out in full
		require.Contains(t, p.Source, p.Target[:4])
	}
}

// The same stream gives the same pairs, so a seed names a data set.
func TestRandomDateIsAFunctionOfTheStream(t *testing.T) {
	a, b := graph.NewRNG(7, "dates"), graph.NewRNG(7, "dates")
	for i := 0; i < 100; i++ {
		require.Equal(t, RandomDate(a), RandomDate(b))
	}
}
