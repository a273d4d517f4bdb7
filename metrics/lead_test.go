package metrics

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func pairs(docRefs ...string) []SummaryPair {
	var out []SummaryPair
	for i := 0; i+1 < len(docRefs); i += 2 {
		out = append(out, SummaryPair{Words: strings.Fields(docRefs[i]), Reference: docRefs[i+1]})
	}
	return out
}

func TestLeadBaseline(t *testing.T) {
	train := pairs(
		"zqax opened the bank in paris on monday , officials said .", "zqax opens bank in paris",
		"zqbx closed the port in oslo on friday , officials said .", "zqbx closes port in oslo",
	)
	valid := pairs("zqcx visited the school in lima on tuesday , officials said .", "zqcx visits school in lima")
	res, err := LeadBaseline(train, valid, 10)
	require.NoError(t, err)
	// The lead-6 prefix "NAME VERBed the NOUN in PLACE" shares 4 of its 6 words
	// with the 5-word headline: ROUGE-1 F1 = 2 (4/6)(4/5) / (4/6 + 4/5) = 8/11, the
	// best mean of the three scores of any prefix.
	require.Equal(t, 6, res.N)
	require.InDelta(t, 8.0/11, res.Valid.Rouge1, 1e-12)
	require.InDelta(t, 8.0/11, res.Train.Rouge1, 1e-12)
	require.Equal(t, 2, res.Train.Pairs)
	require.Equal(t, 1, res.Valid.Pairs)
	require.InDelta(t, (res.Valid.Rouge1+res.Valid.Rouge2+res.Valid.RougeL)/3, res.Valid.Mean, 1e-15)
	require.NotEmpty(t, res.ChosenBy)

	// scores equal to those of the lead texts scored as strings
	f, err := MeanRougeF1([]string{valid[0].Reference}, LeadTexts(valid, res.N))
	require.NoError(t, err)
	require.InDelta(t, res.Valid.Mean, f.Mean, 1e-12)
	require.Equal(t, 1, f.Pairs)
}

func TestLeadBaselineTiesAndLimits(t *testing.T) {
	// every prefix beyond the first word adds nothing the reference has: N = 1
	train := pairs("alpha x y z", "alpha")
	res, err := LeadBaseline(train, train, 4)
	require.NoError(t, err)
	require.Equal(t, 1, res.N)
	require.InDelta(t, 1, res.Valid.Rouge1, 1e-12)
	// documents shorter than N: the whole document
	same := pairs("a b", "a b")
	res, err = LeadBaseline(same, same, 5)
	require.NoError(t, err)
	require.Equal(t, 2, res.N, "the smallest N of the best score")

	_, err = LeadBaseline(nil, train, 3)
	require.Error(t, err)
	_, err = LeadBaseline(train, nil, 3)
	require.Error(t, err)
	_, err = LeadBaseline(train, train, 0)
	require.Error(t, err)
	_, err = MeanRougeF1([]string{"a"}, nil)
	require.Error(t, err)
}

func TestLead(t *testing.T) {
	w := strings.Fields("the first words of a story")
	require.Equal(t, "the first", Lead(w, 2))
	require.Equal(t, "the first words of a story", Lead(w, 10))
	require.Equal(t, "", Lead(nil, 3))
	require.Equal(t, []string{"a b", "c"}, LeadTexts(pairs("a b c", "x", "c", "y"), 2))
}
