// Package datasets knows the project's datasets, finds and verifies them on
// disk, downloads them where the network allows, and reads them into plain Go
// values.
//
// # Registry and lookup
//
// Each registered dataset ([Names], [Lookup]) lists its files with their
// canonical sources, sizes and the SHA-256 of their decompressed content, so a
// copy verifies however it was compressed. [Find] looks for dataset NAME in
// DIR/NAME for each directory DIR of $TRIAD_DATA (a path list), then in the user
// cache directory (os.UserCacheDir()/triad/datasets), and returns the first
// directory whose files verify. Verification results are remembered for the rest
// of the process while the files' sizes and modification times stay the same.
// When no copy verifies, Find downloads the dataset into the cache: each file is
// checked before it is renamed into place, archives are unpacked member by member
// and derived files (the SNIPS TSVs, the FSDD metadata) are rebuilt from the
// downloaded ones. A progress bar shows on a terminal. Where downloads are
// impossible (no network, $TRIAD_OFFLINE set, or a dataset without a public
// source) the error, one line, lists the paths where the files belong.
//
//	dir, err := datasets.Find("mnist")
//	images, labels, rows, cols, err := datasets.LoadMNIST(dir, "train")
//
// A [Finder] sets the search directories, cache, HTTP client and progress output
// explicitly.
//
// # Loaders
//
// Loaders take a dataset's directory (or a file) and return plain Go values;
// their errors name the file and say what is wrong, and a corrupt file never
// makes them panic:
//
//   - text: [LoadText], [LoadLines], [LoadTinyShakespeare];
//   - parallel text, line-aligned: [LoadParallel], [LoadMulti30k],
//     [LoadGigaword] (article -> headline);
//   - classification: [LoadRTPolarity], [LoadSNIPS], [LoadLabeledTSV];
//   - images: [ReadIDX] and [LoadIDX] for IDX files, [LoadMNIST];
//   - audio: [ReadWAV] and [LoadWAV] for RIFF/WAVE PCM, [LoadFSDD] with lazily
//     read [Recording.Samples];
//   - pronunciations: [ReadCMUDict], [LoadCMUDict].
package datasets
