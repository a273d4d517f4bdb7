#!/usr/bin/env python3
"""Check a run directory's TensorBoard events files against its metrics.jsonl.

    scripts/tfevents_check.py [--min-texts N] [--min-images N] RUN_DIR

Reads every events.out.tfevents.* file of RUN_DIR in name order, verifies the
two masked CRC-32Cs of every TFRecord (TensorFlow's record format: uint64
length, masked crc of the length, data, masked crc of the data), decodes the
records as tensorflow.Event messages built here from the field numbers of
TensorFlow's event.proto and summary.proto, and checks that the first event of
each file has file_version "brain.Event:2" and that the scalars (tag
"<split>/<name>", step, float32 value) match metrics.jsonl: every point of the
last file is a metrics line and every metrics line is in the events, a later
file's value replacing an earlier one's (a resumed run rewrites the steps after
its checkpoint; an earlier file may hold points the resume dropped, which are
listed). Texts and images are checked too: a text (Summary.Value.tensor,
field 8) names the "text" plugin in its metadata (field 9) and holds one
UTF-8 DT_STRING; an image (Summary.Value.image, field 4) is a PNG file whose
header gives the height, width and colorspace the message states. --min-texts
and --min-images ask for at least that many of each. Needs python3-protobuf;
uses python3-crc32c when present.
"""

import argparse

import glob
import json
import math
import os
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool

try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # protobuf < 4.21
    from google.protobuf import message_factory

    def GetMessageClass(desc):
        return message_factory.MessageFactory().GetPrototype(desc)


try:
    import crc32c as _crc32c

    def crc32c(b):
        return _crc32c.crc32c(b)

except ImportError:
    _TABLE = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        _TABLE.append(c)

    def crc32c(b):
        c = 0xFFFFFFFF
        for x in b:
            c = _TABLE[(c ^ x) & 0xFF] ^ (c >> 8)
        return c ^ 0xFFFFFFFF


def masked(b):
    c = crc32c(b)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def event_class():
    F = descriptor_pb2.FieldDescriptorProto
    fd = descriptor_pb2.FileDescriptorProto(name="tfevents_check.proto", package="tensorflow", syntax="proto3")

    def field(msg, name, number, typ, label=F.LABEL_OPTIONAL, type_name=None):
        f = msg.field.add(name=name, number=number, type=typ, label=label)
        if type_name:
            f.type_name = type_name

    # summary.proto: PluginData, SummaryMetadata, Summary.Image, Summary.Value
    plugin = fd.message_type.add(name="PluginData")
    field(plugin, "plugin_name", 1, F.TYPE_STRING)
    field(plugin, "content", 2, F.TYPE_BYTES)
    meta = fd.message_type.add(name="SummaryMetadata")
    field(meta, "plugin_data", 1, F.TYPE_MESSAGE, type_name=".tensorflow.PluginData")
    # tensor_shape.proto and tensor.proto: the fields a string scalar uses
    shape = fd.message_type.add(name="TensorShapeProto")
    dim = shape.nested_type.add(name="Dim")
    field(dim, "size", 1, F.TYPE_INT64)
    field(shape, "dim", 2, F.TYPE_MESSAGE, F.LABEL_REPEATED, ".tensorflow.TensorShapeProto.Dim")
    tensor = fd.message_type.add(name="TensorProto")
    field(tensor, "dtype", 1, F.TYPE_INT32)
    field(tensor, "tensor_shape", 2, F.TYPE_MESSAGE, type_name=".tensorflow.TensorShapeProto")
    field(tensor, "string_val", 8, F.TYPE_BYTES, F.LABEL_REPEATED)
    summary = fd.message_type.add(name="Summary")
    image = summary.nested_type.add(name="Image")
    field(image, "height", 1, F.TYPE_INT32)
    field(image, "width", 2, F.TYPE_INT32)
    field(image, "colorspace", 3, F.TYPE_INT32)
    field(image, "encoded_image_string", 4, F.TYPE_BYTES)
    value = summary.nested_type.add(name="Value")
    value.oneof_decl.add(name="value")
    field(value, "tag", 1, F.TYPE_STRING)
    field(value, "metadata", 9, F.TYPE_MESSAGE, type_name=".tensorflow.SummaryMetadata")
    for name, number, typ, type_name in [
        ("simple_value", 2, F.TYPE_FLOAT, None),
        ("image", 4, F.TYPE_MESSAGE, ".tensorflow.Summary.Image"),
        ("tensor", 8, F.TYPE_MESSAGE, ".tensorflow.TensorProto"),
    ]:
        field(value, name, number, typ, type_name=type_name)
        value.field[-1].oneof_index = 0
    field(summary, "value", 1, F.TYPE_MESSAGE, F.LABEL_REPEATED, ".tensorflow.Summary.Value")
    event = fd.message_type.add(name="Event")
    field(event, "wall_time", 1, F.TYPE_DOUBLE)
    field(event, "step", 2, F.TYPE_INT64)
    field(event, "file_version", 3, F.TYPE_STRING)
    field(event, "summary", 5, F.TYPE_MESSAGE, type_name=".tensorflow.Summary")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return GetMessageClass(pool.FindMessageTypeByName("tensorflow.Event"))


def records(path):
    with open(path, "rb") as f:
        b = f.read()
    i = 0
    while i < len(b):
        if len(b) - i < 12:
            raise SystemExit(f"{path}: torn record header at byte {i}")
        (n,) = struct.unpack_from("<Q", b, i)
        (lcrc,) = struct.unpack_from("<I", b, i + 8)
        if lcrc != masked(b[i : i + 8]):
            raise SystemExit(f"{path}: bad length crc at byte {i}")
        if len(b) - i - 12 < n + 4:
            raise SystemExit(f"{path}: torn record at byte {i}")
        data = b[i + 12 : i + 12 + n]
        (dcrc,) = struct.unpack_from("<I", b, i + 12 + n)
        if dcrc != masked(data):
            raise SystemExit(f"{path}: bad data crc at byte {i}")
        yield data
        i += 16 + n


def f32(x):
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:  # beyond float32: Go's conversion gives an infinity
        return math.copysign(math.inf, x)


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


DT_STRING = 7
PNG_COLORSPACE = {0: 1, 4: 2, 2: 3, 6: 4}  # PNG colour type -> Summary.Image colorspace


def check_text(path, step, v):
    plugin = v.metadata.plugin_data.plugin_name
    if plugin != "text":
        raise SystemExit(f"{path}: text {v.tag} at step {step} names plugin {plugin!r}, not 'text'")
    t = v.tensor
    if t.dtype != DT_STRING or len(t.string_val) != 1 or len(t.tensor_shape.dim) != 0:
        raise SystemExit(f"{path}: text {v.tag} at step {step} is not one string (dtype {t.dtype}, {len(t.string_val)} values)")
    try:
        t.string_val[0].decode("utf-8")
    except UnicodeDecodeError:
        raise SystemExit(f"{path}: text {v.tag} at step {step} is not UTF-8")


def check_image(path, step, v):
    im = v.image
    b = im.encoded_image_string
    if b[:8] != b"\x89PNG\r\n\x1a\n" or b[12:16] != b"IHDR":
        raise SystemExit(f"{path}: image {v.tag} at step {step} is not a PNG file")
    w, h = struct.unpack(">II", b[16:24])
    depth, ctype = b[24], b[25]
    want = PNG_COLORSPACE.get(ctype, 4) if ctype != 3 else im.colorspace
    if (im.width, im.height) != (w, h) or im.colorspace != want or depth == 0:
        raise SystemExit(f"{path}: image {v.tag} at step {step} says {im.width}x{im.height} colorspace {im.colorspace}, "
                         f"its PNG is {w}x{h} of colour type {ctype}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--min-texts", type=int, default=0)
    ap.add_argument("--min-images", type=int, default=0)
    args = ap.parse_args()
    run = args.run
    nonfinite = {"NaN": math.nan, "+Inf": math.inf, "Inf": math.inf, "-Inf": -math.inf}
    want = {}
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            if not line.strip():
                continue
            p = json.loads(line)
            for k, v in p["metrics"].items():
                v = nonfinite[v] if isinstance(v, str) else float(v)
                want[(f"{p['split']}/{k}", p["step"])] = f32(v)
    files = sorted(glob.glob(os.path.join(run, "events.out.tfevents.*")))
    if not files:
        raise SystemExit(f"{run}: no events files")
    Event = event_class()
    per_file = []
    texts, images = 0, 0
    for path in files:
        got = {}
        for j, data in enumerate(records(path)):
            ev = Event()
            ev.ParseFromString(data)
            if j == 0:
                if ev.file_version != "brain.Event:2":
                    raise SystemExit(f"{path}: first event has file_version {ev.file_version!r}")
                continue
            for v in ev.summary.value:
                kind = v.WhichOneof("value")
                if kind == "simple_value":
                    got[(v.tag, ev.step)] = v.simple_value
                elif kind == "tensor":
                    check_text(path, ev.step, v)
                    texts += 1
                elif kind == "image":
                    check_image(path, ev.step, v)
                    images += 1
                else:
                    raise SystemExit(f"{path}: value {v.tag} at step {ev.step} holds {kind}")
        if got:
            per_file.append((path, got))
    if not per_file:
        raise SystemExit(f"{run}: no scalars in the events files")
    merged = {}
    for _, got in per_file:
        merged.update(got)
    last, got = per_file[-1]
    for k, v in got.items():
        if k not in want or not same(want[k], v):
            raise SystemExit(f"{last}: {k[0]} at step {k[1]} is {v}, metrics.jsonl: {want.get(k)}")
    for k, v in want.items():
        if k not in merged or not same(merged[k], v):
            raise SystemExit(f"{run}: {k[0]} at step {k[1]} is {v} in metrics.jsonl, events: {merged.get(k)}")
    dropped = sorted(k for k in merged if k not in want)
    if texts < args.min_texts or images < args.min_images:
        raise SystemExit(f"{run}: {texts} texts and {images} images, want at least {args.min_texts} and {args.min_images}")
    msg = f"{run}: {len(files)} events files, {len(want)} scalars match metrics.jsonl; {texts} texts, {images} images"
    if dropped:
        msg += "; dropped by a resume: " + ", ".join(f"{t}@{s}" for t, s in dropped)
    print(msg)


if __name__ == "__main__":
    main()
