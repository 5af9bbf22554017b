#!/usr/bin/python3
"""Writes tests/fixtures/keras/layouts/: Keras files whose layouts need the
reader to flatten nested models, each with an input .npy and the output
PyTorch computes from the same weights (<name>_in.npy, <name>_out.npy),
plus <name>.expected.json listing the flattened layer names (InputLayers
left out).

Run with Debian's Python (numpy, h5py, torch):
    /usr/bin/python3 scripts/make_keras_layout_fixtures.py

No TensorFlow here: the configs are written in the JSON layouts those
Keras versions write (see scripts/keras_layout.py), the weights with h5py,
and the reference outputs with torch.nn.functional on NCHW copies.
"""

import io
import json
import os
import sys
import zipfile

import h5py

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_layout as kl  # noqa: E402
from make_keras_fixtures import (k2_bn, k2_conv, k2_dense, k2_layer, k3_entry, k3_layer, k3_node,  # noqa: E402
                                 k3_tensor, rand, with_inbound)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras", "layouts")


# ---- PyTorch references of the Keras layers (NHWC in, NHWC out) ------------

def nchw(x):
    return torch.from_numpy(x).permute(0, 3, 1, 2).double()


def nhwc(t):
    return t.permute(0, 2, 3, 1).numpy()


def same_pad(t, k, s):
    """Keras/TF "same": pad total max((out-1)*s+k-n, 0), the extra at the end."""
    pads = []
    for n in (t.shape[3], t.shape[2]):
        out = (n + s - 1) // s
        total = max((out - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(t, pads)


def conv2d(x, kernel, bias, stride=1, padding="valid", groups=1):
    t = nchw(x)
    k = kernel.shape[0]
    if padding == "same":
        t = same_pad(t, k, stride)
    weight = torch.from_numpy(kernel).permute(3, 2, 0, 1).double()  # HWIO -> OIHW
    b = None if bias is None else torch.from_numpy(bias).double()
    return nhwc(F.conv2d(t, weight, b, stride=stride, groups=groups))


def depthwise2d(x, kernel, bias, stride=1, padding="same"):
    # Keras depthwise kernel (kh, kw, in, 1) -> grouped conv weight (in, 1, kh, kw)
    t = nchw(x)
    if padding == "same":
        t = same_pad(t, kernel.shape[0], stride)
    weight = torch.from_numpy(kernel).permute(2, 3, 0, 1).double()
    b = None if bias is None else torch.from_numpy(bias).double()
    return nhwc(F.conv2d(t, weight, b, stride=stride, groups=x.shape[3]))


def batch_norm(x, gamma, beta, mean, var, eps=1e-3):
    return (x - mean) / np.sqrt(var.astype(np.float64) + eps) * gamma + beta


def dense(x, kernel, bias):
    return x.astype(np.float64) @ kernel + bias


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def positive(rng, *shape):
    return rng.uniform(0.5, 1.5, size=shape).astype(np.float32)


def save_case(name, x, y, expected):
    np.save(os.path.join(OUT, name + "_in.npy"), x.astype(np.float32))
    np.save(os.path.join(OUT, name + "_out.npy"), np.asarray(y, dtype=np.float32))
    with open(os.path.join(OUT, name + ".expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


# ---- Teachable Machine: Sequential > Sequential > Functional, flat weights --

TM = {}  # the Teachable Machine model's pieces, reused by the bundle fixtures

def teachable_machine():
    """keras_model.h5 as Teachable Machine exports it: sequential_4 holds
    sequential_1 (a Functional "model1", a small MobileNetV2 stand-in, then
    a pooling layer) and sequential_3 (the classifier head). The weights of
    everything inside sequential_1 sit flat in model_weights/sequential_1,
    named "<inner layer>/<var>:0", trainable ones first."""
    rng = np.random.default_rng(1401)
    conv1_k = rand(rng, 3, 3, 3, 4)
    bn = [positive(rng, 4), rand(rng, 4), rand(rng, 4), positive(rng, 4)]
    dw_k = rand(rng, 3, 3, 4, 1)
    proj_k, proj_b = rand(rng, 1, 1, 4, 6), rand(rng, 6)
    d1_k, d1_b = rand(rng, 6, 5), rand(rng, 5)
    d2_k, d2_b = rand(rng, 5, 3), rand(rng, 3)

    relu6 = k2_layer("ReLU", "Conv1_relu", max_value=6.0, negative_slope=0.0, threshold=0.0)
    functional = {"class_name": "Model", "config": {"name": "model1", "layers": [
        with_inbound(k2_layer("InputLayer", "input_1", batch_input_shape=[None, 8, 8, 3], sparse=False)),
        with_inbound(k2_conv("Conv1", 4, 3, strides=2, padding="same", use_bias=False), [("input_1", 0, 0)]),
        with_inbound(k2_bn("bn_Conv1"), [("Conv1", 0, 0)]),
        with_inbound(relu6, [("bn_Conv1", 0, 0)]),
        with_inbound(k2_layer("DepthwiseConv2D", "expanded_conv_depthwise", kernel_size=[3, 3], strides=[1, 1],
                              padding="same", depth_multiplier=1, data_format="channels_last", dilation_rate=[1, 1],
                              activation="linear", use_bias=False), [("Conv1_relu", 0, 0)]),
        with_inbound(k2_layer("Add", "block_add"), [("Conv1_relu", 0, 0), ("expanded_conv_depthwise", 0, 0)]),
        with_inbound(k2_conv("out_relu", 6, 1, activation="relu"), [("block_add", 0, 0)]),
    ], "input_layers": [["input_1", 0, 0]], "output_layers": [["out_relu", 0, 0]]}}
    sequential_1 = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        functional, k2_layer("GlobalAveragePooling2D", "global_average_pooling2d_GlobalAveragePooling2D1",
                             data_format="channels_last")]}}
    sequential_3 = {"class_name": "Sequential", "config": {"name": "sequential_3", "layers": [
        k2_dense("dense_Dense1", 5, activation="relu", batch_input_shape=[None, 6]),
        k2_dense("dense_Dense2", 3, activation="softmax")]}}
    config = {"class_name": "Sequential", "config": {"name": "sequential_4", "layers": [sequential_1, sequential_3]}}
    flat = [("Conv1/kernel:0", conv1_k), ("bn_Conv1/gamma:0", bn[0]), ("bn_Conv1/beta:0", bn[1]),
            ("expanded_conv_depthwise/depthwise_kernel:0", dw_k), ("out_relu/kernel:0", proj_k),
            ("out_relu/bias:0", proj_b), ("bn_Conv1/moving_mean:0", bn[2]), ("bn_Conv1/moving_variance:0", bn[3])]
    head = [("dense_Dense1/kernel:0", d1_k), ("dense_Dense1/bias:0", d1_b),
            ("dense_Dense2/kernel:0", d2_k), ("dense_Dense2/bias:0", d2_b)]
    kl.write_keras2_h5(os.path.join(OUT, "tm_keras_model.h5"), config,
                       [("sequential_1", flat), ("sequential_3", head)], keras_version="2.2.4-tf")

    x = rng.uniform(-1, 1, size=(2, 8, 8, 3)).astype(np.float32)
    a = np.clip(batch_norm(conv2d(x, conv1_k, None, 2, "same"), *bn), 0, 6)
    a = a + depthwise2d(a, dw_k, None)
    a = np.maximum(conv2d(a, proj_k, proj_b), 0).mean(axis=(1, 2))
    y = softmax(dense(np.maximum(dense(a, d1_k, d1_b), 0), d2_k, d2_b))
    inner = "sequential_1/model1/"
    layers = [inner + n for n in ("Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise", "block_add",
                                  "out_relu")]
    layers += ["sequential_1/global_average_pooling2d_GlobalAveragePooling2D1", "sequential_3/dense_Dense1",
               "sequential_3/dense_Dense2"]
    TM.update(config=config, flat=flat, head=head, x=x, y=y, layers=layers)
    save_case("tm_keras_model", x, y, {
        "file": "tm_keras_model.h5", "format": "keras-h5", "output": "sequential_3/dense_Dense2",
        "layers": layers, "groups": {inner + "Conv1": "sequential_1/model1",
                                     "sequential_3/dense_Dense1": "sequential_3"},
        "total_params": int(sum(v.size for _, v in flat + head))})


# ---- tf.keras 2.x: a shared nested model called twice ----------------------

def shared_nested_keras2():
    """A Functional calling one inner Sequential on two inputs and adding
    the results: the second call shares the first call's weights, which sit
    in model_weights/encoder/<inner layer>/."""
    rng = np.random.default_rng(1402)
    k, b = rand(rng, 3, 3, 2, 3), rand(rng, 3)
    encoder = {"class_name": "Sequential", "config": {"name": "encoder", "layers": [
        k2_layer("InputLayer", "encoder_input", batch_input_shape=[None, 5, 5, 2]),
        k2_conv("enc_conv", 3, 3, activation="relu"),
        k2_layer("GlobalMaxPooling2D", "enc_pool", data_format="channels_last")]}}
    entries = [
        with_inbound(k2_layer("InputLayer", "left", batch_input_shape=[None, 5, 5, 2])),
        with_inbound(k2_layer("InputLayer", "right", batch_input_shape=[None, 5, 5, 2])),
        with_inbound(encoder, [("left", 0, 0)], [("right", 0, 0)]),
        with_inbound(k2_layer("Add", "sum"), [("encoder", 0, 0), ("encoder", 1, 0)]),
    ]
    config = {"class_name": "Functional", "config": {"name": "siamese", "layers": entries,
                                                     "input_layers": [["left", 0, 0], ["right", 0, 0]],
                                                     "output_layers": [["sum", 0, 0]]}}
    kl.write_keras2_h5(os.path.join(OUT, "shared_nested.h5"), config,
                       [("left", []), ("right", []), ("encoder", [("enc_conv/kernel:0", k), ("enc_conv/bias:0", b)]),
                        ("sum", [])], keras_version="2.13.1")
    left = rng.uniform(-1, 1, size=(1, 5, 5, 2)).astype(np.float32)
    right = rng.uniform(-1, 1, size=(1, 5, 5, 2)).astype(np.float32)
    def encode(v):
        return np.maximum(conv2d(v, k, b), 0).max(axis=(1, 2))
    y = encode(left) + encode(right)
    np.save(os.path.join(OUT, "shared_nested_right.npy"), right)
    save_case("shared_nested", left, y, {
        "file": "shared_nested.h5", "format": "keras-h5", "output": "sum",
        "layers": ["encoder/enc_conv", "encoder/enc_pool", "encoder#1/enc_conv",
                   "encoder#1/enc_pool", "sum"],
        "groups": {"encoder/enc_conv": "encoder", "encoder#1/enc_pool": "encoder#1"},
        "total_params": int(k.size + b.size)})


# ---- Keras 3 .keras: Functional > Sequential > Functional -------------------

def nested_keras3_deep():
    """Two levels of nesting in a Keras 3 .keras: variables at
    layers/sequential/layers/functional/layers/conv2d/vars."""
    rng = np.random.default_rng(1403)
    k, b = rand(rng, 3, 3, 1, 2), rand(rng, 2)
    bn = [positive(rng, 2), rand(rng, 2), rand(rng, 2), positive(rng, 2)]
    dk, db = rand(rng, 2, 3), rand(rng, 3)
    block = k3_layer("Functional", "block", layers=[
        k3_entry(k3_layer("InputLayer", "block_in", batch_shape=[None, 6, 6, 1], sparse=False, ragged=False)),
        k3_entry(k3_layer("Conv2D", "block_conv", filters=2, kernel_size=[3, 3], strides=[1, 1], padding="same",
                          data_format="channels_last", dilation_rate=[1, 1], activation="linear", use_bias=True),
                 k3_node(k3_tensor([None, 6, 6, 1], "block_in"))),
        k3_entry(k3_layer("BatchNormalization", "block_bn", axis=-1, momentum=0.99, epsilon=0.001, center=True,
                          scale=True), k3_node(k3_tensor([None, 6, 6, 2], "block_conv"))),
    ], input_layers=[["block_in", 0, 0]], output_layers=[["block_bn", 0, 0]])
    backbone = k3_layer("Sequential", "backbone", layers=[
        k3_layer("InputLayer", "backbone_in", batch_shape=[None, 6, 6, 1], sparse=False, ragged=False),
        block,
        k3_layer("Activation", "backbone_relu", activation="relu"),
        k3_layer("GlobalAveragePooling2D", "backbone_gap", data_format="channels_last", keepdims=False)])
    entries = [
        k3_entry(k3_layer("InputLayer", "image", batch_shape=[None, 6, 6, 1], sparse=False, ragged=False)),
        k3_entry(backbone, k3_node(k3_tensor([None, 6, 6, 1], "image"))),
        k3_entry(k3_layer("Dense", "classes", units=3, activation="linear", use_bias=True),
                 k3_node(k3_tensor([None, 2], "backbone"))),
    ]
    config = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {
        "name": "outer", "trainable": True, "layers": entries,
        "input_layers": [["image", 0, 0]], "output_layers": [["classes", 0, 0]]}, "registered_name": "Functional"}
    objects = [("layers/input_layer", "image", []),
               ("layers/sequential", "backbone", []),
               ("layers/sequential/layers/functional", "block", []),
               ("layers/sequential/layers/functional/layers/input_layer", "block_in", []),
               ("layers/sequential/layers/functional/layers/conv2d", "block_conv", [k, b]),
               ("layers/sequential/layers/functional/layers/batch_normalization", "block_bn", bn),
               ("layers/sequential/layers/activation", "backbone_relu", []),
               ("layers/sequential/layers/global_average_pooling2d", "backbone_gap", []),
               ("layers/dense", "classes", [dk, db])]
    kl.write_keras_v3(os.path.join(OUT, "deep_nested.keras"), config, objects, keras_version="3.10.0")
    x = rng.uniform(-1, 1, size=(2, 6, 6, 1)).astype(np.float32)
    a = np.maximum(batch_norm(conv2d(x, k, b, 1, "same"), *bn), 0).mean(axis=(1, 2))
    y = dense(a, dk, db)
    save_case("deep_nested", x, y, {
        "file": "deep_nested.keras", "format": "keras-v3", "output": "classes",
        "layers": ["backbone/block/block_conv", "backbone/block/block_bn", "backbone/backbone_relu",
                   "backbone/backbone_gap", "classes"],
        "groups": {"backbone/block/block_conv": "backbone/block", "backbone/backbone_gap": "backbone"},
        "total_params": int(k.size + b.size + sum(v.size for v in bn) + dk.size + db.size)})


# ---- tf.keras 2.13-2.15 .keras, Keras 3 on Windows, subclassed -------------

def write_store(objects, backslashes=False):
    """A weights store: objects [(path, [ndarray])]; every object gets a
    vars group. backslashes: Keras 3 on Windows joined the path with "\\"
    into one root group name."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        for path, values in objects:
            group = f.require_group(path.replace("/", "\\") if backslashes else path)
            variables = group.create_group("vars")
            for index, value in enumerate(values):
                variables.create_dataset(str(index), data=np.asarray(value))
    return buffer.getvalue()


def write_archive(path, config, weights_bytes, keras_version):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in [("metadata.json", json.dumps({"keras_version": keras_version,
                                                         "date_saved": "2024-01-01@00:00:00"}).encode()),
                           ("config.json", json.dumps(config).encode()), ("model.weights.h5", weights_bytes)]:
            info = zipfile.ZipInfo(name, date_time=kl.FIXED_ZIP_TIME)
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)


def tf213_layer(class_name, **config):
    return {"module": "keras.layers", "class_name": class_name, "config": dict(trainable=True, dtype="float32", **config),
            "registered_name": None}


def small_cnn(rng):
    """Weights and the PyTorch output of Conv2D(3, 3x3, relu) > MaxPooling2D >
    Flatten > Dense(4, relu) > Dense(2) on a 6x6x1 input."""
    w = {"ck": rand(rng, 3, 3, 1, 3), "cb": rand(rng, 3), "d1k": rand(rng, 12, 4), "d1b": rand(rng, 4),
         "d2k": rand(rng, 4, 2), "d2b": rand(rng, 2)}
    x = rng.uniform(-1, 1, size=(2, 6, 6, 1)).astype(np.float32)
    a = np.maximum(conv2d(x, w["ck"], w["cb"]), 0)
    a = nhwc(F.max_pool2d(nchw(a), 2)).reshape(2, -1)
    y = dense(np.maximum(dense(a, w["d1k"], w["d1b"]), 0), w["d2k"], w["d2b"])
    return w, x, y


def tf213_keras():
    """tf.keras 2.13's .keras: layers under _layer_checkpoint_dependencies,
    keys counted over a dict that lists each layer with weights twice, so
    they skip numbers (dense, dense_2)."""
    rng = np.random.default_rng(1404)
    w, x, y = small_cnn(rng)
    layers = [tf213_layer("InputLayer", batch_input_shape=[None, 6, 6, 1], name="input_1", sparse=False, ragged=False),
              tf213_layer("Conv2D", name="conv2d", filters=3, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                          data_format="channels_last", dilation_rate=[1, 1], activation="relu", use_bias=True),
              tf213_layer("MaxPooling2D", name="max_pooling2d", pool_size=[2, 2], strides=[2, 2], padding="valid",
                          data_format="channels_last"),
              tf213_layer("Flatten", name="flatten", data_format="channels_last"),
              tf213_layer("Dense", name="hidden", units=4, activation="relu", use_bias=True),
              tf213_layer("Dense", name="logits", units=2, activation="linear", use_bias=True)]
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
              "registered_name": None, "build_config": {"input_shape": [None, 6, 6, 1]}}
    c = "_layer_checkpoint_dependencies/"
    store = write_store([(c + "conv2d", [w["ck"], w["cb"]]), (c + "max_pooling2d", []), (c + "flatten", []),
                         (c + "dense", [w["d1k"], w["d1b"]]), (c + "dense_2", [w["d2k"], w["d2b"]]),
                         ("optimizer", [np.array(7, dtype=np.int64)])])
    write_archive(os.path.join(OUT, "tf213.keras"), config, store, "2.13.1")
    with open(os.path.join(OUT, "tf213.weights.h5"), "wb") as f:
        f.write(store)
    save_case("tf213", x, y, {"file": "tf213.keras", "format": "keras-v3", "output": "logits",
                              "layers": ["conv2d", "max_pooling2d", "flatten", "hidden", "logits"], "groups": {},
                              "total_params": int(sum(v.size for v in w.values()))})


def windows_keras3():
    """Keras 3 saved on Windows: store groups named "layers\\dense" at the
    root, nested ones "layers\\sequential\\layers\\conv2d"."""
    rng = np.random.default_rng(1405)
    w, x, y = small_cnn(rng)
    inner = k3_layer("Sequential", "features", layers=[
        k3_layer("InputLayer", "features_in", batch_shape=[None, 6, 6, 1], sparse=False, ragged=False),
        k3_layer("Conv2D", "conv", filters=3, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                 data_format="channels_last", dilation_rate=[1, 1], activation="relu", use_bias=True),
        k3_layer("MaxPooling2D", "pool", pool_size=[2, 2], strides=[2, 2], padding="valid",
                 data_format="channels_last"),
        k3_layer("Flatten", "flat", data_format="channels_last")])
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "outer", "layers": [
        k3_layer("InputLayer", "image", batch_shape=[None, 6, 6, 1], sparse=False, ragged=False), inner,
        k3_layer("Dense", "hidden", units=4, activation="relu", use_bias=True),
        k3_layer("Dense", "logits", units=2, activation="linear", use_bias=True)]}, "registered_name": None}
    store = write_store([("layers/sequential", []), ("layers/sequential/layers/conv2d", [w["ck"], w["cb"]]),
                         ("layers/sequential/layers/max_pooling2d", []), ("layers/sequential/layers/flatten", []),
                         ("layers/dense", [w["d1k"], w["d1b"]]), ("layers/dense_1", [w["d2k"], w["d2b"]])],
                        backslashes=True)
    write_archive(os.path.join(OUT, "windows.keras"), config, store, "3.1.0")
    save_case("windows", x, y, {"file": "windows.keras", "format": "keras-v3", "output": "logits",
                                "layers": ["features/conv", "features/pool", "features/flat", "hidden", "logits"],
                                "groups": {"features/conv": "features"},
                                "total_params": int(sum(v.size for v in w.values()))})


def subclassed_keras3():
    """A subclassed model's .keras: config.json has no layer graph. Its
    store holds an attribute-named conv ("conv1"), a conv inside a block
    and a Dense, plus optimizer state that is not a weight."""
    rng = np.random.default_rng(1406)
    conv1 = [rand(rng, 3, 3, 1, 4), rand(rng, 4)]
    block = [rand(rng, 3, 3, 4, 2), rand(rng, 2)]
    head = [rand(rng, 8, 3), rand(rng, 3)]
    config = {"module": None, "class_name": "TinyNet", "config": {"name": "tiny_net", "trainable": True,
                                                                   "dtype": "float32"},
              "registered_name": "Custom>TinyNet", "build_config": {"input_shape": [None, 8, 8, 1]}}
    store = write_store([("conv1", conv1), ("layers/conv_block", []), ("layers/conv_block/layers/conv2d", block),
                         ("layers/dense", head), ("optimizer", [np.array(3, dtype=np.int64), rand(rng, 4)])])
    write_archive(os.path.join(OUT, "subclassed.keras"), config, store, "3.3.3")
    expected = {"file": "subclassed.keras", "layers": {
        "conv1": {"type": "Conv2D", "weights": ["conv1/kernel", "conv1/bias"], "group": ""},
        "conv_block/conv2d": {"type": "Conv2D", "weights": ["conv_block/conv2d/kernel", "conv_block/conv2d/bias"],
                              "group": "conv_block"},
        "dense": {"type": "Dense", "weights": ["dense/kernel", "dense/bias"], "group": ""}},
        "total_params": int(sum(v.size for v in conv1 + block + head))}
    with open(os.path.join(OUT, "subclassed.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


# ---- several files that make one model --------------------------------------

def k2_small_cnn_config():
    return {"class_name": "Sequential", "config": {"name": "small_cnn", "layers": [
        k2_conv("conv2d", 3, 3, activation="relu", batch_input_shape=[None, 6, 6, 1]),
        k2_layer("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], strides=[2, 2], padding="valid",
                 data_format="channels_last"),
        k2_layer("Flatten", "flatten", data_format="channels_last"),
        k2_dense("hidden", 4, activation="relu"), k2_dense("logits", 2)]},
        "keras_version": "2.4.0", "backend": "tensorflow"}


def tfjs_files(directory, topology, weights, shard_count):
    """model.json + group1-shard<i>of<n>.bin as tensorflowjs_converter
    writes them: one group, its float32 weights back to back, cut into
    shards."""
    data = b"".join(np.asarray(v, dtype="<f4").tobytes() for _, v in weights)
    cut = [len(data) * i // shard_count for i in range(shard_count + 1)]
    paths = ["group1-shard%dof%d.bin" % (i + 1, shard_count) for i in range(shard_count)]
    for i, path in enumerate(paths):
        with open(os.path.join(directory, path), "wb") as f:
            f.write(data[cut[i]:cut[i + 1]])
    manifest = [{"paths": paths, "weights": [{"name": n, "shape": list(v.shape), "dtype": "float32"}
                                             for n, v in weights]}]
    with open(os.path.join(directory, "model.json"), "w") as f:
        json.dump({"format": "layers-model", "generatedBy": "keras v2.4.0", "convertedBy": "TensorFlow.js Converter v3.18.0",
                   "modelTopology": topology, "weightsManifest": manifest}, f)


def bundles():
    """to_json + save_weights (plain and double-encoded JSON), a tfjs
    layers model in two shards, a tfjs export of the Teachable Machine
    model, and Teachable Machine's converted_keras.zip with labels.txt."""
    rng = np.random.default_rng(1407)
    w, x, y = small_cnn(rng)
    config = k2_small_cnn_config()
    folder = os.path.join(OUT, "json_h5")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.json"), "w") as f:
        f.write(json.dumps(config))
    with open(os.path.join(folder, "model_string.json"), "w") as f:
        json.dump(json.dumps(config), f)  # json.dump(model.to_json(), f)
    named = [("conv2d", [("conv2d/kernel:0", w["ck"]), ("conv2d/bias:0", w["cb"])]), ("max_pooling2d", []),
             ("flatten", []), ("hidden", [("hidden/kernel:0", w["d1k"]), ("hidden/bias:0", w["d1b"])]),
             ("logits", [("logits/kernel:0", w["d2k"]), ("logits/bias:0", w["d2b"])])]
    kl.write_keras2_weights_h5(os.path.join(folder, "weights.h5"), named, keras_version="2.4.0")
    np.save(os.path.join(folder, "in.npy"), x)
    np.save(os.path.join(folder, "out.npy"), y.astype(np.float32))

    folder = os.path.join(OUT, "tfjs")
    os.makedirs(folder, exist_ok=True)
    tfjs_files(folder, {"keras_version": "2.4.0", "backend": "tensorflow", "model_config": config},
               [(n.replace(":0", ""), v) for _, ws in named for n, v in ws], 2)
    np.save(os.path.join(folder, "in.npy"), x)
    np.save(os.path.join(folder, "out.npy"), y.astype(np.float32))

    folder = os.path.join(OUT, "tfjs_tm")
    os.makedirs(folder, exist_ok=True)
    # Teachable Machine's tfjs export: the topology itself (class_name at
    # the top), weight names "<inner layer>/<var>" without the nesting.
    topology = dict(TM["config"], keras_version="tfjs-layers 1.3.1", backend="tensor_flow.js")
    tfjs_files(folder, topology, [(n.replace(":0", ""), v) for n, v in TM["flat"] + TM["head"]], 1)
    np.save(os.path.join(folder, "in.npy"), TM["x"])
    np.save(os.path.join(folder, "out.npy"), np.asarray(TM["y"], dtype=np.float32))

    with zipfile.ZipFile(os.path.join(OUT, "converted_keras.zip"), "w") as archive:
        for name, path in [("keras_model.h5", os.path.join(OUT, "tm_keras_model.h5"))]:
            info = zipfile.ZipInfo(name, date_time=kl.FIXED_ZIP_TIME)
            with open(path, "rb") as f:
                archive.writestr(info, f.read())
        archive.writestr(zipfile.ZipInfo("labels.txt", date_time=kl.FIXED_ZIP_TIME), "0 cat\n1 dog\n2 bird\n")

    # Seeds for tests/fuzz/fuzz_bundle.cpp: model.json, a NUL, the second file.
    def read(*parts):
        with open(os.path.join(OUT, *parts), "rb") as f:
            return f.read()
    shards = read("tfjs", "group1-shard1of2.bin") + read("tfjs", "group1-shard2of2.bin")
    for name, data in [("tfjs", read("tfjs_tm", "model.json") + b"\0" + read("tfjs_tm", "group1-shard1of1.bin")),
                       ("json_h5", read("json_h5", "model.json") + b"\0" + read("json_h5", "weights.h5")),
                       ("tfjs_two_shards", read("tfjs", "model.json") + b"\0" + shards)]:
        with open(os.path.join(OUT, "fuzz_bundle_%s.seed" % name), "wb") as f:
            f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    teachable_machine()
    shared_nested_keras2()
    nested_keras3_deep()
    tf213_keras()
    windows_keras3()
    subclassed_keras3()
    bundles()
    with open(os.path.join(OUT, "README.txt"), "w") as f:
        f.write("Generated by scripts/make_keras_layout_fixtures.py (seeds 1401-1407). numpy %s, torch %s.\n"
                "Do not edit by hand; rerun the script.\n" % (np.__version__, torch.__version__))


if __name__ == "__main__":
    main()
