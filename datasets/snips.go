package datasets

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// RepairCESU8 rewrites the CESU-8 encodings of supplementary characters in b (a
// UTF-16 surrogate pair, each half encoded as a three-byte UTF-8 sequence, as
// some Java and JavaScript programs write them) as the four-byte UTF-8 sequences of
// the characters they stand for. Everything else, valid or not, is copied as it
// is. It returns b itself when there is nothing to repair.
func RepairCESU8(b []byte) []byte {
	// A high surrogate D800-DBFF encodes as ED A0-AF 80-BF, a low one DC00-DFFF
	// as ED B0-BF 80-BF.
	isHalf := func(b []byte, lo, hi byte) bool {
		return len(b) >= 3 && b[0] == 0xED && b[1] >= lo && b[1] <= hi && b[2]&0xC0 == 0x80
	}
	if !bytes.Contains(b, []byte{0xED}) {
		return b
	}
	var out []byte
	last := 0
	for i := 0; i+6 <= len(b); i++ {
		if !isHalf(b[i:], 0xA0, 0xAF) || !isHalf(b[i+3:], 0xB0, 0xBF) {
			continue
		}
		hi := rune(0xD000) | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F)
		lo := rune(0xD000) | rune(b[i+4]&0x3F)<<6 | rune(b[i+5]&0x3F)
		r := utf16.DecodeRune(hi, lo)
		out = append(out, b[last:i]...)
		out = utf8.AppendRune(out, r)
		i += 5
		last = i + 1
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// snipsUtterances reads one JSON file of the SNIPS benchmark,
// {"INTENT": [{"data": [{"text": ...}, ...]}, ...]}, and returns each
// utterance's text: its pieces joined, runs of white space made one space.
func snipsUtterances(path, intent string) ([]string, error) {
	raw, err := readAllData(path)
	if err != nil {
		return nil, err
	}
	var doc map[string][]struct {
		Data []struct {
			Text string `json:"text"`
		} `json:"data"`
	}
	if err := json.Unmarshal(RepairCESU8(raw), &doc); err != nil {
		return nil, errors.Wrapf(err, "%s: bad JSON", path)
	}
	utts, ok := doc[intent]
	if !ok || len(doc) != 1 {
		return nil, errors.Errorf("%s: want one key %q", path, intent)
	}
	out := make([]string, len(utts))
	for i, u := range utts {
		var b strings.Builder
		for _, piece := range u.Data {
			b.WriteString(piece.Text)
		}
		out[i] = strings.Join(strings.Fields(b.String()), " ")
		if out[i] == "" {
			return nil, errors.Errorf("%s: utterance %d of %s is empty", path, i, intent)
		}
	}
	return out, nil
}

// snipsTSV builds one split's TSV ("train" or "validate" files) from dir/original.
func snipsTSV(dir, kind string) ([]byte, error) {
	var b bytes.Buffer
	for _, intent := range SNIPSIntents {
		name := "validate_" + intent + ".json.gz"
		if kind == "train" {
			name = "train_" + intent + "_full.json.gz"
		}
		utts, err := snipsUtterances(filepath.Join(dir, "original", name), intent)
		if err != nil {
			return nil, err
		}
		for _, u := range utts {
			b.WriteString(intent)
			b.WriteByte('\t')
			b.WriteString(u)
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), nil
}

// deriveSNIPS writes snips_train.tsv and snips_valid.tsv from the JSON files in
// dir/original.
func deriveSNIPS(dir string) error {
	for _, s := range [][2]string{{"train", "snips_train.tsv"}, {"validate", "snips_valid.tsv"}} {
		b, err := snipsTSV(dir, s[0])
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, s[1]), b); err != nil {
			return err
		}
	}
	return nil
}
