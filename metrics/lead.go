package metrics

import (
	"strings"

	"github.com/pkg/errors"
)

// RougeF1 is the mean ROUGE-1, ROUGE-2 and ROUGE-L F1 of a set of candidates
// against their references, as a summary reports them.
type RougeF1 struct {
	Rouge1 float64 `json:"rouge1_f1"`
	Rouge2 float64 `json:"rouge2_f1"`
	RougeL float64 `json:"rougeL_f1"`
	// Mean is the mean of the three scores, one number to rank systems by.
	Mean float64 `json:"mean"`
	// Pairs is the number of (reference, candidate) pairs scored.
	Pairs int `json:"pairs"`
}

// MeanRougeF1 returns the F1 scores of MeanRouge and their mean.
func MeanRougeF1(references, candidates []string) (RougeF1, error) {
	r, err := MeanRouge(references, candidates)
	if err != nil {
		return RougeF1{}, err
	}
	return RougeF1{Rouge1: r.Rouge1.F1, Rouge2: r.Rouge2.F1, RougeL: r.RougeL.F1,
		Mean: (r.Rouge1.F1 + r.Rouge2.F1 + r.RougeL.F1) / 3, Pairs: len(references)}, nil
}

// SummaryPair is a document, split into words, and its reference summary.
type SummaryPair struct {
	Words     []string
	Reference string
}

// LeadResult is a lead-N baseline: the summary of a document is its first N
// words, N chosen on the training pairs.
type LeadResult struct {
	N        int     `json:"n"`
	ChosenBy string  `json:"chosen_by"`
	Train    RougeF1 `json:"train"`
	Valid    RougeF1 `json:"valid"`
}

// LeadBaseline chooses N in 1..maxN maximising the mean of ROUGE-1, ROUGE-2 and
// ROUGE-L F1 of the first N words of the training documents (the smallest N on
// ties) and scores that N on the validation pairs. The lead of a document is a
// strong baseline for news, whose first sentence usually states the story
// (See et al. 2017 report lead-3 sentences above every abstractive model).
func LeadBaseline(train, valid []SummaryPair, maxN int) (LeadResult, error) {
	res := LeadResult{ChosenBy: "mean of ROUGE-1, ROUGE-2 and ROUGE-L F1 on the training pairs"}
	if len(train) == 0 || len(valid) == 0 || maxN < 1 {
		return res, errors.Errorf("lead baseline: %d training and %d validation pairs, N up to %d", len(train), len(valid), maxN)
	}
	tp, tr := prepareLead(train)
	for n := 1; n <= maxN; n++ {
		f, err := scoreLead(tp, tr, n)
		if err != nil {
			return res, err
		}
		if res.N == 0 || f.Mean > res.Train.Mean {
			res.N, res.Train = n, f
		}
	}
	vp, vr := prepareLead(valid)
	var err error
	res.Valid, err = scoreLead(vp, vr, res.N)
	return res, err
}

// prepareLead tokenises every word of the documents and the references once:
// ROUGE's tokens of a prefix are the concatenated tokens of its words, since
// white space separates tokens, so every N reuses them.
func prepareLead(set []SummaryPair) (words [][][]string, refs [][]string) {
	words = make([][][]string, len(set))
	refs = make([][]string, len(set))
	for i, p := range set {
		for _, w := range p.Words {
			words[i] = append(words[i], RougeTokenize(w))
		}
		refs[i] = RougeTokenize(p.Reference)
	}
	return words, refs
}

// scoreLead returns the mean ROUGE F1 of the first n words of every document.
func scoreLead(words [][][]string, refs [][]string, n int) (RougeF1, error) {
	var f RougeF1
	for i, doc := range words {
		var cand []string
		for _, w := range doc[:min(n, len(doc))] {
			cand = append(cand, w...)
		}
		r1, err := RougeNTokens(refs[i], cand, 1)
		if err != nil {
			return f, err
		}
		r2, err := RougeNTokens(refs[i], cand, 2)
		if err != nil {
			return f, err
		}
		f.Rouge1 += r1.F1
		f.Rouge2 += r2.F1
		f.RougeL += RougeLTokens(refs[i], cand).F1
	}
	k := float64(len(words))
	f.Rouge1, f.Rouge2, f.RougeL, f.Pairs = f.Rouge1/k, f.Rouge2/k, f.RougeL/k, len(words)
	f.Mean = (f.Rouge1 + f.Rouge2 + f.RougeL) / 3
	return f, nil
}

// Lead returns the first n words, joined by spaces.
func Lead(words []string, n int) string { return strings.Join(words[:min(n, len(words))], " ") }

// LeadTexts returns the first n words of every document of set.
func LeadTexts(set []SummaryPair, n int) []string {
	out := make([]string, len(set))
	for i, p := range set {
		out[i] = Lead(p.Words, n)
	}
	return out
}
