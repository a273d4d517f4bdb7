package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The reader below decodes TFRecord framing and the Event, Summary and
// Summary.Value messages by hand, from their definitions (TensorFlow's record
// format; event.proto and summary.proto), independently of the writer.

type tbEvent struct {
	wallTime    float64
	step        int64
	fileVersion string
	values      []tbValue
}

type tbValue struct {
	tag   string
	value float32
	kind  string // "scalar", "text" or "image"
	// A text's plugin, dtype and string; an image's size, colorspace and bytes.
	plugin     string
	dtype      uint64
	text       string
	height     int
	width      int
	colorspace int
	png        []byte
}

func tbMasked(b []byte) uint32 {
	c := crc32.Update(0, crc32.MakeTable(0x82f63b78), b)
	return (c>>15 | c<<17) + 0xa282ead8
}

// tbRecords splits a TFRecord file, checking both CRCs of every record.
func tbRecords(t *testing.T, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		require.GreaterOrEqual(t, len(b), 12, "a record header")
		n := binary.LittleEndian.Uint64(b)
		require.Equal(t, tbMasked(b[:8]), binary.LittleEndian.Uint32(b[8:12]), "length CRC of record %d", len(out))
		require.GreaterOrEqual(t, uint64(len(b)-12), n+4, "record %d is whole", len(out))
		data := b[12 : 12+n]
		require.Equal(t, tbMasked(data), binary.LittleEndian.Uint32(b[12+n:16+n]), "data CRC of record %d", len(out))
		out = append(out, data)
		b = b[16+n:]
	}
	return out
}

// tbField reads one field: its number, wire type, and its varint, fixed or
// length-delimited payload.
func tbField(t *testing.T, b []byte) (num int, typ int, u uint64, payload []byte, rest []byte) {
	varint := func() uint64 {
		var x uint64
		for i := 0; ; i++ {
			require.Less(t, i, len(b), "truncated varint")
			x |= uint64(b[i]&0x7f) << (7 * i)
			if b[i] < 0x80 {
				b = b[i+1:]
				return x
			}
		}
	}
	key := varint()
	num, typ = int(key>>3), int(key&7)
	switch typ {
	case 0:
		u = varint()
	case 1:
		u = binary.LittleEndian.Uint64(b)
		b = b[8:]
	case 5:
		u = uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
	case 2:
		n := varint()
		payload, b = b[:n], b[n:]
	default:
		t.Fatalf("unexpected wire type %d", typ)
	}
	return num, typ, u, payload, b
}

// tbMessage decodes the fields of a message, calling the function of each
// field's (number, wire type) with its varint or fixed value and its
// length-delimited payload; a field without one fails the test.
func tbMessage(t *testing.T, b []byte, name string, fields map[[2]int]func(u uint64, p []byte)) {
	for len(b) > 0 {
		num, typ, u, p, rest := tbField(t, b)
		b = rest
		f, ok := fields[[2]int{num, typ}]
		if !ok {
			t.Fatalf("unexpected %s field %d (wire type %d)", name, num, typ)
		}
		f(u, p)
	}
}

func tbParseEvent(t *testing.T, b []byte) tbEvent {
	var ev tbEvent
	tbMessage(t, b, "Event", map[[2]int]func(uint64, []byte){
		{1, 1}: func(u uint64, _ []byte) { ev.wallTime = math.Float64frombits(u) },
		{2, 0}: func(u uint64, _ []byte) { ev.step = int64(u) },
		{3, 2}: func(_ uint64, p []byte) { ev.fileVersion = string(p) },
		{5, 2}: func(_ uint64, p []byte) {
			tbMessage(t, p, "Summary", map[[2]int]func(uint64, []byte){
				{1, 2}: func(_ uint64, vb []byte) { ev.values = append(ev.values, tbParseValue(t, vb)) },
			})
		},
	})
	return ev
}

// tbParseValue decodes a Summary.Value: a scalar (simple_value = 2), a text
// (metadata = 9 naming the text plugin, tensor = 8 holding one string) or an
// image (image = 4, Summary.Image).
func tbParseValue(t *testing.T, vb []byte) tbValue {
	var v tbValue
	tbMessage(t, vb, "Summary.Value", map[[2]int]func(uint64, []byte){
		{1, 2}: func(_ uint64, s []byte) { v.tag = string(s) },
		{2, 5}: func(u uint64, _ []byte) { v.value, v.kind = math.Float32frombits(uint32(u)), "scalar" },
		{9, 2}: func(_ uint64, s []byte) {
			num, _, _, pd, _ := tbField(t, s)
			require.Equal(t, 1, num, "SummaryMetadata.plugin_data")
			num, _, _, name, _ := tbField(t, pd)
			require.Equal(t, 1, num, "PluginData.plugin_name")
			v.plugin = string(name)
		},
		{8, 2}: func(_ uint64, s []byte) {
			v.kind = "text"
			tbMessage(t, s, "TensorProto", map[[2]int]func(uint64, []byte){
				{1, 0}: func(u uint64, _ []byte) { v.dtype = u },
				{2, 2}: func(_ uint64, b []byte) { require.Empty(t, b, "a scalar tensor has no dimensions") },
				{8, 2}: func(_ uint64, b []byte) { v.text = string(b) },
			})
		},
		{4, 2}: func(_ uint64, s []byte) {
			v.kind = "image"
			tbMessage(t, s, "Summary.Image", map[[2]int]func(uint64, []byte){
				{1, 0}: func(u uint64, _ []byte) { v.height = int(u) },
				{2, 0}: func(u uint64, _ []byte) { v.width = int(u) },
				{3, 0}: func(u uint64, _ []byte) { v.colorspace = int(u) },
				{4, 2}: func(_ uint64, b []byte) { v.png = b },
			})
		},
	})
	return v
}

// tbEvents reads the events of an events file after its first, checking its
// first event's file_version.
func tbEvents(t *testing.T, path string) []tbEvent {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	recs := tbRecords(t, b)
	require.NotEmpty(t, recs)
	require.Equal(t, "brain.Event:2", tbParseEvent(t, recs[0]).fileVersion)
	var evs []tbEvent
	for _, r := range recs[1:] {
		ev := tbParseEvent(t, r)
		require.Greater(t, ev.wallTime, 1e9, "wall time in seconds")
		evs = append(evs, ev)
	}
	return evs
}

// tbScalars reads every events file of dir in name order, one map per file:
// "tag@step" -> value.
func tbScalars(t *testing.T, dir string) []map[string]float32 {
	files, err := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	require.NoError(t, err)
	sort.Strings(files)
	host, _ := os.Hostname()
	var out []map[string]float32
	for _, f := range files {
		require.True(t, strings.HasSuffix(f, "."+host), f)
		m := map[string]float32{}
		for _, ev := range tbEvents(t, f) {
			if ev.fileVersion != "" {
				continue // a run resumed within the same second
			}
			require.NotEmpty(t, ev.values)
			for _, v := range ev.values {
				if v.kind == "scalar" {
					m[fmt.Sprintf("%s@%d", v.tag, ev.step)] = v.value
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// tbCheck compares the events files of dir with its metrics.jsonl: every
// point of the last file is a metrics line, and every metrics line is in the
// events, a later file's value replacing an earlier one's (a resumed run
// rewrites the steps after its checkpoint). An earlier file may hold points a
// resume dropped from metrics.jsonl; it returns those.
func tbCheck(t *testing.T, dir string, files int) []string {
	want := tbWant(t, dir)
	perFile := tbScalars(t, dir)
	require.Len(t, perFile, files)
	merged := map[string]float32{}
	for _, m := range perFile {
		for k, v := range m {
			merged[k] = v
		}
	}
	for k, v := range perFile[len(perFile)-1] {
		require.Contains(t, want, k, "the last events file's point is a metrics line")
		require.Equal(t, want[k], v, k)
	}
	var dropped []string
	for k, v := range merged {
		w, ok := want[k]
		if !ok {
			dropped = append(dropped, k)
			continue
		}
		require.Equal(t, w, v, k)
	}
	for k := range want {
		require.Contains(t, merged, k, "the metrics line is in the events")
	}
	sort.Strings(dropped)
	return dropped
}

func tbWant(t *testing.T, dir string) map[string]float32 {
	points, err := ReadMetrics(dir)
	require.NoError(t, err)
	want := map[string]float32{}
	for _, p := range points {
		for k, v := range p.Metrics {
			want[fmt.Sprintf("%s/%s@%d", p.Split, k, p.Step)] = float32(v)
		}
	}
	return want
}

func TestTensorboardEventsMatchMetrics(t *testing.T) {
	dir := t.TempDir()
	c := Common{Seed: 3, Epochs: 2, LogEvery: 4, EvalEvery: 8}
	l, _ := newLoop(t, dir, c)
	_, err := l.Run(context.Background())
	require.NoError(t, err)
	want := tbWant(t, dir)
	require.Contains(t, want, "train/loss@4")
	require.Contains(t, want, "train/lr@4")
	require.Contains(t, want, "val/val_loss@8")
	require.Empty(t, tbCheck(t, dir, 1))
	tbPython(t, dir)
}

func TestTensorboardResumedRunAddsAFile(t *testing.T) {
	dir := t.TempDir()
	c := Common{Seed: 3, Epochs: 2, LogEvery: 4, EvalEvery: 8, MaxSteps: 12}
	l, _ := newLoop(t, dir, c)
	_, err := l.Run(context.Background())
	require.NoError(t, err)
	require.Empty(t, tbCheck(t, dir, 1))
	files, err := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	require.NoError(t, err)
	// Renamed to sort first: the resumed run writes a second file even within
	// the same second.
	require.NoError(t, os.Rename(files[0], strings.Replace(files[0], ".tfevents.", ".tfevents.0", 1)))
	c.MaxSteps, c.Resume = 0, dir
	l, _ = newLoop(t, dir, c)
	_, err = l.Run(context.Background())
	require.NoError(t, err)
	// The evaluation the first run made at its last step is not due in the
	// longer run, and its metrics line is dropped.
	require.Equal(t, []string{"val/val_loss@12"}, tbCheck(t, dir, 2))
	tbPython(t, dir)
}

// tbPython runs scripts/tfevents_check.py over dir when a Python 3 with the
// protobuf module is present.
func tbPython(t *testing.T, dir string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "scripts", "tfevents_check.py"))
	require.NoError(t, err)
	candidates := []string{os.Getenv("PYTHON"), "python3", "/usr/bin/python3"}
	for _, py := range candidates {
		if py == "" {
			continue
		}
		if exec.Command(py, "-c", "import google.protobuf").Run() != nil {
			continue
		}
		out, err := exec.Command(py, script, dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
		t.Logf("%s: %s", py, strings.TrimSpace(string(out)))
		return
	}
	t.Log("skipping scripts/tfevents_check.py: no python3 with google.protobuf")
}

// textDuringRun writes a text summary at every evaluation, as an experiment
// writes its samples.
type textDuringRun struct {
	NopCallback
	s *Summaries
}

func (c textDuringRun) OnPoint(p Point) error {
	if p.Split != "val" {
		return nil
	}
	return c.s.Text("samples", p.Step, Preformatted(fmt.Sprintf("step %d\n  indented ``` fence", p.Step)))
}

func TestTensorboardTextAndImages(t *testing.T) {
	dir := t.TempDir()
	c := Common{Seed: 3, Epochs: 2, LogEvery: 4, EvalEvery: 8}
	l, _ := newLoop(t, dir, c)
	l.Callbacks = []Callback{textDuringRun{s: NewSummaries(dir)}}
	_, err := l.Run(context.Background())
	require.NoError(t, err)
	// After the loop, summaries go into a file of their own (an hour later,
	// so that its name sorts after the loop's).
	later := &Summaries{dir: dir, now: func() time.Time { return time.Now().Add(time.Hour) }}
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{200, 10, 10, 128})
	var pngBuf bytes.Buffer
	require.NoError(t, png.Encode(&pngBuf, img))
	require.NoError(t, later.Image("figures/grid", 40, pngBuf.Bytes()))
	require.NoError(t, later.Text("samples", 40, "after the run"))
	require.Error(t, later.Image("figures/bad", 41, []byte("not a png")))
	require.NoError(t, (&Summaries{}).Text("dropped", 1, "a rank other than the root"))

	files, err := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	require.NoError(t, err)
	sort.Strings(files)
	require.Len(t, files, 2)
	type item struct {
		kind, tag string
		step      int64
	}
	var first []item
	curves := 0
	for _, ev := range tbEvents(t, files[0]) {
		for _, v := range ev.values {
			switch v.kind {
			case "text":
				require.Equal(t, "text", v.plugin)
				require.Equal(t, uint64(7), v.dtype, "DT_STRING")
				require.Equal(t, fmt.Sprintf("````\nstep %d\n  indented ``` fence\n````", ev.step), v.text)
				first = append(first, item{v.kind, v.tag, ev.step})
			case "image":
				require.Equal(t, "learning_curve", v.tag)
				cfg, err := png.DecodeConfig(bytes.NewReader(v.png))
				require.NoError(t, err)
				require.Equal(t, [2]int{cfg.Width, cfg.Height}, [2]int{v.width, v.height})
				curves++
				first = append(first, item{v.kind, v.tag, ev.step})
			}
		}
	}
	// Each evaluation: its text, then the learning curve drawn after it.
	want := []item{}
	for _, step := range []int64{8, 16, 24, 32} {
		if step > 8*int64(len(first)/2) {
			break
		}
		want = append(want, item{"text", "samples", step}, item{"image", "learning_curve", step})
	}
	require.Equal(t, want, first)
	require.GreaterOrEqual(t, curves, 2)
	second := tbEvents(t, files[1])
	require.Len(t, second, 2)
	require.Equal(t, int64(40), second[0].step)
	im := second[0].values[0]
	require.Equal(t, tbValue{tag: "figures/grid", kind: "image", height: 2, width: 3, colorspace: 4, png: pngBuf.Bytes()}, im)
	require.Equal(t, "after the run", second[1].values[0].text)
	// The scalars still match metrics.jsonl, with the summaries' file last.
	require.Empty(t, tbCheck(t, dir, 2))
	tbPython(t, dir)
}
