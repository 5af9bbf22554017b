"""Writers shared by the scripts that generate ConvScope's demo assets and
test fixtures (scripts/train_demo.py, scripts/make_keras_fixtures.py,
scripts/make_regressions.py), so each file kind is written one way:

  [SECTION] PNG: chunks, a deterministic encoder (8-bit grey or RGB) and the
            matching decoder
  [SECTION] Keras configs: layer configs as tf.keras 2.x (keras3=False) or
            Keras 3 (keras3=True) get_config() writes them, key order
            included, and Sequential model configs built from layer lists

Everything here is deterministic: same inputs, same bytes (train_demo.py
--check relies on it). Only numpy and the standard library are used.
"""

import struct
import zlib

import numpy as np


# ---------------------------------------------------------------- PNG

def png_chunk(kind, payload):
    """One PNG chunk: length, type, payload, CRC-32 of type + payload."""
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def _filter_rows(pixels):
    """Per row, the PNG filter (None/Sub/Up/Average/Paeth) with the smallest
    sum of absolute residuals: the usual heuristic, deterministic."""
    rows = pixels.shape[0]
    bpp = pixels.shape[2] if pixels.ndim == 3 else 1
    raw = pixels.reshape(rows, -1).astype(np.int16)
    out = bytearray()
    previous = np.zeros(raw.shape[1], np.int16)
    for row in raw:
        left = np.concatenate([np.zeros(bpp, np.int16), row[:-bpp]])
        up_left = np.concatenate([np.zeros(bpp, np.int16), previous[:-bpp]])
        p = left + previous - up_left
        pa, pb, pc = np.abs(p - left), np.abs(p - previous), np.abs(p - up_left)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, previous, up_left))
        candidates = [row, row - left, row - previous, row - (left + previous) // 2, row - paeth]
        residuals = [np.mod(c, 256).astype(np.uint8) for c in candidates]
        cost = [int(np.abs(r.astype(np.int8).astype(np.int32)).sum()) for r in residuals]
        best = int(np.argmin(cost))
        out.append(best)
        out += residuals[best].tobytes()
        previous = row
    return bytes(out)


def encode_png(pixels):
    """PNG bytes of 8-bit grayscale (H x W) or RGB (H x W x 3) pixels, no
    ancillary chunks."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    color_type = 0 if pixels.ndim == 2 else 2
    height, width = pixels.shape[:2]
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    data = zlib.compress(_filter_rows(pixels), 9)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b""))


def write_png(path, pixels):
    """Writes encode_png(pixels) to `path`."""
    with open(path, "wb") as f:
        f.write(encode_png(pixels))


def read_png(path):
    """Decodes what write_png writes (8-bit grey or RGB, one or more IDAT)."""
    with open(path, "rb") as f:
        blob = f.read()
    position, idat, header = 8, b"", None
    while position < len(blob):
        length, kind = struct.unpack(">I4s", blob[position:position + 8])
        payload = blob[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", payload)
        elif kind == b"IDAT":
            idat += payload
        position += 12 + length
    width, height, _, color_type, _, _, _ = header
    bpp = 1 if color_type == 0 else 3
    stride = width * bpp
    raw = zlib.decompress(idat)
    image = np.zeros((height, stride), np.int32)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        row = np.zeros(stride, np.int32)
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = a
            elif kind == 2:
                predictor = b
            elif kind == 3:
                predictor = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            row[x] = (line[x] + predictor) & 0xFF
        image[y] = row
        previous = row
    image = image.astype(np.uint8)
    return image if bpp == 1 else image.reshape(height, width, 3)


# ---------------------------------------------------------------- Keras configs

def keras_initializer(class_name, keras3=False):
    """An initializer entry as get_config() writes it."""
    entry = {"class_name": class_name,
             "config": {"seed": None} if class_name == "GlorotUniform" else {}}
    if keras3:
        entry = {"module": "keras.initializers", **entry, "registered_name": None}
    return entry


def keras_dtype(keras3=False, shared_policy_id=None, name="float32"):
    """A layer's dtype: the plain name in tf.keras 2.x, a DTypePolicy object in
    Keras 3 (with the `shared_object_id` Keras 3 writes when one policy object
    is serialised more than once)."""
    if not keras3:
        return name
    policy = {"module": "keras", "class_name": "DTypePolicy",
              "config": {"name": name}, "registered_name": None}
    if shared_policy_id is not None:
        policy["shared_object_id"] = shared_policy_id
    return policy


def keras_layer_config(kind, options, name, keras3=False, dtype=None):
    """The config dict of one layer as tf.keras 2.3 (keras3=False) or Keras
    3.10 (keras3=True) get_config() returns it; key order follows theirs.

    options: Conv2D filters, kernel, padding, activation, use_bias (strides,
    default 1); BatchNormalization axis (default -1 in Keras 3, [3] in
    tf.keras 2.x, which stores the built axis list), momentum, epsilon;
    Activation activation; MaxPooling2D pool; Dropout rate; Dense units,
    activation. dtype: the "dtype" entry (default keras_dtype(keras3)).
    """
    config = {"name": name, "trainable": True, "dtype": keras_dtype(keras3) if dtype is None else dtype}
    if kind == "Conv2D":
        strides = options.get("strides", 1)
        config.update({
            "filters": options["filters"],
            "kernel_size": [options["kernel"], options["kernel"]],
            "strides": [strides, strides],
            "padding": options["padding"],
            "data_format": "channels_last",
            "dilation_rate": [1, 1],
        })
        if keras3:
            config["groups"] = 1
        config.update({
            "activation": options["activation"],
            "use_bias": options["use_bias"],
            "kernel_initializer": keras_initializer("GlorotUniform", keras3),
            "bias_initializer": keras_initializer("Zeros", keras3),
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        })
    elif kind == "BatchNormalization":
        config.update({
            "axis": options.get("axis", -1 if keras3 else [3]),
            "momentum": options["momentum"],
            "epsilon": options["epsilon"],
            "center": True,
            "scale": True,
            "beta_initializer": keras_initializer("Zeros", keras3),
            "gamma_initializer": keras_initializer("Ones", keras3),
            "moving_mean_initializer": keras_initializer("Zeros", keras3),
            "moving_variance_initializer": keras_initializer("Ones", keras3),
            "beta_regularizer": None,
            "gamma_regularizer": None,
            "beta_constraint": None,
            "gamma_constraint": None,
        })
        if keras3:
            config["synchronized"] = False
    elif kind == "Activation":
        config["activation"] = options["activation"]
    elif kind == "MaxPooling2D":
        pool = options["pool"]
        config.update({"pool_size": [pool, pool], "padding": "valid",
                       "strides": [pool, pool], "data_format": "channels_last"})
    elif kind == "Dropout":
        if keras3:
            config.update({"rate": options["rate"], "seed": None, "noise_shape": None})
        else:
            config.update({"rate": options["rate"], "noise_shape": None, "seed": None})
    elif kind == "Flatten":
        config["data_format"] = "channels_last"
    elif kind == "GlobalAveragePooling2D":
        config["data_format"] = "channels_last"
        if keras3:
            config["keepdims"] = False  # tf.keras 2.3 predates keepdims
    elif kind == "Dense":
        config.update({
            "units": options["units"],
            "activation": options["activation"],
            "use_bias": True,
            "kernel_initializer": keras_initializer("GlorotUniform", keras3),
            "bias_initializer": keras_initializer("Zeros", keras3),
            "kernel_regularizer": None,
            "bias_regularizer": None,
        })
        if not keras3:
            config["activity_regularizer"] = None
        config.update({"kernel_constraint": None, "bias_constraint": None})
    else:
        raise ValueError("no Keras config for %s" % kind)
    return config


def _layer_input_shapes(layers, input_shape_hwc):
    """Each layer's NHWC input shape (batch as None), for Keras 3 build_config."""
    shapes = []
    shape = [None, *input_shape_hwc]
    for kind, options in layers:
        shapes.append(list(shape))
        if kind == "Conv2D":
            if options["padding"] == "valid":
                shape = [None, shape[1] - options["kernel"] + 1,
                         shape[2] - options["kernel"] + 1, options["filters"]]
            else:
                shape = [None, shape[1], shape[2], options["filters"]]
        elif kind == "MaxPooling2D":
            shape = [None, shape[1] // options["pool"], shape[2] // options["pool"], shape[3]]
        elif kind == "Flatten":
            shape = [None, int(np.prod(shape[1:]))]
        elif kind == "GlobalAveragePooling2D":
            shape = [None, shape[3]]
        elif kind == "Dense":
            shape = [None, options["units"]]
    return shapes


# Keras 3 layers that mark themselves built in __init__ never record a
# build_config (pooling, dropout, activation); the others do.
KERAS3_BUILT_AT_INIT = {"MaxPooling2D", "Dropout", "Activation", "GlobalAveragePooling2D"}


def keras2_sequential_config(layers, names, input_shape_hwc):
    """A tf.keras 2.3 Sequential model config (no InputLayer entry: the first
    layer carries batch_input_shape). layers: (kind, options) pairs."""
    entries = []
    for index, (name, (kind, options)) in enumerate(zip(names, layers)):
        config = keras_layer_config(kind, options, name, keras3=False)
        if index == 0:
            config["batch_input_shape"] = [None, *input_shape_hwc]
        entries.append({"class_name": kind, "config": config})
    return {"class_name": "Sequential",
            "config": {"name": "sequential", "layers": entries,
                       "build_input_shape": [None, *input_shape_hwc]}}


def keras3_sequential_config(layers, names, input_shape_hwc, shared_policy_id):
    """A Keras 3.10 Sequential model config with its InputLayer and each
    built layer's build_config. layers: (kind, options) pairs."""
    entries = [{
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {"batch_shape": [None, *input_shape_hwc], "dtype": "float32",
                   "sparse": False, "ragged": False, "name": "input_layer"},
        "registered_name": None,
    }]
    input_shapes = _layer_input_shapes(layers, input_shape_hwc)
    for index, (name, (kind, options)) in enumerate(zip(names, layers)):
        # As in the corpus .keras: the first layer's policy is serialised
        # before the model's shared one, so only the later ones carry the id.
        dtype = keras_dtype(True, shared_policy_id if index > 0 else None)
        config = keras_layer_config(kind, options, name, keras3=True, dtype=dtype)
        entry = {"module": "keras.layers", "class_name": kind, "config": config,
                 "registered_name": None}
        if kind not in KERAS3_BUILT_AT_INIT:
            entry["build_config"] = {"input_shape": input_shapes[index]}
        entries.append(entry)
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": True,
                   "dtype": keras_dtype(True, shared_policy_id),
                   "layers": entries, "build_input_shape": [None, *input_shape_hwc]},
        "registered_name": None,
        "build_config": {"input_shape": [None, *input_shape_hwc]},
    }
