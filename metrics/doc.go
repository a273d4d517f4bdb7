// Package metrics evaluates models: classification accuracy and confusion
// matrices, language-model perplexity, corpus BLEU (sacreBLEU-compatible on
// detokenised text, NLTK-compatible on pre-tokenised text), ROUGE-N and
// ROUGE-L, and Levenshtein-based error rates (WER, CER and any token type).
//
// Every function validates its input and returns an error, wrapped with
// context, for empty or mismatched arguments; none of them panics on bad data.
//
// Conventions follow the reference implementations the numbers are usually compared
// with:
//
//   - SacreBLEU and SentenceBLEU reproduce sacreBLEU 2.x (Post 2018,
//     "A Call for Clarity in Reporting BLEU Scores"): the 13a tokeniser of
//     mteval-v13a.pl, n-gram orders 1 to 4, brevity penalty from the closest
//     reference length of each segment, 'exp' smoothing by default, and a
//     signature string of the options used.
//   - CorpusBLEU reproduces nltk.translate.bleu_score.corpus_bleu with its
//     default uniform weights and no smoothing.
//   - ROUGE follows Lin (2004), "ROUGE: A Package for Automatic Evaluation of
//     Summaries", with the tokenisation of the rouge-score package (lowercase,
//     runs of [a-z0-9] kept, no stemming).
//   - Error rates count the substitutions, insertions and deletions of a
//     minimum-cost Levenshtein alignment, divided by the reference length.
package metrics
