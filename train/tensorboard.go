package train

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
// cache) when OnPoint returns.
type tensorboardWriter struct {
	NopCallback
	f   *os.File
	now func() time.Time
}

// openTensorboardWriter creates the events file in dir and writes its first
// event.
func openTensorboardWriter(dir string, now func() time.Time) (*tensorboardWriter, error) {
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
	ev = protowire.AppendTag(ev, 3, protowire.BytesType)
	ev = protowire.AppendString(ev, "brain.Event:2")
	if err := w.write(ev); err != nil {
		_ = f.Close()
		return nil, err
	}
	return w, nil
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
		var v []byte
		v = protowire.AppendTag(v, 1, protowire.BytesType)
		v = protowire.AppendString(v, p.Split+"/"+k)
		v = protowire.AppendTag(v, 2, protowire.Fixed32Type)
		v = protowire.AppendFixed32(v, math.Float32bits(float32(p.Metrics[k])))
		sum = protowire.AppendTag(sum, 1, protowire.BytesType)
		sum = protowire.AppendBytes(sum, v)
	}
	ev := appendEventHeader(nil, w.now(), int64(p.Step))
	ev = protowire.AppendTag(ev, 5, protowire.BytesType)
	ev = protowire.AppendBytes(ev, sum)
	return w.write(ev)
}

func (w *tensorboardWriter) close() error { return w.f.Close() }

// appendEventHeader appends an Event's wall_time and step.
func appendEventHeader(b []byte, t time.Time, step int64) []byte {
	b = protowire.AppendTag(b, 1, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(float64(t.UnixNano())/1e9))
	if step != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(step))
	}
	return b
}

// write appends data to the file as one record, in a single write.
func (w *tensorboardWriter) write(data []byte) error {
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
