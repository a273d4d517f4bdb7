package datasets

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DatePair is one example of date normalisation: a date as a person might write
// it (Source) and the same date in ISO 8601 (Target, "2006-01-02").
type DatePair struct {
	Source string
	Target string
}

// DateISO is the layout of DatePair.Target (time.Format's reference date).
const DateISO = "2006-01-02"

// dateLang holds one language's month and weekday names (weekdays Sunday first)
// and the ways it writes a date. Placeholders: {D} day, {DD} two-digit day, {D1}
// French day (1er for the first), {ORD} English ordinal day, {M}/{MM} month number,
// {MONTH} month name, {MON} abbreviated month, {WD} weekday, {YYYY} year.
type dateLang struct {
	months, abbr [12]string
	weekdays     [7]string
	formats      []string
}

var dateLangs = []dateLang{
	{ // English
		months:   [12]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"},
		abbr:     [12]string{"jan.", "feb.", "mar.", "apr.", "may", "jun.", "jul.", "aug.", "sep.", "oct.", "nov.", "dec."},
		weekdays: [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"},
		formats: []string{"{MONTH} {D}, {YYYY}", "{MON} {D}, {YYYY}", "{WD}, {MONTH} {D}, {YYYY}", "{D} {MONTH} {YYYY}",
			"{D} {MON} {YYYY}", "{WD}, {D} {MON} {YYYY}", "{MONTH} {ORD}, {YYYY}", "the {ORD} of {MONTH} {YYYY}", "{WD} {ORD} {MONTH} {YYYY}"},
	},
	{ // French
		months:   [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		abbr:     [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."},
		weekdays: [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
		formats:  []string{"{D1} {MONTH} {YYYY}", "{WD} {D1} {MONTH} {YYYY}", "le {D1} {MONTH} {YYYY}", "{D1} {MON} {YYYY}"},
	},
	{ // German
		months:   [12]string{"januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "dezember"},
		abbr:     [12]string{"jan.", "feb.", "märz", "apr.", "mai", "juni", "juli", "aug.", "sept.", "okt.", "nov.", "dez."},
		weekdays: [7]string{"sonntag", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag"},
		formats:  []string{"{D}. {MONTH} {YYYY}", "{WD}, {D}. {MONTH} {YYYY}", "{D}. {MON} {YYYY}", "{WD}, den {D}. {MONTH} {YYYY}"},
	},
	{ // Spanish
		months:   [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		abbr:     [12]string{"ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.", "nov.", "dic."},
		weekdays: [7]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
		formats:  []string{"{D} de {MONTH} de {YYYY}", "{WD}, {D} de {MONTH} de {YYYY}", "{D} {MON} {YYYY}"},
	},
	{ // Italian
		months:   [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		abbr:     [12]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"},
		weekdays: [7]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"},
		formats:  []string{"{D} {MONTH} {YYYY}", "{WD} {D} {MONTH} {YYYY}", "{D} {MON} {YYYY}"},
	},
	{ // numeric, day before month (never month/day: 03/04 would be ambiguous)
		formats: []string{"{DD}/{MM}/{YYYY}", "{D}/{M}/{YYYY}", "{DD}.{MM}.{YYYY}", "{D}.{M}.{YYYY}", "{DD}-{MM}-{YYYY}",
			"{YYYY}/{MM}/{DD}", "{YYYY}.{MM}.{DD}", "{YYYY}{MM}{DD}", "{YYYY}-{MM}-{DD}"},
	},
}

// dateFormat is one (language, template) pair.
type dateFormat struct {
	lang     *dateLang
	template string
}

// dateFormats lists every format of every language, the population RandomDate
// draws from uniformly.
var dateFormats = func() []dateFormat {
	var fs []dateFormat
	for i := range dateLangs {
		for _, f := range dateLangs[i].formats {
			fs = append(fs, dateFormat{lang: &dateLangs[i], template: f})
		}
	}
	return fs
}()

// Dates lie in [dateFirst, dateFirst + dateDays).
var (
	dateFirst = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	dateDays  = int(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Sub(dateFirst).Hours() / 24)
)

// RandomDate draws a date uniformly from 1900-2099, then one of the formats of
// English, French, German, Spanish, Italian and day-first numeric dates
// uniformly, then a letter case (as written, capitalised words, or upper case),
// in that order from rng: the same stream gives the same pairs.
func RandomDate(rng *rand.Rand) DatePair {
	d := dateFirst.AddDate(0, 0, rng.IntN(dateDays))
	f := dateFormats[rng.IntN(len(dateFormats))]
	return DatePair{Source: formatDate(d, f, rng.IntN(3)), Target: d.Format(DateISO)}
}

// formatDate writes d in format f with letter case c (0 as written, 1 capitalised
// words, 2 upper case).
func formatDate(d time.Time, f dateFormat, c int) string {
	day, month := d.Day(), int(d.Month())
	l := f.lang
	r := strings.NewReplacer(
		"{DD}", fmt.Sprintf("%02d", day),
		"{D1}", frenchDay(day),
		"{D}", strconv.Itoa(day),
		"{ORD}", englishOrdinal(day),
		"{MM}", fmt.Sprintf("%02d", month),
		"{MONTH}", l.months[month-1],
		"{MON}", l.abbr[month-1],
		"{M}", strconv.Itoa(month),
		"{WD}", l.weekdays[d.Weekday()],
		"{YYYY}", fmt.Sprintf("%04d", d.Year()),
	)
	s := r.Replace(f.template)
	switch c {
	case 1:
		return capitalise(s)
	case 2:
		return strings.ToUpper(s)
	}
	return s
}

func frenchDay(d int) string {
	if d == 1 {
		return "1er"
	}
	return strconv.Itoa(d)
}

func englishOrdinal(d int) string {
	suffix := "th"
	if d < 11 || d > 13 {
		switch d % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(d) + suffix
}

// capitalise upper-cases the first letter of every word.
func capitalise(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		if start && unicode.IsLetter(r) {
			r = unicode.ToUpper(r)
		}
		start = r == ' '
		b.WriteRune(r)
	}
	return b.String()
}

// DateAlphabet returns every character RandomDate can write in a source, sorted,
// and the longest source in characters. It writes every day of a leap year in
// every format and case: other years add only digits, and no name is longer.
func DateAlphabet() (chars string, longest int) {
	seen := map[rune]bool{}
	for d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2024; d = d.AddDate(0, 0, 1) {
		for _, f := range dateFormats {
			for c := 0; c < 3; c++ {
				s := formatDate(d, f, c)
				longest = max(longest, utf8.RuneCountInString(s))
				for _, r := range s {
					seen[r] = true
				}
			}
		}
	}
	rs := make([]rune, 0, len(seen))
	for r := range seen {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	return string(rs), longest
}
