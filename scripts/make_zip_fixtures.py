#!/usr/bin/python3
"""Writes the ZIP reader fixtures into tests/fixtures/zip/.

Run with Debian's interpreter: /usr/bin/python3 scripts/make_zip_fixtures.py
Inputs: Python's zipfile/zlib (versions recorded in expected.json), and
member contents drawn from numpy.random.default_rng(SEED).

Good archives (expected.json lists each member's size, CRC-32 from zlib and
byte sum, so the tests check what zipfile wrote, not what our reader says):
  stored.zip          members stored (method 0)
  deflated.zip        members deflated (method 8), plus an empty member and a directory
  zip64_local.zip     zipfile's force_zip64: zip64 extra field in the local headers
  zip64_central.zip   hand-built: saturated sizes/offsets in the central directory,
                      zip64 extra fields, zip64 end record and locator
  commented.zip       a 2000-byte archive comment after the end record
Broken archives (expected.json names a phrase the error must contain):
  truncated.zip, bad_crc.zip, corrupt_deflate.zip, bad_local_signature.zip,
  local_name_mismatch.zip, encrypted.zip, bzip2.zip, size_too_small.zip,
  not_a_zip.bin, directory_overflow.zip
"""
import io
import json
import os
import struct
import sys
import zipfile
import zlib

import numpy as np

SEED = 20261126
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "zip")


def contents():
    rng = np.random.default_rng(SEED)
    config = json.dumps({"class_name": "Sequential", "layers": [{"name": "conv2d", "filters": 4}]},
                        indent=2).encode()
    weights = rng.standard_normal(256).astype("<f4").tobytes()  # 1024 bytes, compressible only a little
    repetitive = (b"convscope " * 300)  # compresses well
    return {"config.json": config, "weights.bin": weights, "text/repeat.txt": repetitive}


def write_zip(members, method, **open_kwargs):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            if open_kwargs:
                info = zipfile.ZipInfo(name, date_time=(2026, 11, 26, 0, 0, 0))
                info.compress_type = method
                with archive.open(info, "w", **open_kwargs) as handle:
                    handle.write(data)
            else:
                info = zipfile.ZipInfo(name, date_time=(2026, 11, 26, 0, 0, 0))
                archive.writestr(info, data, compress_type=method)
    return buffer.getvalue()


def build_zip64_central(members):
    """A stored archive whose central directory saturates sizes and offsets
    and keeps the real values in zip64 extra fields, with a zip64 end record."""
    out = bytearray()
    central = bytearray()
    for name, data in members.items():
        name_bytes = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x5B9A, crc, len(data), len(data),
                           len(name_bytes), 0)
        out += name_bytes + data
        extra = struct.pack("<HHQQQ", 0x0001, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x5B9A, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(name_bytes), len(extra), 0, 0, 0, 0, 0xFFFFFFFF)
        central += name_bytes + extra
    directory_offset = len(out)
    out += central
    zip64_end_offset = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members),
                       len(central), directory_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_end_offset, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


def find_central_entry(data, name):
    """Offset of the central directory header for `name` (parsed with zipfile)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(name)
    start = archive.start_dir
    position = start
    while True:
        assert data[position:position + 4] == b"PK\x01\x02"
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46:position + 46 + name_length].decode() == name:
            return position, info.header_offset
        position += 46 + name_length + extra_length + comment_length


def patch(data, offset, new_bytes):
    out = bytearray(data)
    out[offset:offset + len(new_bytes)] = new_bytes
    return bytes(out)


def describe(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    members = []
    for info in archive.infolist():
        payload = archive.read(info.filename)
        members.append({"name": info.filename, "method": info.compress_type, "size": len(payload),
                        "crc32": zlib.crc32(payload) & 0xFFFFFFFF, "byte_sum": int(sum(payload))})
    return members


def main():
    os.makedirs(OUT, exist_ok=True)
    members = contents()
    good = {}
    good["stored.zip"] = write_zip(members, zipfile.ZIP_STORED)
    with_extras = dict(members)
    with_extras["empty.txt"] = b""
    with_extras["folder/"] = b""
    good["deflated.zip"] = write_zip(with_extras, zipfile.ZIP_DEFLATED)
    good["zip64_local.zip"] = write_zip(members, zipfile.ZIP_DEFLATED, force_zip64=True)
    good["zip64_central.zip"] = build_zip64_central(members)
    commented = io.BytesIO()
    with zipfile.ZipFile(commented, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.comment = b"# comment " * 200
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 26, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    good["commented.zip"] = commented.getvalue()

    bad = {}
    stored = good["stored.zip"]
    deflated = good["deflated.zip"]
    bad["truncated.zip"] = (deflated[:len(deflated) // 2], "no end of central directory record")
    stored_archive = zipfile.ZipFile(io.BytesIO(stored))
    weights_info = stored_archive.getinfo("weights.bin")
    weights_data_offset = weights_info.header_offset + 30 + len("weights.bin")
    flipped = bytes([stored[weights_data_offset + 10] ^ 0x55])
    bad["bad_crc.zip"] = (patch(stored, weights_data_offset + 10, flipped), "CRC-32")
    deflated_archive = zipfile.ZipFile(io.BytesIO(deflated))
    repeat_info = deflated_archive.getinfo("text/repeat.txt")
    repeat_data_offset = repeat_info.header_offset + 30 + len("text/repeat.txt")
    bad["corrupt_deflate.zip"] = (patch(deflated, repeat_data_offset, b"\xff" * 8), "text/repeat.txt")
    bad["bad_local_signature.zip"] = (patch(stored, weights_info.header_offset, b"XX\x03\x04"),
                                      "expected signature 0x04034b50")
    bad["local_name_mismatch.zip"] = (patch(stored, weights_info.header_offset + 30, b"W"),
                                      "names the member 'Weights.bin'")
    central, local = find_central_entry(stored, "weights.bin")
    encrypted = patch(stored, central + 8, struct.pack("<H", 1))
    encrypted = patch(encrypted, local + 6, struct.pack("<H", 1))
    bad["encrypted.zip"] = (encrypted, "is encrypted")
    bad["bzip2.zip"] = (write_zip(members, zipfile.ZIP_BZIP2), "compression method 12")
    # Declares 100 bytes for a member that inflates to 3000, in both headers.
    central, local = find_central_entry(deflated, "text/repeat.txt")
    shrunk = patch(deflated, central + 24, struct.pack("<I", 100))
    shrunk = patch(shrunk, local + 22, struct.pack("<I", 100))
    bad["size_too_small.zip"] = (shrunk, "more than the declared 100 bytes")
    bad["not_a_zip.bin"] = (bytes(np.random.default_rng(SEED).integers(0, 255, 300, dtype=np.uint8)),
                            "no end of central directory record")
    # End record claims the directory is larger than the bytes before it.
    end_offset = stored.rfind(b"PK\x05\x06")
    bad["directory_overflow.zip"] = (patch(stored, end_offset + 12, struct.pack("<I", 0x7FFFFFF0)),
                                     "central directory of")

    expected = {"generator": "scripts/make_zip_fixtures.py", "seed": SEED,
                "python": sys.version.split()[0], "zlib": zlib.ZLIB_VERSION, "good": {}, "bad": {}}
    for name, data in good.items():
        with open(os.path.join(OUT, name), "wb") as handle:
            handle.write(data)
        expected["good"][name] = describe(data)
    for name, (data, phrase) in bad.items():
        with open(os.path.join(OUT, name), "wb") as handle:
            handle.write(data)
        expected["bad"][name] = phrase
    with open(os.path.join(OUT, "expected.json"), "w") as handle:
        json.dump(expected, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("wrote", len(good) + len(bad), "archives to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
