#!/usr/bin/env python3
"""Generate the test fixtures of the metrics package (metrics/testdata/*.json).

Run from the repository root with Debian's Python 3 and python3-nltk:

    /usr/bin/python3 scripts/fixtures_metrics.py

Oracles:
  * nltk.translate.bleu_score.corpus_bleu (NLTK 3.8) for CorpusBLEU;
  * nltk.metrics.distance.edit_distance for EditDistance;
  * Python's own `re` engine and str.lower()/str.split() for the 13a tokeniser:
    the function tok13a below restates the rules of mteval-v13a.pl (sub
    tokenization) and sacreBLEU's tokenizer_13a.py / tokenizer_re.py as
    regular-expression substitutions, so the Go byte scanner is compared with
    a real regex engine on many random strings;
  * for the sacreBLEU pipeline (SacreBLEU in Go), the python sacrebleu module
    is not installed here (no Debian package exists and PyPI is unreachable),
    so the expected scores are 100 * NLTK corpus_bleu on the tok13a output, in
    the regime where the two definitions coincide: every hypothesis has at
    least 4 tokens and every order has a match (then sacreBLEU's 'exp'
    smoothing never applies and NLTK's max(1, count) denominators equal
    sacreBLEU's totals).

The output is deterministic (fixed seeds) and small.
"""

import json
import os
import random
import re
import sys
import warnings

from nltk.metrics.distance import edit_distance
from nltk.translate.bleu_score import corpus_bleu

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "metrics", "testdata"))

# --- 13a tokenisation, restated from mteval-v13a.pl -------------------------
# Symbols split off everywhere: ASCII 0x20-0x26, 0x28-0x2B, 0x2F, 0x3A-0x40,
# 0x5B-0x60, 0x7B-0x7E (written here as an explicit range list).
_SYMBOLS = re.compile(r"([\x20-\x26\x28-\x2b\x2f\x3a-\x40\x5b-\x60\x7b-\x7e])")
_PERIOD_AFTER_NONDIGIT = re.compile(r"([^0-9])([.,])")
_PERIOD_BEFORE_NONDIGIT = re.compile(r"([.,])([^0-9])")
_DASH_AFTER_DIGIT = re.compile(r"([0-9])(-)")


def tok13a(line):
    for old, new in (("<skipped>", ""), ("-\n", ""), ("\n", " "),
                     ("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
        line = line.replace(old, new)
    line = " " + line + " "
    line = _SYMBOLS.sub(r" \1 ", line)
    line = _PERIOD_AFTER_NONDIGIT.sub(r"\1 \2 ", line)
    line = _PERIOD_BEFORE_NONDIGIT.sub(r" \1 \2", line)
    line = _DASH_AFTER_DIGIT.sub(r"\1 \2 ", line)
    return line.split()


def sacre_tokens(line, lowercase=False, tokenize="13a"):
    """sacreBLEU's segment preprocessing: lower(), rstrip(), tokenise."""
    if lowercase:
        line = line.lower()
    line = line.rstrip()
    return tok13a(line) if tokenize == "13a" else line.split()


# --- random material ----------------------------------------------------------
_PIECES = (list("abcdefXYZ0123456789") * 3 + list(".,-'\"&;:!?()[]{}<>/\\_`~@#$%^*+=|") +
           [" ", " ", " ", "\n", "-\n", "\t", "\x1c", "\xa0", "\u3000", "&quot;", "&amp;",
            "&lt;", "&gt;", "&amp;lt;", "<skipped>", "é", "—", "…", "“", "”", "İ", "Σ", "ß",
            "1.5", "3,000", "a.b", "x-1", "10-20", "U.S.", "e.g.,"])


def random_line(rng, n):
    return "".join(rng.choice(_PIECES) for _ in range(n))


def tokenizer_fixture():
    hand = [
        "Hello, world.", "It's 3.14 and 1,000,000.", "Mr. Smith-Jones paid $5.",
        "end-\nof line", "one\ntwo", "a&quot;b&quot; &amp; c&lt;d&gt;", "&amp;lt;",
        "<skipped> skipped", "snake_case @home #tag", "pages 10-20 and x-ray",
        "a..b", ".5 and 5. and ,5", "U.S.A.", "e.g., this", "“curly” — dash…",
        "tab\tsep\x1cfs\xa0nbsp\u3000ideo", "", "   ", "foo-\n", "(a) [b] {c}",
    ]
    rng = random.Random(13)
    rand = [random_line(rng, rng.randint(1, 30)) for _ in range(250)]
    cases = [{"in": s, "tokens": tok13a(s)} for s in hand + rand]
    lower_in = ["İstanbul", "ΟΔΟΣ ΟΔΟΣ.", "ΣΑΣ", "Σ", "AΣ'B", "ΑΣ\u0301", "MiXeD ÄÖÜ ẞ"]
    lower_in += [random_line(rng, rng.randint(1, 20)) for _ in range(100)]
    lower = [{"in": s, "out": s.lower()} for s in lower_in]
    return {"source": "scripts/fixtures_metrics.py (tok13a restates mteval-v13a.pl)",
            "tok13a": cases, "lower": lower}


_WORDS = "the a cat dog sat on mat and ran fast slow big red".split()


def random_tokens(rng, lo, hi):
    return [rng.choice(_WORDS) for _ in range(rng.randint(lo, hi))]


def nltk_bleu(refs, hyps, weights):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(corpus_bleu(refs, hyps, weights=weights))


def bleu_fixture():
    rng = random.Random(2002)
    cases = []
    weight_sets = [(0.25, 0.25, 0.25, 0.25), (0.5, 0.5), (1 / 3, 1 / 3, 1 / 3), (0.1, 0.2, 0.3, 0.4)]
    for c in range(60):
        nseg = rng.randint(1, 8)
        nref = rng.randint(1, 3)
        lo, hi = (0, 5) if c % 3 == 0 else (3, 14)
        hyps = [random_tokens(rng, lo, hi) for _ in range(nseg)]
        refs = [[random_tokens(rng, max(lo, 1), hi) for _ in range(nref)] for _ in range(nseg)]
        if c % 5 < 3:  # near-copies: every order has matches
            hyps = [list(r[0]) for r in refs]
            for h in hyps:
                if h and rng.random() < 0.5:
                    h[rng.randrange(len(h))] = rng.choice(_WORDS)
        w = weight_sets[c % len(weight_sets)]
        cases.append({"refs": refs, "hyps": hyps, "weights": list(w), "bleu": nltk_bleu(refs, hyps, w)})
    # Hand edge cases: no unigram match, empty hypothesis, tie of ref lengths.
    edge = [
        ([[["a", "b", "c", "d"]]], [["x", "y", "z", "w"]]),
        ([[["a", "b", "c", "d"]]], [[]]),
        ([[["a", "b", "c", "d", "e"], ["a", "b", "c"]]], [["a", "b", "c", "d"]]),
        ([[["the", "cat", "sat"]]], [["the", "cat"]]),
        ([[["a", "b", "c", "d", "e", "f"]], [["g", "h"]]], [["a", "b", "c", "d", "e", "f"], ["g"]]),
    ]
    for refs, hyps in edge:
        w = (0.25, 0.25, 0.25, 0.25)
        cases.append({"refs": refs, "hyps": hyps, "weights": list(w), "bleu": nltk_bleu(refs, hyps, w)})
    return {"source": "nltk.translate.bleu_score.corpus_bleu, NLTK 3.8 (Debian python3-nltk)",
            "cases": cases}


_SENT_WORDS = ("The cat sat on the mat . The dog , too ! It's 3.5 km ; "
               "U.S. prices rose 10-20 % and \"quotes\" (brackets) &amp; more").split()


def detok_sentence(rng, n):
    return " ".join(rng.choice(_SENT_WORDS) for _ in range(n)).replace(" .", ".").replace(" ,", ",")


def sacre_fixture():
    rng = random.Random(2018)
    cases = []
    while len(cases) < 24:
        nseg = rng.randint(1, 6)
        nref = rng.randint(1, 2)
        lowercase = rng.random() < 0.3
        tokenize = "none" if rng.random() < 0.25 else "13a"
        refs = [[detok_sentence(rng, rng.randint(5, 14)) for _ in range(nseg)] for _ in range(nref)]
        hyps = []
        for i in range(nseg):
            words = refs[0][i].split(" ")
            for _ in range(rng.randint(0, 3)):
                words[rng.randrange(len(words))] = rng.choice(_SENT_WORDS)
            if rng.random() < 0.3:
                words = words[: max(4, len(words) - 3)]
            hyps.append(" ".join(words))
        if lowercase:  # vary case so that lowercasing matters
            hyps = [h.upper() if rng.random() < 0.5 else h for h in hyps]
        tok_h = [sacre_tokens(h, lowercase, tokenize) for h in hyps]
        tok_r = [[sacre_tokens(refs[k][i], lowercase, tokenize) for k in range(nref)] for i in range(nseg)]
        if min(len(t) for t in tok_h) < 4:
            continue
        score = nltk_bleu(tok_r, tok_h, (0.25,) * 4)
        if score < 1e-3:  # an order without matches: outside the common regime
            continue
        cases.append({"hyps": hyps, "ref_streams": refs, "lowercase": lowercase,
                      "tokenize": tokenize, "score": 100 * score})
    return {"source": "100 * NLTK corpus_bleu on tok13a tokens (sacrebleu module unavailable)",
            "cases": cases}


def edit_fixture():
    rng = random.Random(1966)
    cases = []
    for _ in range(80):
        a = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 12)))
        b = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 12)))
        cases.append({"a": a, "b": b, "distance": edit_distance(a, b)})
    return {"source": "nltk.metrics.distance.edit_distance, NLTK 3.8", "cases": cases}


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=True, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)", file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    write("tok13a.json", tokenizer_fixture())
    write("bleu_nltk.json", bleu_fixture())
    write("sacrebleu_nltk.json", sacre_fixture())
    write("edit_distance.json", edit_fixture())


if __name__ == "__main__":
    main()
