#!/usr/bin/python3
"""Writes the PyTorch and SafeTensors reader fixtures into tests/fixtures/pytorch/.

Run with Debian's interpreter: /usr/bin/python3 scripts/make_pytorch_fixtures.py
Inputs: torch (1.13) with torch.manual_seed(SEED) random weights; versions are
recorded in expected.json.

Files:
  small_cnn_state_dict.pth  torch.save(model.state_dict()) of SmallCNN (conv, BN, linear)
  small_cnn_full.pt         torch.save(model): the whole pickled module
  checkpoint_wrapper.pth    {"epoch": 3, "model_state_dict": ..., "optimizer_state_dict": ...}
  noncontiguous.pth         a transposed (non-contiguous) tensor and a slice with an offset
  dtypes.pth                float64/float16/bfloat16/int64/int32/int16/int8/uint8/bool tensors
  small_cnn_script.pt       torch.jit.save(torch.jit.script(model))
  legacy.pth                torch.save(state_dict, ..., _use_new_zipfile_serialization=False)
  legacy_full.pt            torch.save(model, ..., _use_new_zipfile_serialization=False) (module sources inside)
  evil_os_system.pth        a zip whose data.pkl calls os.system, hand-built from opcodes
                            (never unpickled by this script)
  small_cnn.safetensors     the state dict written with numpy + json (no safetensors package)
  dtypes.safetensors        F64/F32/F16/BF16/I64/I32/I16/I8/U8/BOOL tensors, with __metadata__
  (legacy.pth and small_cnn_script.pt differ from run to run: torch writes
  storage keys from object ids and TorchScript debug records; their tensors do not.)
  expected.json             per file and key: dtype, shape and the float64 sum / sum of
                            squares / first values, from torch.load(..., weights_only=True)
  expected/<file>/<key>.npy torch.load(..., weights_only=True)[key].numpy() for a few keys
                            (bfloat16 as float32), which the tests compare byte for byte
"""
import io
import json
import os
import struct
import zipfile

import numpy as np
import torch
import torch.nn as nn

SEED = 20261202
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "pytorch")


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(16, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def make_model():
    torch.manual_seed(SEED)
    model = SmallCNN()
    with torch.no_grad():  # non-trivial BN statistics
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
                module.num_batches_tracked.fill_(7)
    return model.eval()


def stats(array):
    values = array.astype(np.float64).ravel()
    return {"dtype": str(array.dtype), "shape": list(array.shape), "sum": float(values.sum()),
            "sum_squares": float((values * values).sum()), "first": [float(v) for v in values[:4]]}


def to_numpy(tensor):
    if tensor.dtype == torch.bfloat16:
        return tensor.float().numpy()
    return tensor.numpy()


def record(expected, name, tensors, npy_keys=()):
    expected[name] = {key: stats(to_numpy(value)) for key, value in tensors.items()}
    folder = os.path.join(OUT, "expected", name)
    for key in npy_keys:
        os.makedirs(folder, exist_ok=True)
        # C order, as our .npy export writes it (a transposed tensor's numpy() is Fortran-ordered; same values)
        np.save(os.path.join(folder, key + ".npy"), np.ascontiguousarray(to_numpy(tensors[key])))


def loaded_state(path, *inner, weights_only=True):
    # torch 1.13's weights-only unpickler lacks BINFLOAT, which an optimizer's
    # lr needs; that file is ours, so it is loaded the ordinary way.
    obj = torch.load(path, weights_only=weights_only)
    for key in inner:
        obj = obj[key]
    return obj


# A pickle that calls os.system("echo pwned"), built from opcodes so that
# nothing here ever unpickles it: PROTO 2, GLOBAL 'posix system', the
# argument tuple, REDUCE, STOP.
def evil_pickle():
    return (b"\x80\x02" + b"cos\nsystem\n" + b"X" + struct.pack("<I", 11) + b"echo pwned" + b"\x85" +
            b"R" + b".")


def write_safetensors(path, tensors, metadata=None):
    header = {}
    data = b""
    for key, array in tensors.items():
        dtype, raw = array
        header[key] = {"dtype": dtype[0], "shape": dtype[1], "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # keeps the data area 8-byte aligned, as the writer does
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + data)


def safetensors_entry(tensor):
    names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
             torch.uint8: "U8", torch.bool: "BOOL"}
    tensor = tensor.contiguous()
    if tensor.dtype == torch.bfloat16:
        raw = tensor.view(torch.int16).numpy().astype("<i2").tobytes()
    else:
        raw = tensor.numpy().tobytes()
    return (names[tensor.dtype], list(tensor.shape)), raw


def dtype_tensors():
    generator = torch.Generator().manual_seed(SEED + 1)
    base = torch.randn(2, 3, generator=generator) * 10
    return {"f64": base.double(), "f32": base, "f16": base.half(), "bf16": base.bfloat16(),
            "i64": base.long(), "i32": base.int(), "i16": base.short(), "i8": base.to(torch.int8),
            "u8": base.abs().to(torch.uint8), "bool": base > 0, "scalar": torch.tensor(2.5)}


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {"versions": {"torch": torch.__version__, "numpy": np.__version__}}
    model = make_model()
    state = model.state_dict()
    conv_keys = ["features.0.weight", "features.0.bias", "features.1.running_var", "classifier.weight"]

    path = os.path.join(OUT, "small_cnn_state_dict.pth")
    torch.save(state, path)
    record(expected, "small_cnn_state_dict.pth", loaded_state(path), conv_keys)

    torch.save(model, os.path.join(OUT, "small_cnn_full.pt"))
    record(expected, "small_cnn_full.pt", state)

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    optimizer.step()  # creates momentum buffers, so the optimizer holds tensors too
    path = os.path.join(OUT, "checkpoint_wrapper.pth")
    torch.save({"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()},
               path)
    record(expected, "checkpoint_wrapper.pth", loaded_state(path, "model_state_dict", weights_only=False), ["features.0.weight"])

    generator = torch.Generator().manual_seed(SEED + 2)
    base = torch.randn(4, 6, generator=generator)
    path = os.path.join(OUT, "noncontiguous.pth")
    torch.save({"transposed": base.t(), "sliced": base[1:3, 2:5], "base": base}, path)
    record(expected, "noncontiguous.pth", loaded_state(path), ["transposed", "sliced"])

    path = os.path.join(OUT, "dtypes.pth")
    torch.save(dtype_tensors(), path)
    record(expected, "dtypes.pth", loaded_state(path), ["bf16", "f16", "bool"])

    scripted = torch.jit.script(make_model())
    torch.jit.save(scripted, os.path.join(OUT, "small_cnn_script.pt"))
    record(expected, "small_cnn_script.pt", dict(scripted.state_dict()))

    path = os.path.join(OUT, "legacy.pth")
    torch.save(state, path, _use_new_zipfile_serialization=False)
    record(expected, "legacy.pth", loaded_state(path), ["features.0.weight"])
    torch.save(model, os.path.join(OUT, "legacy_full.pt"), _use_new_zipfile_serialization=False)
    record(expected, "legacy_full.pt", model.state_dict())

    with zipfile.ZipFile(os.path.join(OUT, "evil_os_system.pth"), "w") as archive:
        for name, data in (("evil/data.pkl", evil_pickle()), ("evil/version", b"3\n")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 2, 0, 0, 0)), data)

    state = make_model().state_dict()
    write_safetensors(os.path.join(OUT, "small_cnn.safetensors"),
                      {key: safetensors_entry(value) for key, value in state.items()},
                      {"format": "pt", "source": "make_pytorch_fixtures.py"})
    record(expected, "small_cnn.safetensors", state, ["features.0.weight"])
    tensors = dtype_tensors()
    write_safetensors(os.path.join(OUT, "dtypes.safetensors"),
                      {key: safetensors_entry(value) for key, value in tensors.items()}, {"note": "dtypes"})
    record(expected, "dtypes.safetensors", tensors, ["bf16", "f16", "bool"])

    with open(os.path.join(OUT, "expected.json"), "w") as handle:
        json.dump(expected, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
