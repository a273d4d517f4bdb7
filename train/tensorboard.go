package train

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/encoding/protowire"
)

// eventsPrefix begins the name of every TensorBoard events file of a run.
const eventsPrefix = "events.out.tfevents."

// tensorboardWriter writes a run's metrics points as a TensorBoard events file,
// events.out.tfevents.<unix time>.<hostname> in the run directory: a first
// event with file_version "brain.Event:2", then one event per metrics point
// (its wall time and step) whose summary holds one scalar per metric, tagged
// "<split>/<name>" ("train/loss", "train/lr", "val/val_loss"), its value as a
// float32. Each run of the loop (a resumed one included) writes a new file;
// TensorBoard reads every events file of a directory.
//
// The messages are protobuf encoded with the field numbers of TensorFlow's
// tensorflow/core/util/event.proto (Event: wall_time = 1 double, step = 2
// int64, file_version = 3 string, summary = 5 Summary) and
// tensorflow/core/framework/summary.proto (Summary: value = 1 repeated
// Summary.Value; Summary.Value: tag = 1 string, simple_value = 2 float). Each
// is framed as a TFRecord, as TensorFlow's record format
// (tensorflow/core/lib/io/record_writer.h, and the TFRecord description of
// the tf.data guide) defines it: the data's length as a little-endian uint64,
// the masked CRC-32C of those 8 bytes as a little-endian uint32, the data,
// and the masked CRC-32C of the data; a masked CRC is
// ((crc >> 15) | (crc << 17)) + 0xa282ead8 over the Castagnoli polynomial.
// The file is written unbuffered, so each point is on disk (in the OS's
// cache) when OnPoint returns. While the loop runs, the writer is also the one
// that a Summaries of the same directory writes its texts and images through
// (see Summaries), so that one file holds the whole run.
type tensorboardWriter struct {
	NopCallback
	mu  sync.Mutex
	f   *os.File
	dir string // the key of the writer in openWriters
	now func() time.Time
}

// openWriters holds the loops' open writers by run directory, for Summaries.
var openWriters = struct {
	sync.Mutex
	m map[string]*tensorboardWriter
}{m: map[string]*tensorboardWriter{}}

// writerKey is the key of a run directory in openWriters.
func writerKey(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return filepath.Clean(dir)
}

// openTensorboardWriter creates the events file in dir, writes its first
// event, and makes it the writer of dir's Summaries until it is closed.
func openTensorboardWriter(dir string, now func() time.Time) (*tensorboardWriter, error) {
	w, err := createEventsFile(dir, now)
	if err != nil {
		return nil, err
	}
	w.register(dir)
	return w, nil
}

// createEventsFile creates an events file in dir and writes its first event.
func createEventsFile(dir string, now func() time.Time) (*tensorboardWriter, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	host = strings.ReplaceAll(host, string(filepath.Separator), "_")
	t := now()
	path := filepath.Join(dir, fmt.Sprintf("%s%d.%s", eventsPrefix, t.Unix(), host))
	// Appending: a run resumed within the same second continues that file,
	// which stays a valid sequence of records.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, errors.Wrap(err, "train: tensorboard")
	}
	w := &tensorboardWriter{f: f, now: now}
	ev := appendEventHeader(nil, t, 0)
	ev = appendString(ev, 3, "brain.Event:2")
	if err := w.write(ev); err != nil {
		_ = f.Close()
		return nil, err
	}
	return w, nil
}

// register makes w the writer of its directory's Summaries until close.
func (w *tensorboardWriter) register(dir string) {
	w.dir = writerKey(dir)
	openWriters.Lock()
	openWriters.m[w.dir] = w
	openWriters.Unlock()
}

// OnPoint implements Callback.
func (w *tensorboardWriter) OnPoint(p Point) error {
	names := make([]string, 0, len(p.Metrics))
	for k := range p.Metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	var sum []byte
	for _, k := range names {
		v := appendString(nil, 1, p.Split+"/"+k)
		v = protowire.AppendTag(v, 2, protowire.Fixed32Type)
		v = protowire.AppendFixed32(v, math.Float32bits(float32(p.Metrics[k])))
		sum = appendBytes(sum, 1, v)
	}
	return w.writeSummary(int64(p.Step), sum)
}

// writeSummary writes an event of step holding the encoded Summary sum.
func (w *tensorboardWriter) writeSummary(step int64, sum []byte) error {
	ev := appendEventHeader(nil, w.now(), step)
	return w.write(appendBytes(ev, 5, sum))
}

func (w *tensorboardWriter) close() error {
	if w.dir != "" {
		openWriters.Lock()
		if openWriters.m[w.dir] == w {
			delete(openWriters.m, w.dir)
		}
		openWriters.Unlock()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// appendEventHeader appends an Event's wall_time and step.
func appendEventHeader(b []byte, t time.Time, step int64) []byte {
	b = protowire.AppendTag(b, 1, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(float64(t.UnixNano())/1e9))
	if step != 0 {
		b = appendVarint(b, 2, uint64(step))
	}
	return b
}

// appendBytes appends field num holding v, a message or raw bytes.
func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

// appendString appends field num holding v.
func appendString(b []byte, num protowire.Number, v string) []byte {
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v)
}

// appendVarint appends field num holding v.
func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

// write appends data to the file as one record, in a single write.
func (w *tensorboardWriter) write(data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	rec := make([]byte, 12, 16+len(data))
	binary.LittleEndian.PutUint64(rec, uint64(len(data)))
	binary.LittleEndian.PutUint32(rec[8:], maskedCRC(rec[:8]))
	rec = append(rec, data...)
	rec = binary.LittleEndian.AppendUint32(rec, maskedCRC(data))
	_, err := w.f.Write(rec)
	return errors.Wrap(err, "train: tensorboard")
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is the masked CRC-32C of a TFRecord.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// Summaries writes texts and images into a run directory's TensorBoard events,
// beside the scalars that the loop writes, for TensorBoard's Text and Images
// dashboards: generated samples, translations, figures. While a loop of the
// directory runs, they go into its events file; otherwise into an events file
// of their own, created at the first one and appended to after (each write
// opens and closes it, so a Summaries needs no closing). A Summaries whose
// directory is empty drops everything (the ranks of a group other than the
// root). Its methods may be called from several goroutines.
//
// A text is a Summary.Value whose tensor (field 8, TensorProto) holds one
// DT_STRING (dtype = 1: 7), shape [] (tensor_shape = 2) and the text
// (string_val = 8), with metadata (field 9, SummaryMetadata: plugin_data = 1,
// PluginData: plugin_name = 1) naming the "text" plugin, which renders it as
// Markdown. An image is a Summary.Value whose image (field 4, Summary.Image)
// holds height = 1, width = 2, colorspace = 3 (1 grey, 3 RGB, 4 RGBA) and the
// PNG file (encoded_image_string = 4).
type Summaries struct {
	dir  string
	mu   sync.Mutex
	path string // the events file of its own, once created
	now  func() time.Time
}

// NewSummaries returns the summaries of the run directory dir.
func NewSummaries(dir string) *Summaries { return &Summaries{dir: dir, now: time.Now} }

// Summaries returns the summaries of the session's run directory; on a rank
// other than the root they are dropped.
func (s *Session) Summaries() *Summaries {
	if !s.Root() {
		return &Summaries{}
	}
	return NewSummaries(s.Dir)
}

// Text writes markdown, shown as Markdown under tag at step. Text that must
// keep its line breaks and spacing (generated samples) goes in a fenced code
// block: see Preformatted.
func (s *Summaries) Text(tag string, step int, markdown string) error {
	ten := appendVarint(nil, 1, 7) // DT_STRING
	ten = appendBytes(ten, 2, nil) // a scalar: no dimensions
	ten = appendString(ten, 8, markdown)
	meta := appendBytes(nil, 1, appendString(nil, 1, "text")) // the plugin's name
	v := appendString(nil, 1, tag)
	v = appendBytes(v, 9, meta)
	return s.write(step, appendBytes(v, 8, ten))
}

// Preformatted returns text as a fenced Markdown code block, so that a
// Markdown reader keeps its lines and spaces.
func Preformatted(text string) string {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	return fence + "\n" + strings.TrimRight(text, "\n") + "\n" + fence
}

// Image writes a PNG file's bytes as an image under tag at step. Bytes that
// are not a PNG image are an error, and nothing is written.
func (s *Summaries) Image(tag string, step int, pngData []byte) error {
	cfg, err := png.DecodeConfig(bytes.NewReader(pngData))
	if err != nil {
		return errors.Wrapf(err, "train: image summary %s", tag)
	}
	colorspace := uint64(4)
	switch cfg.ColorModel {
	case color.GrayModel, color.Gray16Model:
		colorspace = 1
	case color.RGBAModel, color.RGBA64Model:
		colorspace = 3 // the decoder's model of a PNG without alpha
	}
	img := appendVarint(nil, 1, uint64(cfg.Height))
	img = appendVarint(img, 2, uint64(cfg.Width))
	img = appendVarint(img, 3, colorspace)
	img = appendBytes(img, 4, pngData)
	return s.write(step, appendBytes(appendString(nil, 1, tag), 4, img))
}

// write writes an event of step whose summary holds the one encoded
// Summary.Value v.
func (s *Summaries) write(step int, v []byte) error {
	if s.dir == "" {
		return nil
	}
	sum := appendBytes(nil, 1, v)
	openWriters.Lock()
	w := openWriters.m[writerKey(s.dir)]
	openWriters.Unlock()
	if w != nil {
		return w.writeSummary(int64(step), sum)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.now == nil {
		s.now = time.Now
	}
	if s.path == "" {
		created, err := createEventsFile(s.dir, s.now)
		if err != nil {
			return err
		}
		w, s.path = created, created.f.Name()
	} else {
		f, err := os.OpenFile(s.path, os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return errors.Wrap(err, "train: tensorboard")
		}
		w = &tensorboardWriter{f: f, now: s.now}
	}
	err := w.writeSummary(int64(step), sum)
	if cerr := w.close(); err == nil {
		err = errors.Wrap(cerr, "train: tensorboard")
	}
	return err
}
