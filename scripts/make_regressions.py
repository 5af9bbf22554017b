#!/usr/bin/python3
"""Writes the hand-built hostile inputs of tests/fixtures/regressions/ (the
fuzzer-found ones are copied there as found). Each targets one limit that
must be enforced before anything is allocated or recursed into; the
README in that folder has a line per file.

Run with Debian's Python:  /usr/bin/python3 scripts/make_regressions.py
Deterministic: no random input, fixed ZIP timestamps.
"""

import io
import json
import os
import struct
import zipfile
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_writers as fw  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "regressions")


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print("%s: %d bytes" % (name, len(data)))


def deep_json():
    # 5000 nested lists inside a model config: a recursive parser (or a
    # recursive walk over the parsed tree) overflows the stack.
    depth = 5000
    text = '{"class_name": "Sequential", "config": {"layers": ' + "[" * depth + "]" * depth + "}}"
    write("deep_nesting_config.json", text.encode())


def huge_activation_config():
    # A valid Sequential whose declared shapes need 2^34 floats for one
    # activation: the engine must refuse it with a LimitError at build.
    config = {"class_name": "Sequential", "config": {"name": "huge", "layers": [
        {"class_name": "InputLayer", "config": {"name": "input", "batch_input_shape": [None, 8192, 8192, 3],
                                                "dtype": "float32"}},
        {"class_name": "Conv2D", "config": {"name": "conv", "filters": 256, "kernel_size": [1, 1],
                                            "strides": [1, 1], "padding": "same", "activation": "linear",
                                            "use_bias": False, "data_format": "channels_last"}},
    ]}}
    write("huge_activation_config.json", json.dumps(config).encode())


def huge_png():
    # A 20000 x 20000 grey header over a tiny body: 400 M samples, within
    # stb_image's own 2^30 bound but past our tensor limit (256 M), so only
    # our check before decoding stops the 400 MB + 1.6 GB allocations.
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + fw.png_chunk(b"IHDR", ihdr) + fw.png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        fw.png_chunk(b"IEND", b"")
    write("huge_dimensions.png", data)


def huge_npy():
    # A .npy header declaring 10^12 float32 elements over no data.
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    write("huge_shape.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())


def zip_size_lie():
    # A .keras archive whose config.json is 11 deflated bytes that claim to
    # inflate to ~1 GB: the reader allocated the claimed size before
    # inflating. Sizes are patched in both the local and the central header.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("metadata.json", "config.json"):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, b"{}")
    data = bytearray(buffer.getvalue())
    claimed = 0x3FFFFFF0
    position = 0
    while True:
        position = data.find(b"PK\x01\x02", position)
        if position < 0:
            break
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        name = bytes(data[position + 46:position + 46 + name_length])
        if name == b"config.json":
            struct.pack_into("<I", data, position + 24, claimed)
            local = struct.unpack_from("<I", data, position + 42)[0]
            struct.pack_into("<I", data, local + 22, claimed)
        position += 4
    write("zip_declared_size_lie.keras", bytes(data))


def pool_zero_stride():
    # Found by mutation_report (load-then-run): an AveragePool whose strides
    # became 0 divided by zero (SIGFPE) in the pool output size. Built from
    # the ops fixture with the onnx package rather than kept as the mutant.
    import onnx
    model = onnx.load(os.path.join(ROOT, "tests", "fixtures", "ops", "onnx_avgpool_exclude_pad_ceil.onnx"))
    for node in model.graph.node:
        if node.op_type == "AveragePool":
            for attribute in node.attribute:
                if attribute.name == "strides":
                    del attribute.ints[:]
                    attribute.ints.extend([0, 0])
    write("pool_zero_stride.onnx", model.SerializeToString())


def constant_wrong_attribute_type():
    # Found by mutation_report (load-then-run): a Constant whose `value`
    # attribute says FLOATS while carrying a tensor compiled to an empty
    # Tensor, and the Add reading it dereferenced null (SIGSEGV).
    import onnx
    model = onnx.load(os.path.join(ROOT, "tests", "fixtures", "ops", "onnx_broadcast_ops.onnx"))
    for node in model.graph.node:
        if node.op_type == "Constant":
            node.attribute[0].type = onnx.AttributeProto.FLOATS
            break
    write("constant_value_type_floats.onnx", model.SerializeToString())


def sparse_datasets():
    # Found by review, confirmed with mutation_report --open: a 10 KB Keras
    # weights file of chunked datasets whose chunks were never written. Each
    # reads as its fill value, within the per-tensor limit, but together
    # they made the HDF5 reader build gigabytes (std::bad_alloc natively, a
    # dead tab in the browser). Two 576 MB datasets: the second must be
    # refused by the per-file budget. Named .h5-sparse, not .h5, so that the
    # mutation sweep does not build 576 MB for each of its mutants.
    import h5py
    import numpy as np
    path = os.path.join(OUT, "sparse_datasets.h5-sparse")
    with h5py.File(path, "w", libver="earliest") as f:
        names = []
        for index in range(2):
            name = "dense_%d" % index
            names.append(name.encode())
            group = f.create_group(name)
            group.attrs["weight_names"] = np.array([(name + "/kernel:0").encode()])
            group.create_dataset(name + "/kernel:0", shape=(12288, 12288), chunks=(4096, 4096), dtype="f4")
        f.attrs["layer_names"] = np.array(names)
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.3.0"
    print("sparse_datasets.h5-sparse: %d bytes" % os.path.getsize(path))


def main():
    os.makedirs(OUT, exist_ok=True)
    deep_json()
    huge_activation_config()
    huge_png()
    huge_npy()
    zip_size_lie()
    pool_zero_stride()
    constant_wrong_attribute_type()
    sparse_datasets()


if __name__ == "__main__":
    main()
