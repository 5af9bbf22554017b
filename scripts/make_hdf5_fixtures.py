#!/usr/bin/python3
"""Writes the HDF5 reader's fixtures into tests/fixtures/hdf5/.

Run with Debian's interpreter (h5py 3.7 on HDF5 1.10, numpy):
    /usr/bin/python3 scripts/make_hdf5_fixtures.py

Each NAME.h5 comes with NAME.json, the expected tree as h5py reads it, in the
canonical format of dump_canonical_json() (src/core/formats/hdf5.h): objects
in h5py's iteration order with attributes, dataset shapes, dtypes and the sum
and sum of squares of the values (accumulated in double, row-major).
tests/core/formats/hdf5_test.cpp compares our reader with every .json.

Values come from numpy's default_rng(SEED); SEED is recorded below and in
each .json ("generator"). Files are kept to a few KB each.
"""
import json
import os
import sys

import h5py
import numpy as np

SEED = 20251126
# Debian's h5py links the serial HDF5 1.10 library under this name.
LIBHDF5 = "libhdf5_serial.so.103"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "hdf5")
rng = np.random.default_rng(SEED)


def values(shape, dtype="float32"):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    info = np.iinfo(dtype)
    low = max(info.min, -1000)
    high = min(info.max, 1000)
    return rng.integers(low, high, size=shape, endpoint=True).astype(dtype)


# ---- expected trees ------------------------------------------------------

def dtype_name(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return "bool"
    return dtype.newbyteorder("=").name


def is_string_dtype(dtype):
    return dtype.kind in ("S", "U", "O") or h5py.check_string_dtype(dtype) is not None


def to_text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def attribute_value(obj, name):
    attr_id = h5py.h5a.open(obj.id, name.encode())
    space = attr_id.get_space()
    raw = obj.attrs.get(name)
    if is_string_dtype(attr_id.dtype):
        if isinstance(raw, h5py.Empty) or space.get_simple_extent_type() == h5py.h5s.NULL:
            return []
        if space.get_simple_extent_type() == h5py.h5s.SCALAR:
            return to_text(raw if not isinstance(raw, np.ndarray) else raw.item())
        return [to_text(v) for v in np.asarray(raw).ravel()]
    if isinstance(raw, h5py.Empty):
        return {"dtype": dtype_name(attr_id.dtype), "shape": [0], "values": []}
    array = np.asarray(raw)
    return {
        "dtype": dtype_name(array.dtype),
        "shape": list(array.shape),
        "values": [float(v) for v in array.ravel()],
    }


def object_entries(group, path, out, ancestors):
    entry = {"path": path}
    kind = "group" if isinstance(group, h5py.Group) else "dataset"
    entry["kind"] = kind
    entry["attributes"] = [{"name": n, "value": attribute_value(group, n)} for n in group.attrs.keys()]
    children = []
    if kind == "group":
        children = list(group.keys())
        entry["children"] = children
    else:
        entry["shape"] = list(group.shape)
        if is_string_dtype(group.dtype):
            entry["dtype"] = "string"
            entry["strings"] = [to_text(v) for v in np.asarray(group[()]).ravel()]
        else:
            data = group[()]
            flat = np.asarray(data).ravel()
            total = 0.0
            squares = 0.0
            for v in flat:  # sequential double sums, the order the C++ side uses
                v = float(v)
                total += v
                squares += v * v
            entry["dtype"] = dtype_name(group.dtype)
            entry["sum"] = total
            entry["sum_squares"] = squares
    out.append(entry)
    for name in children:
        child_path = "/" + name if path == "/" else path + "/" + name
        object_entries(group[name], child_path, out, ancestors)


def write_expected(name, notes, path=None):
    path = path or os.path.join(OUT, name + ".h5")
    with h5py.File(path, "r") as f:
        objects = []
        object_entries(f, "/", objects, set())
    # Superblock version from the file itself (byte 8), not the property list.
    with open(path, "rb") as raw:
        head = raw.read(9)
    expected = {
        "generator": {"script": "scripts/make_hdf5_fixtures.py", "seed": SEED, "h5py": h5py.version.version,
                      "hdf5": h5py.version.hdf5_version, "numpy": np.__version__},
        "notes": notes,
        "superblock_version": head[8],
        "objects": objects,
    }
    with open(os.path.join(OUT, name + ".json"), "w") as out:
        json.dump(expected, out, indent=1)
        out.write("\n")


# ---- fixtures ----------------------------------------------------------------

def keras_like_tree(f):
    """Groups, datasets and attributes shaped like a Keras 2 .h5 file."""
    f.attrs["backend"] = "tensorflow"
    f.attrs["keras_version"] = "2.13.1"
    f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": []}})
    weights = f.create_group("model_weights")
    weights.attrs["layer_names"] = np.array([b"conv2d", b"dense"])
    conv = weights.create_group("conv2d").create_group("conv2d")
    conv.create_dataset("kernel:0", data=values((3, 3, 1, 5)))
    conv.create_dataset("bias:0", data=values((5,)))
    weights["conv2d"].attrs["weight_names"] = np.array([b"conv2d/kernel:0", b"conv2d/bias:0"])
    dense = weights.create_group("dense").create_group("dense")
    dense.create_dataset("kernel:0", data=values((20, 10)))
    dense.create_dataset("bias:0", data=values((10,)))
    weights["dense"].attrs["weight_names"] = np.array([b"dense/kernel:0", b"dense/bias:0"])
    f.create_dataset("scalar_int64", data=np.int64(7))
    f.create_group("empty_group")


def make_basic():
    with h5py.File(os.path.join(OUT, "basic_earliest.h5"), "w", libver="earliest") as f:
        keras_like_tree(f)
    write_expected("basic_earliest", "libver earliest: superblock 0, v1 object headers, symbol-table groups")
    with h5py.File(os.path.join(OUT, "basic_latest.h5"), "w", libver="latest") as f:
        keras_like_tree(f)
    write_expected("basic_latest", "libver latest: superblock 3, OHDR headers, link messages")


def make_superblock_v1():
    # A non-default chunk B-tree K forces superblock version 1. h5py does not
    # wrap H5Pset_istore_k, so call it on the same property list through the
    # HDF5 library h5py itself is linked against.
    import ctypes
    import ctypes.util
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    library = ctypes.CDLL(LIBHDF5)
    library.H5Pset_istore_k.argtypes = [ctypes.c_int64, ctypes.c_uint]
    if library.H5Pset_istore_k(fcpl.id, 64) < 0:
        raise RuntimeError("H5Pset_istore_k failed")
    path = os.path.join(OUT, "superblock_v1.h5")
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as f:
        f.create_dataset("data", data=values((4, 6)))
        f.create_dataset("chunked", data=values((9, 7)), chunks=(4, 3))
        f.attrs["note"] = "superblock v1"
    write_expected("superblock_v1", "superblock version 1 (non-default indexed storage K)")


def make_filters():
    with h5py.File(os.path.join(OUT, "filters_earliest.h5"), "w", libver="earliest") as f:
        # Smooth data so deflate has something to do; shape not a multiple of the chunk.
        smooth = np.cumsum(values((23, 17)), axis=1).astype("float32")
        f.create_dataset("gzip_shuffle_fletcher", data=smooth, chunks=(8, 5), compression="gzip",
                         compression_opts=6, shuffle=True, fletcher32=True)
        f.create_dataset("gzip_only", data=values((40,), "int16"), chunks=(16,), compression="gzip")
        f.create_dataset("shuffle_only", data=values((10, 3), "float64"), chunks=(4, 3), shuffle=True)
        f.create_dataset("fletcher_only", data=values((13,), "int32"), chunks=(5,), fletcher32=True)
        f.create_dataset("chunked_plain", data=values((5, 4, 3)), chunks=(2, 3, 2))
        partial = f.create_dataset("partially_written", shape=(6, 6), chunks=(3, 3), dtype="float32",
                                   fillvalue=1.5)
        partial[0:3, 0:3] = values((3, 3))
    write_expected("filters_earliest", "layout v3 chunked, v1 B-tree index, gzip/shuffle/fletcher32, fill value")


def make_chunk_indexes():
    with h5py.File(os.path.join(OUT, "chunk_indexes.h5"), "w", libver="latest") as f:
        f.create_dataset("single_chunk", data=values((5, 7)), chunks=(5, 7))
        f.create_dataset("single_chunk_gzip", data=values((6, 4)), chunks=(6, 4), compression="gzip")
        f.create_dataset("fixed_array", data=values((10, 9)), chunks=(3, 4), maxshape=(12, 20))
        f.create_dataset("fixed_array_gzip", data=values((10, 9)), chunks=(3, 4), compression="gzip",
                         fletcher32=True)
        f.create_dataset("extensible_array", data=values((11, 6)), chunks=(2, 4), maxshape=(None, 6))
        f.create_dataset("extensible_array_gzip", data=values((9, 5), "int32"), chunks=(2, 2),
                         maxshape=(None, 8), compression="gzip", shuffle=True)
        f.create_dataset("btree_v2", data=values((7, 8)), chunks=(3, 3), maxshape=(None, None))
        f.create_dataset("btree_v2_gzip", data=values((7, 8), "float64"), chunks=(3, 3), maxshape=(None, None),
                         compression="gzip")
        # Implicit index: early allocation, no filters, fixed dimensions.
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((4, 3))
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
        space = h5py.h5s.create_simple((9, 7))
        dsid = h5py.h5d.create(f.id, b"implicit", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, values((9, 7)))
    write_expected("chunk_indexes", "layout v4: single chunk, fixed array, extensible array, v2 B-tree, implicit")

    with h5py.File(os.path.join(OUT, "chunk_indexes_large.h5"), "w", libver="latest") as f:
        # 1100 one-byte chunks: a paged fixed array data block (page = 1024 entries).
        f.create_dataset("fixed_array_paged", data=values((1100,), "int8"), chunks=(1,))
        # 300 chunks on the unlimited dimension: index block, data blocks and secondary blocks.
        f.create_dataset("extensible_array_many", data=values((300,), "int8"), chunks=(1,), maxshape=(None,))
    write_expected("chunk_indexes_large", "paged fixed array; extensible array with secondary blocks")


def make_compact():
    with h5py.File(os.path.join(OUT, "compact.h5"), "w") as f:
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple((4, 5))
        dsid = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, values((4, 5)))
        f.create_dataset("contiguous", data=values((3, 2), "float64"))
    write_expected("compact", "compact layout")


def make_track_order():
    with h5py.File(os.path.join(OUT, "track_order.h5"), "w", track_order=True) as f:
        group = f.create_group("ordered", track_order=True)
        for name in ["zeta", "alpha", "mid", "beta"]:
            group.create_dataset(name, data=values((2,)))
        for name in ["z_attr", "a_attr", "m_attr"]:
            group.attrs[name] = values((2,), "int32")
        unordered = f.create_group("unordered", track_order=False)
        for name in ["zeta", "alpha", "mid"]:
            unordered.create_group(name)
        for name in ["z_attr", "a_attr"]:
            unordered.attrs[name] = 1.0
    write_expected("track_order", "creation-order tracked groups and attributes next to name-ordered ones")


def make_dense():
    with h5py.File(os.path.join(OUT, "dense.h5"), "w", libver="latest") as f:
        links = f.create_group("many_links")
        for i in range(20):
            links.create_dataset("d%02d" % (19 - i), data=np.full((2,), i, dtype="int16"))
        attrs = f.create_group("many_attributes")
        for i in range(20):
            attrs.attrs["attr_%02d" % (19 - i)] = np.arange(i + 1, dtype="float32")
        attrs.attrs["text"] = "dense text attribute"
        # Over the 4 KB managed-object limit of attribute heaps: a "huge" heap object.
        attrs.attrs["big_text"] = np.bytes_(b"0123456789abcdef" * 400)  # fixed length, stored inline
        ordered = f.create_group("many_links_ordered", track_order=True)
        for i in range(12):
            ordered.create_group("g%02d" % (11 - i))
            ordered.attrs["a%02d" % (11 - i)] = np.int64(i)
    write_expected("dense", "dense link and attribute storage (fractal heap + v2 B-tree), > 8 entries")


def make_strings():
    with h5py.File(os.path.join(OUT, "strings.h5"), "w") as f:
        f.attrs["vlen_scalar"] = "variable length"
        f.attrs["vlen_array"] = np.array(["one", "two", "three"], dtype=h5py.string_dtype())
        f.attrs["fixed_scalar"] = np.bytes_(b"fixed")
        f.attrs["fixed_array"] = np.array([b"a", b"bb", b"ccc"])
        f.attrs["utf8_scalar"] = "gr\u00fc\u00dfe"
        f.attrs["empty_list"] = np.array([], dtype="S1")
        space_padded = h5py.h5t.C_S1.copy()
        space_padded.set_size(6)
        space_padded.set_strpad(h5py.h5t.STR_SPACEPAD)
        attr = h5py.h5a.create(f.id, b"space_padded", space_padded, h5py.h5s.create(h5py.h5s.SCALAR))
        attr.write(np.array(b"ab    ", dtype="S6"))
        f.create_dataset("vlen_dataset", data=np.array(["x", "yy", "zzz"], dtype=h5py.string_dtype()))
        f.create_dataset("fixed_dataset", data=np.array([b"alpha", b"be"]))
    write_expected("strings", "fixed (null-padded, space-padded) and variable-length strings, scalar and array")


def make_keras_split_attribute():
    """Keras writes attributes over 64512 bytes as name0, name1, ... chunks."""
    limit = 64512
    names = np.array([("layer_with_a_long_name_%05d" % i).encode() for i in range(3000)])
    with h5py.File(os.path.join(OUT, "split_attribute.h5"), "w") as f:
        group = f.create_group("model_weights")
        chunks = 1
        chunked = np.array_split(names, chunks)
        while any(c.nbytes > limit for c in chunked):
            chunks += 1
            chunked = np.array_split(names, chunks)
        for i, part in enumerate(chunked):
            group.attrs["layer_names%d" % i] = part
    write_expected("split_attribute", "a > 64 KB attribute split into layer_names0, layer_names1, ... like Keras")


def make_dtypes():
    with h5py.File(os.path.join(OUT, "dtypes.h5"), "w") as f:
        for name in ["float16", "float32", "float64", "int8", "int16", "int32", "int64",
                     "uint8", "uint16", "uint32", "uint64"]:
            f.create_dataset(name, data=values((3, 4), name))
        for name in [">f4", ">f8", ">i2", ">i4", ">i8", ">u2", ">f2"]:
            f.create_dataset("big_endian_" + np.dtype(name).name, data=values((5,), name))
        f.create_dataset("bool", data=values((6,), "bool"))
        f.create_dataset("scalar_float16", data=np.float16(1.5))
        f.create_dataset("empty", data=np.zeros((0, 3), dtype="float32"))
        f.attrs["bool_attr"] = np.array([True, False, True])
        f.attrs["float16_attr"] = np.float16(-2.25)
        f.attrs["big_endian_attr"] = np.array([1, -2, 3], dtype=">i4")
        f.attrs["int8_attr"] = np.int8(-5)
    write_expected("dtypes", "float16/32/64, int8..int64, uint8..uint64, big-endian, bool enum")


def make_links():
    """Soft link, a second hard link and a group linked into itself. h5py
    would recurse forever on the cycle, so there is no .json: the test
    checks this file directly."""
    with h5py.File(os.path.join(OUT, "links.h5"), "w", libver="latest") as f:
        a = f.create_group("a")
        a.create_dataset("data", data=np.arange(6, dtype="float32").reshape(2, 3))
        f["soft_to_data"] = h5py.SoftLink("/a/data")
        f["dangling"] = h5py.SoftLink("/nowhere")
        f["hard_to_a"] = a
        a["self"] = a


def make_old_style_large():
    """Old-style groups and chunk B-trees deep enough for internal (level 1)
    v1 B-tree nodes, plus soft links stored as symbol table entries."""
    with h5py.File(os.path.join(OUT, "old_style_large.h5"), "w", libver="earliest") as f:
        group = f.create_group("many")
        target = f.create_dataset("target", data=np.arange(3, dtype="int16"))
        # 300 hard links to one dataset: > 32 symbol nodes, so the B-tree needs an internal level.
        for i in range(300):
            group["link%03d" % i] = target
        for i in range(3):
            group["soft%d" % i] = h5py.SoftLink("/target")
        # 150 one-element chunks: > 64 entries per chunk B-tree node, so level 1 again.
        f.create_dataset("many_chunks", data=values((150,), "int8"), chunks=(1,))
    write_expected("old_style_large", "v1 B-trees with internal nodes (groups and chunks), old-style soft links")


def make_userblock():
    with h5py.File(os.path.join(OUT, "userblock.h5"), "w", userblock_size=512) as f:
        f.create_dataset("data", data=values((4,)))
        f.attrs["note"] = "superblock at offset 512, base address 512"
    write_expected("userblock", "512-byte user block before the superblock")


def make_superblock_v2():
    with h5py.File(os.path.join(OUT, "superblock_v2.h5"), "w", libver=("v108", "v108")) as f:
        f.create_dataset("data", data=values((3, 3)), chunks=(2, 2), maxshape=(None, 3))
        f.attrs["text"] = "libver v108"
        g = f.create_group("group")
        g.attrs["number"] = np.float64(2.5)
    write_expected("superblock_v2", "libver v108 bounds: superblock version 2, 1.8-style chunk index")


CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "corpus")


def make_corpus_expectations():
    """Expected trees of the real files in /work/shared/corpus (the files
    themselves stay out of the repository)."""
    source = os.path.join(CORPUS, "N-Harish_onnx_converted_model__mnist.h5")
    write_expected("corpus_N-Harish_mnist", "h5py's view of " + os.path.basename(source), path=source)


def main():
    os.makedirs(OUT, exist_ok=True)
    make_basic()
    make_superblock_v1()
    make_filters()
    make_chunk_indexes()
    make_compact()
    make_track_order()
    make_dense()
    make_strings()
    make_keras_split_attribute()
    make_dtypes()
    make_links()
    make_old_style_large()
    make_superblock_v2()
    make_userblock()
    make_corpus_expectations()
    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        total += size
        print("%-32s %7d bytes" % (name, size))
    print("total %d bytes" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
