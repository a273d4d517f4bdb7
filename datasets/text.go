package datasets

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// lineError is a problem with the content of one line of a text file.
func lineError(name string, line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if name == "" {
		return errors.Errorf("line %d: %s", line, msg)
	}
	return errors.Errorf("%s: line %d: %s", name, line, msg)
}

// ReadLines reads UTF-8 text, one item a line: lines end in "\n" (a "\r" before
// it is dropped too) and the last line's newline is optional, so "a\nb\n" and
// "a\nb" both give ["a" "b"], and empty lines in between are kept. Invalid UTF-8
// is an error naming the line.
func ReadLines(r io.Reader) ([]string, error) {
	return readLines(r, "")
}

// readLines is ReadLines with the file's name in content errors. Read errors
// pass through unchanged (openData's readers name the file already).
func readLines(r io.Reader, name string) ([]string, error) {
	br := bufio.NewReader(r)
	var lines []string
	for n := 1; ; n++ {
		s, err := br.ReadString('\n')
		if len(s) > 0 {
			s = strings.TrimSuffix(s, "\n")
			s = strings.TrimSuffix(s, "\r")
			if !utf8.ValidString(s) {
				return nil, lineError(name, n, "invalid UTF-8 at byte %d of the line", invalidAt(s))
			}
			lines = append(lines, s)
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// invalidAt returns the offset of the first invalid UTF-8 sequence of s.
func invalidAt(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}

// LoadLines reads the lines of the text file at path (gunzipped when the name
// ends in ".gz"); see ReadLines. Errors name the file.
func LoadLines(path string) ([]string, error) {
	return loadParsed(path, func(lines []string, _ string) ([]string, error) { return lines, nil })
}

// readParsed reads the lines of r (see ReadLines) and parses them with parse;
// name is the file's name in errors ("" for none).
func readParsed[T any](r io.Reader, name string, parse func(lines []string, name string) (T, error)) (T, error) {
	lines, err := readLines(r, name)
	if err != nil {
		var zero T
		return zero, err
	}
	return parse(lines, name)
}

// loadParsed reads the lines of the text file at path (gunzipped when the name
// ends in ".gz") and parses them with parse; errors name the file.
func loadParsed[T any](path string, parse func(lines []string, name string) (T, error)) (T, error) {
	r, err := openData(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer r.Close()
	return readParsed(r, path, parse)
}

// LoadText reads the whole text file at path (gunzipped when the name ends in
// ".gz") as a string, checking that it is valid UTF-8.
func LoadText(path string) (string, error) {
	b, err := readAllData(path)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		at := invalidAt(string(b))
		line := 1 + strings.Count(string(b[:at]), "\n")
		return "", lineError(path, line, "invalid UTF-8 at byte offset %d of the file", at)
	}
	return string(b), nil
}

// LoadTinyShakespeare reads input.txt of the tinyshakespeare dataset in dir.
func LoadTinyShakespeare(dir string) (string, error) {
	return LoadText(filepath.Join(dir, "input.txt"))
}

// Pair is one aligned example of two texts: a sentence and its translation, or
// an article and its summary.
type Pair struct {
	// Source is the input text (the sentence to translate, the article).
	Source string
	// Target is the output text (the translation, the headline).
	Target string
}

// LoadParallel reads two line-aligned text files (gunzipped when a name ends in
// ".gz"): line i of source pairs with line i of target. Their line counts must
// agree; the error names both files.
func LoadParallel(sourcePath, targetPath string) ([]Pair, error) {
	src, err := LoadLines(sourcePath)
	if err != nil {
		return nil, err
	}
	tgt, err := LoadLines(targetPath)
	if err != nil {
		return nil, err
	}
	if len(src) != len(tgt) {
		return nil, errors.Errorf("%s has %d lines but %s has %d: the files are not aligned", sourcePath, len(src), targetPath, len(tgt))
	}
	pairs := make([]Pair, len(src))
	for i := range src {
		pairs[i] = Pair{Source: src[i], Target: tgt[i]}
	}
	return pairs, nil
}

// LoadMulti30k reads one split ("train" or "val") of Multi30k from dir, from
// language src to language tgt ("en", "de"): the files SPLIT.LANG.gz.
func LoadMulti30k(dir, split, src, tgt string) ([]Pair, error) {
	if split != "train" && split != "val" {
		return nil, errors.Errorf("unknown Multi30k split %q (want train or val; the test set is kept apart)", split)
	}
	for _, l := range []string{src, tgt} {
		if l != "en" && l != "de" {
			return nil, errors.Errorf("unknown Multi30k language %q (want en or de)", l)
		}
	}
	return LoadParallel(filepath.Join(dir, split+"."+src+".gz"), filepath.Join(dir, split+"."+tgt+".gz"))
}

// LoadGigaword reads one split ("train" or "valid") of the Gigaword headline
// sample in dir: Source is the article's first sentence, Target its headline.
func LoadGigaword(dir, split string) ([]Pair, error) {
	var article, title string
	switch split {
	case "train":
		article, title = "train.article.txt", "train.title.txt"
	case "valid":
		article, title = "valid.article.filter.txt", "valid.title.filter.txt"
	default:
		return nil, errors.Errorf("unknown Gigaword split %q (want train or valid)", split)
	}
	return LoadParallel(filepath.Join(dir, article), filepath.Join(dir, title))
}

// Example is one text classification example.
type Example struct {
	// Text is the text to classify.
	Text string
	// Label indexes the label names returned with the examples.
	Label int
}

// LabeledText is one line of a classification TSV file: a class name, a TAB,
// and the text.
type LabeledText struct {
	// Label is the class name.
	Label string
	// Text is the text.
	Text string
}

// ReadLabeledTSV reads lines of the form label<TAB>text (see ReadLines for what
// a line is). Every line needs a TAB, a label without white space and a
// non-empty text; the text is everything after the first TAB.
func ReadLabeledTSV(r io.Reader) ([]LabeledText, error) {
	return readParsed(r, "", parseLabeledTSV)
}

// parseLabeledTSV parses the lines of the labelled TSV file name.
func parseLabeledTSV(lines []string, name string) ([]LabeledText, error) {
	out := make([]LabeledText, len(lines))
	for i, line := range lines {
		label, text, ok := strings.Cut(line, "\t")
		switch {
		case !ok:
			return nil, lineError(name, i+1, "no TAB between label and text")
		case label == "":
			return nil, lineError(name, i+1, "empty label")
		case strings.IndexFunc(label, unicode.IsSpace) >= 0:
			return nil, lineError(name, i+1, "label %q holds white space", label)
		case strings.TrimFunc(text, unicode.IsSpace) == "":
			return nil, lineError(name, i+1, "empty text")
		}
		out[i] = LabeledText{Label: label, Text: text}
	}
	return out, nil
}

// LoadLabeledTSV reads the classification TSV file at path (see ReadLabeledTSV)
// and returns its examples with the label names: the distinct labels of the
// file, sorted, indexed by Example.Label.
func LoadLabeledTSV(path string) ([]Example, []string, error) {
	rows, err := loadParsed(path, parseLabeledTSV)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	var names []string
	for _, row := range rows {
		if !seen[row.Label] {
			seen[row.Label] = true
			names = append(names, row.Label)
		}
	}
	sort.Strings(names)
	return toExamples(rows, names), names, nil
}

func toExamples(rows []LabeledText, names []string) []Example {
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	out := make([]Example, len(rows))
	for i, row := range rows {
		out[i] = Example{Text: row.Text, Label: index[row.Label]}
	}
	return out
}

// LoadSNIPS reads one split ("train" or "valid") of SNIPS from dir
// (snips_SPLIT.tsv). Labels index SNIPSIntents, which it returns; an intent
// outside it is an error naming the line.
func LoadSNIPS(dir, split string) ([]Example, []string, error) {
	if split != "train" && split != "valid" {
		return nil, nil, errors.Errorf("unknown SNIPS split %q (want train or valid)", split)
	}
	path := filepath.Join(dir, "snips_"+split+".tsv")
	rows, err := loadParsed(path, parseLabeledTSV)
	if err != nil {
		return nil, nil, err
	}
	names := append([]string(nil), SNIPSIntents...)
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for i, row := range rows {
		if !known[row.Label] {
			return nil, nil, lineError(path, i+1, "unknown intent %q", row.Label)
		}
	}
	return toExamples(rows, names), names, nil
}

// RTPolarityLabels are the label names LoadRTPolarity returns.
var RTPolarityLabels = []string{"negative", "positive"}

// LoadRTPolarity reads the sentence polarity dataset in dir: the lines of
// rt-polarity.neg (label 0) then those of rt-polarity.pos (label 1). It returns
// RTPolarityLabels as the label names. Empty lines are an error.
func LoadRTPolarity(dir string) ([]Example, []string, error) {
	var out []Example
	for label, file := range []string{"rt-polarity.neg", "rt-polarity.pos"} {
		path := filepath.Join(dir, file)
		lines, err := LoadLines(path)
		if err != nil {
			return nil, nil, err
		}
		for i, l := range lines {
			if strings.TrimFunc(l, unicode.IsSpace) == "" {
				return nil, nil, lineError(path, i+1, "empty line")
			}
			out = append(out, Example{Text: l, Label: label})
		}
	}
	return out, append([]string(nil), RTPolarityLabels...), nil
}

// CMUPhones are the 39 phonemes of the CMU pronouncing dictionary (ARPAbet,
// without stress marks), as its documentation at
// http://www.speech.cs.cmu.edu/cgi-bin/cmudict lists them.
var CMUPhones = []string{
	"AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY",
	"F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P",
	"R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
}

var cmuPhoneSet = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range CMUPhones {
		m[p] = true
	}
	return m
}()

// Pronunciation is one entry of a pronouncing dictionary.
type Pronunciation struct {
	// Word is the word as the dictionary spells it, without a variant suffix.
	Word string
	// Variant numbers the word's alternative pronunciations: 1 for the first,
	// n for an entry written "word(n)".
	Variant int
	// Phones are the phonemes, as written (a vowel may carry a stress digit 0-2).
	Phones []string
}

// ReadCMUDict reads a CMU-style pronouncing dictionary: one entry a line, the
// word (with "(n)" for the n-th variant) and its phonemes separated by white
// space. Lines starting with ";;;" are comments; empty lines are skipped. Each
// phoneme must be one of CMUPhones, optionally followed by a stress digit.
func ReadCMUDict(r io.Reader) ([]Pronunciation, error) {
	return readParsed(r, "", parseCMUDict)
}

// parseCMUDict parses the lines of the pronouncing dictionary name.
func parseCMUDict(lines []string, name string) ([]Pronunciation, error) {
	out := make([]Pronunciation, 0, len(lines))
	for i, line := range lines {
		if strings.HasPrefix(line, ";;;") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 {
			return nil, lineError(name, i+1, "word %q has no phonemes", fields[0])
		}
		word, variant := fields[0], 1
		if open := strings.LastIndexByte(word, '('); open > 0 && strings.HasSuffix(word, ")") {
			v, err := strconv.Atoi(word[open+1 : len(word)-1])
			if err != nil || v < 1 {
				return nil, lineError(name, i+1, "bad variant suffix in %q", word)
			}
			word, variant = word[:open], v
		}
		for _, p := range fields[1:] {
			base := strings.TrimRight(p, "012")
			if !cmuPhoneSet[base] || len(p)-len(base) > 1 {
				return nil, lineError(name, i+1, "unknown phoneme %q", p)
			}
		}
		out = append(out, Pronunciation{Word: word, Variant: variant, Phones: fields[1:]})
	}
	return out, nil
}

// LoadCMUDict reads cmudict-en-us.dict.gz of the cmudict dataset in dir; see
// ReadCMUDict.
func LoadCMUDict(dir string) ([]Pronunciation, error) {
	return loadParsed(filepath.Join(dir, "cmudict-en-us.dict.gz"), parseCMUDict)
}
