#!/usr/bin/python3
"""Writes tests/fixtures/keras/: Keras model files in every layout the reader
handles, each with a <name>.expected.json, plus corpus_expected.json for the
real files in /work/shared/corpus and .npy files written by numpy.

Run with Debian's Python (it has numpy and h5py):
    /usr/bin/python3 scripts/make_keras_fixtures.py

Inputs written down for reproducibility: numpy.random.default_rng(seed) with
the seed named at each fixture; h5py/numpy versions are recorded in
tests/fixtures/keras/README.txt. Expected layers, output shapes and
parameter counts are computed here from the weights and from Keras's shape
rules (written out below), never from ConvScope's output.
"""

import json
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_writers as fw  # noqa: E402
import keras_layout as kl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras")
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus")

GLOROT = fw.keras_initializer("GlorotUniform")
ZEROS = fw.keras_initializer("Zeros")


# ---- Keras shape rules (keras conv_utils), used for the expectations -------

def conv_length(n, k, s, padding, d=1):
    if n is None:
        return None
    dk = (k - 1) * d + 1
    if padding == "same":
        out = n
    elif padding == "valid":
        out = n - dk + 1
    else:
        raise ValueError(padding)
    return (out + s - 1) // s


def deconv_length(n, k, s, padding):
    if padding == "valid":
        return n * s + max(k - s, 0)
    return n * s


# ---- Keras 2 style layer configs (the common layers' from fixture_writers) --

def k2_layer(class_name, name, **config):
    full = {"name": name, "trainable": True, "dtype": "float32"}
    full.update(config)
    return {"class_name": class_name, "config": full}


def k2_conv(name, filters, kernel, strides=1, padding="valid", activation="linear", use_bias=True, **extra):
    options = dict(filters=filters, kernel=kernel, strides=strides, padding=padding, activation=activation,
                   use_bias=use_bias)
    return {"class_name": "Conv2D", "config": {**fw.keras_layer_config("Conv2D", options, name), **extra}}


def k2_dense(name, units, activation="linear", **extra):
    options = dict(units=units, activation=activation)
    return {"class_name": "Dense", "config": {**fw.keras_layer_config("Dense", options, name), **extra}}


def k2_bn(name):
    options = dict(axis=-1, momentum=0.99, epsilon=0.001)
    return {"class_name": "BatchNormalization", "config": fw.keras_layer_config("BatchNormalization", options, name)}


def with_inbound(layer, *nodes):
    """Keras 2 functional entry: nodes are lists of (layer, node, tensor)."""
    entry = dict(layer)
    entry["name"] = layer["config"]["name"]
    entry["inbound_nodes"] = [[[src, n, t, {}] for (src, n, t) in node] for node in nodes]
    return entry


# ---- Keras 3 style layer configs -------------------------------------------

def policy(name="float32"):
    return fw.keras_dtype(keras3=True, name=name)


def k3_layer(class_name, name, **config):
    full = {"name": name, "trainable": True, "dtype": policy()}
    full.update(config)
    return {"module": "keras.layers", "class_name": class_name, "config": full, "registered_name": None}


def k3_tensor(shape, layer, node=0, tensor=0):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, node, tensor]}}


def k3_node(*tensors, as_list=False):
    args = [list(tensors)] if as_list else list(tensors)
    return {"args": args, "kwargs": {}}


def k3_entry(layer, *nodes):
    entry = dict(layer)
    entry["name"] = layer["config"]["name"]
    entry["inbound_nodes"] = list(nodes)
    return entry


# ---- helpers ----------------------------------------------------------------

def weight_expectation(name, value):
    return {"name": name, "shape": list(value.shape), "dtype": str(value.dtype),
            "sum": float(np.asarray(value, dtype=np.float64).sum()),
            "first": float(np.asarray(value, dtype=np.float64).reshape(-1)[0]) if value.size else None}


def write_expected(file_name, expected):
    path = os.path.join(OUT, file_name + ".expected.json")
    with open(path, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


def expected_layer(name, type_, shape, weights=(), inputs=None, unsupported=None, extra=None):
    layer = {"name": name, "type": type_, "output_shape": shape,
             "params": int(sum(int(np.prod(v.shape)) for _, v in weights)),
             "weights": [weight_expectation(n, v) for n, v in weights]}
    if inputs is not None:
        layer["inputs"] = inputs
    if unsupported is not None:
        layer["unsupported"] = unsupported
    if extra:
        layer.update(extra)
    return layer


def totals(layers, non_trainable_markers=("moving_mean", "moving_variance")):
    total = sum(l["params"] for l in layers)
    non_trainable = sum(int(np.prod(w["shape"])) for l in layers for w in l["weights"]
                        if any(m in w["name"] for m in non_trainable_markers))
    return {"total_params": total, "trainable_params": total - non_trainable, "non_trainable_params": non_trainable}


def rand(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---- fixtures ---------------------------------------------------------------

def sequential_keras2():
    """Sequential, Keras 2 schema (tf.keras 2.3), no InputLayer: the first
    layer carries batch_input_shape. Inner weight groups are named unlike
    the layers (conv2d_7/conv2d_7_1/kernel:0), as Keras does on reload."""
    rng = np.random.default_rng(1001)
    h = w = 10
    c1 = conv_length(h, 3, 1, "valid")          # 8
    p1 = conv_length(c1, 2, 2, "valid")         # 4
    kernel = rand(rng, 3, 3, 1, 4)
    bias = rand(rng, 4)
    gamma, beta, mean, var = rand(rng, 4), rand(rng, 4), rand(rng, 4), np.abs(rand(rng, 4)) + 0.5
    dense_k = rand(rng, p1 * p1 * 4, 3)
    dense_b = rand(rng, 3)
    config = {"class_name": "Sequential", "config": {"name": "sequential_7", "layers": [
        k2_conv("conv2d_7", 4, 3, activation="relu", batch_input_shape=[None, h, w, 1]),
        k2_bn("batch_normalization_3"),
        k2_layer("MaxPooling2D", "max_pooling2d_7", pool_size=[2, 2], padding="valid", strides=[2, 2],
                 data_format="channels_last"),
        k2_layer("Dropout", "dropout_7", rate=0.25, noise_shape=None, seed=None),
        k2_layer("Flatten", "flatten_7", data_format="channels_last"),
        k2_dense("dense_7", 3, activation="softmax"),
    ]}}
    bn_weights = [("batch_normalization_3/gamma:0", gamma), ("batch_normalization_3/beta:0", beta),
                  ("batch_normalization_3/moving_mean:0", mean), ("batch_normalization_3/moving_variance:0", var)]
    layers = [
        ("conv2d_7", [("conv2d_7_1/kernel:0", kernel), ("conv2d_7_1/bias:0", bias)]),
        ("batch_normalization_3", bn_weights),
        ("max_pooling2d_7", []), ("dropout_7", []), ("flatten_7", []),
        ("dense_7", [("dense_7_1/kernel:0", dense_k), ("dense_7_1/bias:0", dense_b)]),
    ]
    training = {"loss": "categorical_crossentropy", "metrics": ["accuracy"],
                "optimizer_config": {"class_name": "Adam", "config": {"learning_rate": 0.001}}}
    kl.write_keras2_h5(os.path.join(OUT, "sequential_k2.h5"), config, layers, keras_version="2.3.0-tf",
                       training_config=training)
    expected_layers = [
        expected_layer("conv2d_7_input", "InputLayer", [None, h, w, 1], extra={"implicit": 1}),
        expected_layer("conv2d_7", "Conv2D", [None, c1, c1, 4], layers[0][1], inputs=["conv2d_7_input"]),
        expected_layer("batch_normalization_3", "BatchNormalization", [None, c1, c1, 4], bn_weights,
                       inputs=["conv2d_7"]),
        expected_layer("max_pooling2d_7", "MaxPooling2D", [None, p1, p1, 4], inputs=["batch_normalization_3"]),
        expected_layer("dropout_7", "Dropout", [None, p1, p1, 4], inputs=["max_pooling2d_7"]),
        expected_layer("flatten_7", "Flatten", [None, p1 * p1 * 4], inputs=["dropout_7"]),
        expected_layer("dense_7", "Dense", [None, 3], layers[5][1], inputs=["flatten_7"]),
    ]
    expected = {"format": "keras-h5", "producer": "tf.keras", "producer_version": "2.3.0", "has_architecture": True,
                "ordered": True, "layers": expected_layers,
                "inputs": [{"name": "conv2d_7_input", "shape": [None, h, w, 1]}],
                "outputs": [{"name": "dense_7", "shape": [None, 3]}],
                "attributes": {"conv2d_7": {"kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                                            "activation": "relu", "use_bias": 1, "filters": 4},
                               "max_pooling2d_7": {"pool_size": [2, 2]},
                               "batch_normalization_3": {"epsilon": 0.001, "center": 1}},
                "summary_rows": 6}
    expected.update(totals(expected_layers))
    write_expected("sequential_k2.h5", expected)


def functional_keras2():
    """Functional (Keras 2.4 schema): two inputs, a shared Conv2D called on
    both, an Add merge and a Concatenate branch, two outputs."""
    rng = np.random.default_rng(1002)
    shared_k, shared_b = rand(rng, 3, 3, 3, 4), rand(rng, 4)
    head_a_k, head_a_b = rand(rng, 4, 2), rand(rng, 2)
    head_b_k, head_b_b = rand(rng, 6 * 6 * 8, 5), rand(rng, 5)
    pad = 1
    conv = conv_length(6 + 2 * pad, 3, 1, "valid")  # 6
    entries = [
        with_inbound(k2_layer("InputLayer", "image_a", batch_input_shape=[None, 6, 6, 3], sparse=False,
                              ragged=False)),
        with_inbound(k2_layer("InputLayer", "image_b", batch_input_shape=[None, 6, 6, 3], sparse=False,
                              ragged=False)),
        with_inbound(k2_layer("ZeroPadding2D", "pad_a", padding=[[pad, pad], [pad, pad]],
                              data_format="channels_last"), [("image_a", 0, 0)]),
        with_inbound(k2_layer("ZeroPadding2D", "pad_b", padding=[[pad, pad], [pad, pad]],
                              data_format="channels_last"), [("image_b", 0, 0)]),
        with_inbound(k2_conv("shared_conv", 4, 3, activation="relu"), [("pad_a", 0, 0)], [("pad_b", 0, 0)]),
        with_inbound(k2_layer("Add", "add"), [("shared_conv", 0, 0), ("shared_conv", 1, 0)]),
        with_inbound(k2_layer("GlobalAveragePooling2D", "gap", data_format="channels_last"), [("add", 0, 0)]),
        with_inbound(k2_dense("head_a", 2, activation="softmax"), [("gap", 0, 0)]),
        with_inbound(k2_layer("Concatenate", "concat", axis=-1), [("shared_conv", 0, 0), ("shared_conv", 1, 0)]),
        with_inbound(k2_layer("Flatten", "flatten", data_format="channels_last"), [("concat", 0, 0)]),
        with_inbound(k2_dense("head_b", 5), [("flatten", 0, 0)]),
    ]
    config = {"class_name": "Functional", "config": {
        "name": "two_heads", "layers": entries,
        "input_layers": [["image_a", 0, 0], ["image_b", 0, 0]],
        "output_layers": [["head_a", 0, 0], ["head_b", 0, 0]]}}
    shared_w = [("shared_conv/kernel:0", shared_k), ("shared_conv/bias:0", shared_b)]
    head_a_w = [("head_a/kernel:0", head_a_k), ("head_a/bias:0", head_a_b)]
    head_b_w = [("head_b/kernel:0", head_b_k), ("head_b/bias:0", head_b_b)]
    layers = [("image_a", []), ("image_b", []), ("pad_a", []), ("pad_b", []), ("shared_conv", shared_w),
              ("add", []), ("gap", []), ("head_a", head_a_w), ("concat", []), ("flatten", []),
              ("head_b", head_b_w)]
    kl.write_keras2_h5(os.path.join(OUT, "functional_k2.h5"), config, layers, keras_version="2.4.0")
    expected_layers = [
        expected_layer("image_a", "InputLayer", [None, 6, 6, 3], inputs=[]),
        expected_layer("image_b", "InputLayer", [None, 6, 6, 3], inputs=[]),
        expected_layer("pad_a", "ZeroPadding2D", [None, 8, 8, 3], inputs=["image_a"],
                       extra={"attributes": {"padding": [1, 1, 1, 1]}}),
        expected_layer("pad_b", "ZeroPadding2D", [None, 8, 8, 3], inputs=["image_b"]),
        expected_layer("shared_conv", "Conv2D", [None, conv, conv, 4], shared_w, inputs=["pad_a"]),
        expected_layer("shared_conv#1", "Conv2D", [None, conv, conv, 4], inputs=["pad_b"],
                       extra={"attributes": {"shares_weights_with": "shared_conv"}}),
        expected_layer("add", "Add", [None, conv, conv, 4], inputs=["shared_conv", "shared_conv#1"]),
        expected_layer("gap", "GlobalAveragePooling2D", [None, 4], inputs=["add"]),
        expected_layer("head_a", "Dense", [None, 2], head_a_w, inputs=["gap"]),
        expected_layer("concat", "Concatenate", [None, conv, conv, 8], inputs=["shared_conv", "shared_conv#1"]),
        expected_layer("flatten", "Flatten", [None, conv * conv * 8], inputs=["concat"]),
        expected_layer("head_b", "Dense", [None, 5], head_b_w, inputs=["flatten"]),
    ]
    expected = {"format": "keras-h5", "producer": "keras", "producer_version": "2.4.0", "has_architecture": True,
                "ordered": False, "layers": expected_layers,
                "inputs": [{"name": "image_a", "shape": [None, 6, 6, 3]}, {"name": "image_b", "shape": [None, 6, 6, 3]}],
                "outputs": [{"name": "head_a", "shape": [None, 2]}, {"name": "head_b", "shape": [None, 5]}],
                "summary_rows": 11}
    expected.update(totals(expected_layers))
    write_expected("functional_k2.h5", expected)


def keras3_functional_parts():
    """A Keras 3 functional config (batch_shape, dtype policies,
    __keras_tensor__ nodes) with depthwise, separable and transposed
    convolutions, a ReLU and a layer named unlike its class."""
    rng = np.random.default_rng(1003)
    h = 7
    dw_k, dw_b = rand(rng, 3, 3, 2, 2), rand(rng, 4)
    sep_dk, sep_pk, sep_b = rand(rng, 3, 3, 4, 1), rand(rng, 1, 1, 4, 6), rand(rng, 6)
    tr_k, tr_b = rand(rng, 3, 3, 3, 6), rand(rng, 3)
    out_k, out_b = rand(rng, 3, 4), rand(rng, 4)
    d1 = conv_length(h, 3, 1, "valid")          # 5
    s1 = conv_length(d1, 3, 1, "same")          # 5
    t1 = deconv_length(s1, 3, 2, "valid")       # 11
    entries = [
        k3_entry(k3_layer("InputLayer", "input_layer", batch_shape=[None, h, h, 2], sparse=False, ragged=False)),
        k3_entry(k3_layer("DepthwiseConv2D", "depthwise_conv2d", kernel_size=[3, 3], strides=[1, 1],
                          padding="valid", data_format="channels_last", dilation_rate=[1, 1], depth_multiplier=2,
                          activation="linear", use_bias=True),
                 k3_node(k3_tensor([None, h, h, 2], "input_layer"))),
        k3_entry(k3_layer("SeparableConv2D", "separable", filters=6, kernel_size=[3, 3], strides=[1, 1],
                          padding="same", data_format="channels_last", dilation_rate=[1, 1], depth_multiplier=1,
                          activation="linear", use_bias=True),
                 k3_node(k3_tensor([None, d1, d1, 4], "depthwise_conv2d"))),
        k3_entry(k3_layer("ReLU", "re_lu", max_value=None, negative_slope=0.0, threshold=0.0),
                 k3_node(k3_tensor([None, s1, s1, 6], "separable"))),
        k3_entry(k3_layer("Conv2DTranspose", "upsample", filters=3, kernel_size=[3, 3], strides=[2, 2],
                          padding="valid", output_padding=None, data_format="channels_last", dilation_rate=[1, 1],
                          activation="linear", use_bias=True),
                 k3_node(k3_tensor([None, s1, s1, 6], "re_lu"))),
        k3_entry(k3_layer("GlobalMaxPooling2D", "global_max_pooling2d", data_format="channels_last",
                          keepdims=False),
                 k3_node(k3_tensor([None, t1, t1, 3], "upsample"))),
        k3_entry(k3_layer("Dense", "dense", units=4, activation="softmax", use_bias=True),
                 k3_node(k3_tensor([None, 3], "global_max_pooling2d"))),
    ]
    config = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {
        "name": "functional", "trainable": True, "layers": entries,
        "input_layers": [["input_layer", 0, 0]], "output_layers": [["dense", 0, 0]]},
        "registered_name": "Functional"}
    # Keras 3 variable order per layer; legacy-h5 names are w.path.
    weights = {
        "depthwise_conv2d": [("depthwise_kernel", dw_k), ("bias", dw_b)],
        "separable": [("depthwise_kernel", sep_dk), ("pointwise_kernel", sep_pk), ("bias", sep_b)],
        "upsample": [("kernel", tr_k), ("bias", tr_b)],
        "dense": [("kernel", out_k), ("bias", out_b)],
    }
    shapes = {"input_layer": [None, h, h, 2], "depthwise_conv2d": [None, d1, d1, 4],
              "separable": [None, s1, s1, 6], "re_lu": [None, s1, s1, 6], "upsample": [None, t1, t1, 3],
              "global_max_pooling2d": [None, 3], "dense": [None, 4]}
    order = ["input_layer", "depthwise_conv2d", "separable", "re_lu", "upsample", "global_max_pooling2d", "dense"]
    classes = [e["class_name"] for e in entries]
    expected_layers = []
    for index, name in enumerate(order):
        named = [("%s/%s" % (name, var), value) for var, value in weights.get(name, [])]
        expected_layers.append(expected_layer(name, classes[index], shapes[name], named,
                                              inputs=[] if index == 0 else [order[index - 1]]))
    return config, entries, weights, expected_layers


def keras3_legacy_h5():
    config, entries, weights, expected_layers = keras3_functional_parts()
    layers = [(e["name"], [("%s/%s" % (e["name"], var), value) for var, value in weights.get(e["name"], [])])
              for e in entries]
    kl.write_keras3_legacy_h5(os.path.join(OUT, "keras3_legacy.h5"), config, layers, keras_version="3.4.1",
                              backend="jax")
    expected = {"format": "keras-h5", "producer": "keras", "producer_version": "3.4.1", "has_architecture": True,
                "ordered": True, "layers": expected_layers,
                "inputs": [{"name": "input_layer", "shape": [None, 7, 7, 2]}],
                "outputs": [{"name": "dense", "shape": [None, 4]}], "summary_rows": 7}
    expected.update(totals(expected_layers))
    write_expected("keras3_legacy.h5", expected)


def keras3_functional_keras():
    """The same Keras 3 functional model as a .keras archive, deflated
    members. Weight groups are keyed by class: the layer named "separable"
    lives in layers/separable_conv2d, "upsample" in layers/conv2d_transpose."""
    config, entries, weights, expected_layers = keras3_functional_parts()
    keys = kl.keras3_layer_keys([e["class_name"] for e in entries])
    objects = [("layers/" + key, e["name"], [value for _, value in weights.get(e["name"], [])])
               for key, e in zip(keys, entries)]
    kl.write_keras_v3(os.path.join(OUT, "functional_k3.keras"), config, objects, keras_version="3.10.0",
                      deflate=("config.json", "metadata.json", "model.weights.h5"))
    expected = {"format": "keras-v3", "producer": "keras", "producer_version": "3.10.0", "has_architecture": True,
                "ordered": True, "layers": expected_layers,
                "inputs": [{"name": "input_layer", "shape": [None, 7, 7, 2]}],
                "outputs": [{"name": "dense", "shape": [None, 4]}], "summary_rows": 7}
    expected.update(totals(expected_layers))
    write_expected("functional_k3.keras", expected)


def keras3_sequential_keras():
    """Keras 3 Sequential .keras, stored members, with layer names that differ
    from Keras 3's class-based keys: "features" (second Conv2D) is stored
    under layers/conv2d_1 and "first" under layers/conv2d."""
    rng = np.random.default_rng(1004)
    k1, b1 = rand(rng, 3, 3, 1, 2), rand(rng, 2)
    k2, b2 = rand(rng, 3, 3, 2, 3), rand(rng, 3)
    gamma, beta, mean, var = rand(rng, 3), rand(rng, 3), rand(rng, 3), np.abs(rand(rng, 3)) + 0.5
    dk, db = rand(rng, 3 * 3 * 3, 2), rand(rng, 2)

    def conv(name, filters, padding):
        return k3_layer("Conv2D", name, filters=filters, kernel_size=[3, 3], strides=[1, 1], padding=padding,
                        data_format="channels_last", dilation_rate=[1, 1], groups=1, activation="relu",
                        use_bias=True, kernel_initializer={"module": "keras.initializers",
                                                           "class_name": "GlorotUniform", "config": {"seed": None},
                                                           "registered_name": None})
    layers = [
        k3_layer("InputLayer", "pixels", batch_shape=[None, 7, 7, 1], sparse=False, ragged=False),
        conv("first", 2, "same"),
        conv("features", 3, "valid"),
        k3_layer("BatchNormalization", "bn", axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True),
        k3_layer("MaxPooling2D", "pool", pool_size=[2, 2], padding="valid", strides=[2, 2],
                 data_format="channels_last"),
        k3_layer("Flatten", "flatten", data_format="channels_last"),
        k3_layer("Dense", "head", units=2, activation="softmax", use_bias=True),
    ]
    config = {"module": "keras", "class_name": "Sequential",
              "config": {"name": "sequential", "trainable": True, "dtype": policy(), "layers": layers},
              "registered_name": None, "build_config": {"input_shape": [None, 7, 7, 1]}}
    values = {"first": [k1, b1], "features": [k2, b2], "bn": [gamma, beta, mean, var], "head": [dk, db]}
    keys = kl.keras3_layer_keys([l["class_name"] for l in layers[1:]])  # Sequential.layers has no InputLayer
    objects = [("layers/" + key, l["config"]["name"], values.get(l["config"]["name"], []))
               for key, l in zip(keys, layers[1:])]
    kl.write_keras_v3(os.path.join(OUT, "sequential_k3.keras"), config, objects, keras_version="3.10.0")
    named = {
        "first": [("first/kernel", k1), ("first/bias", b1)],
        "features": [("features/kernel", k2), ("features/bias", b2)],
        "bn": [("bn/gamma", gamma), ("bn/beta", beta), ("bn/moving_mean", mean), ("bn/moving_variance", var)],
        "head": [("head/kernel", dk), ("head/bias", db)],
    }
    expected_layers = [
        expected_layer("pixels", "InputLayer", [None, 7, 7, 1], extra={"implicit": 1}),
        expected_layer("first", "Conv2D", [None, 7, 7, 2], named["first"], inputs=["pixels"]),
        expected_layer("features", "Conv2D", [None, 5, 5, 3], named["features"], inputs=["first"]),
        expected_layer("bn", "BatchNormalization", [None, 5, 5, 3], named["bn"], inputs=["features"]),
        expected_layer("pool", "MaxPooling2D", [None, 2, 2, 3], inputs=["bn"]),
        expected_layer("flatten", "Flatten", [None, 12], inputs=["pool"]),
        expected_layer("head", "Dense", [None, 2], named["head"], inputs=["flatten"]),
    ]
    expected = {"format": "keras-v3", "producer": "keras", "producer_version": "3.10.0", "has_architecture": True,
                "ordered": True, "layers": expected_layers,
                "inputs": [{"name": "pixels", "shape": [None, 7, 7, 1]}],
                "outputs": [{"name": "head", "shape": [None, 2]}], "summary_rows": 6}
    expected.update(totals(expected_layers))
    write_expected("sequential_k3.keras", expected)


def weights_only():
    """Weights-only files in the Keras 1, 2 and 3 layouts. The Keras 2 one
    stores a float16 kernel (mixed precision) to check dtypes survive."""
    rng = np.random.default_rng(1005)
    c_w, c_b = rand(rng, 3, 3, 1, 2), rand(rng, 2)
    d_w, d_b = rand(rng, 8, 3), rand(rng, 3)
    k1_layers = [("convolution2d_1", [("convolution2d_1_W", c_w), ("convolution2d_1_b", c_b)]),
                 ("maxpooling2d_1", []), ("flatten_1", []),
                 ("dense_1", [("dense_1_W", d_w), ("dense_1_b", d_b)])]
    kl.write_keras2_weights_h5(os.path.join(OUT, "weights_k1.h5"), k1_layers, keras_version=None, backend=None)
    k2_layers = [("conv2d", [("conv2d/kernel:0", c_w.astype(np.float16)), ("conv2d/bias:0", c_b)]),
                 ("flatten", []),
                 ("dense", [("dense/kernel:0", d_w), ("dense/bias:0", d_b)])]
    kl.write_keras2_weights_h5(os.path.join(OUT, "weights_k2.h5"), k2_layers, keras_version="2.11.0")
    kl.write_keras3_weights_h5(os.path.join(OUT, "weights_k3.weights.h5"),
                               [("layers/conv2d", "conv2d", [c_w, c_b]), ("layers/flatten", "flatten", []),
                                ("layers/dense", "dense", [d_w, d_b])], model_name="sequential")
    for file_name, layers in (("weights_k1.h5", k1_layers), ("weights_k2.h5", k2_layers)):
        expected_layers = [expected_layer(name, "", None, ws) for name, ws in layers]
        expected = {"format": "keras-weights-h5", "has_architecture": False, "ordered": True,
                    "layers": expected_layers, "inputs": [], "outputs": []}
        expected.update(totals(expected_layers))
        write_expected(file_name, expected)
    k3 = [("conv2d", [("conv2d/vars/0", c_w), ("conv2d/vars/1", c_b)]), ("dense", [("dense/vars/0", d_w),
                                                                                  ("dense/vars/1", d_b)]),
          ("flatten", [])]
    expected_layers = [expected_layer(name, "", None, ws) for name, ws in k3]
    expected = {"format": "keras-weights-h5", "has_architecture": False, "ordered": False,
                "layers": expected_layers, "inputs": [], "outputs": []}
    expected.update(totals(expected_layers))
    write_expected("weights_k3.weights.h5", expected)


def custom_and_lambda():
    """A QKeras QConv2D (unknown class) and a Lambda layer whose serialized
    bytecode must never be decoded; both load with their weights."""
    rng = np.random.default_rng(1006)
    q_k, q_b = rand(rng, 3, 3, 1, 2), rand(rng, 2)
    d_k, d_b = rand(rng, 2, 2), rand(rng, 2)
    qconv = k2_layer("QConv2D", "q_conv2d", filters=2, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                     kernel_quantizer="quantized_bits(4,0,1)", bias_quantizer="quantized_bits(4,0,1)",
                     batch_input_shape=[None, 5, 5, 1])
    config = {"class_name": "Sequential", "config": {"name": "quantized", "layers": [
        qconv,
        k2_layer("GlobalAveragePooling2D", "gap", data_format="channels_last"),
        k2_dense("dense", 2)]}}
    qw = [("q_conv2d/kernel:0", q_k), ("q_conv2d/bias:0", q_b)]
    dw = [("dense/kernel:0", d_k), ("dense/bias:0", d_b)]
    kl.write_keras2_h5(os.path.join(OUT, "custom_qconv.h5"), config,
                       [("q_conv2d", qw), ("gap", []), ("dense", dw)], keras_version="2.2.4")
    expected_layers = [
        expected_layer("q_conv2d_input", "InputLayer", [None, 5, 5, 1], extra={"implicit": 1}),
        expected_layer("q_conv2d", "QConv2D", None, qw, inputs=["q_conv2d_input"],
                       unsupported="unsupported layer type QConv2D"),
        expected_layer("gap", "GlobalAveragePooling2D", None, inputs=["q_conv2d"]),
        expected_layer("dense", "Dense", None, dw, inputs=["gap"]),
    ]
    expected = {"format": "keras-h5", "producer": "keras", "producer_version": "2.2.4", "has_architecture": True,
                "ordered": True, "layers": expected_layers,
                "inputs": [{"name": "q_conv2d_input", "shape": [None, 5, 5, 1]}],
                "outputs": [{"name": "dense", "shape": None}], "summary_rows": 3}
    expected.update(totals(expected_layers))
    write_expected("custom_qconv.h5", expected)

    # A Lambda holding marshalled bytecode (base64 of bytes that are not
    # valid bytecode: decoding them would fail loudly) after a Dense.
    entries = [
        with_inbound(k2_layer("InputLayer", "input_1", batch_input_shape=[None, 2], sparse=False, ragged=False)),
        with_inbound(k2_dense("dense", 2), [("input_1", 0, 0)]),
        with_inbound(k2_layer("Lambda", "lambda", function=["4wEAAAAAAAAAAAAAAP//AAAA", None, None],
                              function_type="lambda", module="__main__", output_shape=None,
                              output_shape_type="raw", output_shape_module=None, arguments={}),
                     [("dense", 0, 0)]),
    ]
    config = {"class_name": "Functional", "config": {"name": "with_lambda", "layers": entries,
                                                     "input_layers": [["input_1", 0, 0]],
                                                     "output_layers": [["lambda", 0, 0]]}}
    kl.write_keras2_h5(os.path.join(OUT, "lambda.h5"), config,
                       [("input_1", []), ("dense", dw), ("lambda", [])], keras_version="2.6.0")
    expected_layers = [
        expected_layer("input_1", "InputLayer", [None, 2], inputs=[]),
        expected_layer("dense", "Dense", [None, 2], dw, inputs=["input_1"]),
        expected_layer("lambda", "Lambda", None, inputs=["dense"], unsupported="Python code is not run"),
    ]
    expected = {"format": "keras-h5", "producer": "keras", "producer_version": "2.6.0", "has_architecture": True,
                "ordered": True, "layers": expected_layers, "inputs": [{"name": "input_1", "shape": [None, 2]}],
                "outputs": [{"name": "lambda", "shape": None}], "summary_rows": 3}
    expected.update(totals(expected_layers))
    write_expected("lambda.h5", expected)


def split_names():
    """More than 64512 bytes of layer names: Keras splits layer_names into
    layer_names0, layer_names1. Two very long names get there with the
    fewest HDF5 groups (the names are stored three times: the attribute,
    the group's link name and model_config, so the file is still ~230 KB).
    The expected JSON writes each long name as "<prefix><fill>"; the test
    expands "<fill>" to long_name_fill.count copies of long_name_fill.char."""
    rng = np.random.default_rng(1007)
    fill_char, fill_count = "n", 32300
    prefixes = ["activation_0_", "activation_1_"]
    names = [p + fill_char * fill_count for p in prefixes]
    layers_cfg = [k2_dense("dense_in", 3, batch_input_shape=[None, 3])]
    layers_cfg += [k2_layer("Activation", n, activation="linear") for n in names]
    config = {"class_name": "Sequential", "config": {"name": "long_names", "layers": layers_cfg}}
    k_in, b_in = rand(rng, 3, 3), rand(rng, 3)
    layers = [("dense_in", [("dense_in/kernel:0", k_in), ("dense_in/bias:0", b_in)])] + [(n, []) for n in names]
    kl.write_keras2_h5(os.path.join(OUT, "split_names.h5"), config, layers, keras_version="2.3.1")
    with h5py.File(os.path.join(OUT, "split_names.h5"), "r") as f:
        assert "layer_names0" in f["model_weights"].attrs and "layer_names" not in f["model_weights"].attrs
    short = [p + "<fill>" for p in prefixes]
    expected_layers = [expected_layer("dense_in_input", "InputLayer", [None, 3], extra={"implicit": 1}),
                       expected_layer("dense_in", "Dense", [None, 3], layers[0][1], inputs=["dense_in_input"])]
    expected_layers += [expected_layer(n, "Activation", [None, 3]) for n in short]
    expected = {"format": "keras-h5", "producer": "keras", "producer_version": "2.3.1", "has_architecture": True,
                "ordered": True, "layers": expected_layers, "inputs": [{"name": "dense_in_input", "shape": [None, 3]}],
                "outputs": [{"name": short[-1], "shape": [None, 3]}], "summary_rows": 3,
                "long_name_fill": {"char": fill_char, "count": fill_count}}
    expected.update(totals(expected_layers))
    write_expected("split_names.h5", expected)


def nested_keras2():
    """A Sequential inside a Functional (Keras 2): one layer holding the
    inner model's weights, its output shape taken from the inner model."""
    rng = np.random.default_rng(1008)
    k, b = rand(rng, 3, 3, 1, 2), rand(rng, 2)
    dk, db = rand(rng, 4 * 4 * 2, 3), rand(rng, 3)
    inner = {"class_name": "Sequential", "config": {"name": "inner_seq", "layers": [
        k2_conv("inner_conv", 2, 3, batch_input_shape=[None, 6, 6, 1]),
        k2_layer("Flatten", "inner_flat", data_format="channels_last")]}}
    entries = [
        with_inbound(k2_layer("InputLayer", "input_1", batch_input_shape=[None, 6, 6, 1], sparse=False,
                              ragged=False)),
        with_inbound(inner, [("input_1", 0, 0)]),
        with_inbound(k2_dense("outer_dense", 3), [("inner_seq", 0, 0)]),
    ]
    config = {"class_name": "Functional", "config": {"name": "outer", "layers": entries,
                                                     "input_layers": [["input_1", 0, 0]],
                                                     "output_layers": [["outer_dense", 0, 0]]}}
    inner_w = [("inner_conv/kernel:0", k), ("inner_conv/bias:0", b)]
    dense_w = [("outer_dense/kernel:0", dk), ("outer_dense/bias:0", db)]
    kl.write_keras2_h5(os.path.join(OUT, "nested_k2.h5"), config,
                       [("input_1", []), ("inner_seq", inner_w), ("outer_dense", dense_w)], keras_version="2.4.0")
    # The reader flattens the nested model: its layers are named by path and
    # the outer Dense reads the inner Flatten's output.
    expected_layers = [
        expected_layer("input_1", "InputLayer", [None, 6, 6, 1], inputs=[]),
        expected_layer("inner_seq/inner_conv", "Conv2D", [None, 4, 4, 2], inner_w, inputs=["input_1"],
                       extra={"group": "inner_seq"}),
        expected_layer("inner_seq/inner_flat", "Flatten", [None, 32], inputs=["inner_seq/inner_conv"],
                       extra={"group": "inner_seq"}),
        expected_layer("outer_dense", "Dense", [None, 3], dense_w, inputs=["inner_seq/inner_flat"]),
    ]
    expected = {"format": "keras-h5", "producer": "keras", "producer_version": "2.4.0", "has_architecture": True,
                "ordered": True, "layers": expected_layers, "inputs": [{"name": "input_1", "shape": [None, 6, 6, 1]}],
                "outputs": [{"name": "outer_dense", "shape": [None, 3]}], "summary_rows": 4}
    expected.update(totals(expected_layers))
    write_expected("nested_k2.h5", expected)


def nested_keras3():
    """A Sequential inside a Keras 3 Functional, as a .keras: the inner
    model's variables sit under layers/sequential/layers/<key>/vars."""
    rng = np.random.default_rng(1009)
    k, b = rand(rng, 3, 3, 1, 2), rand(rng, 2)
    dk, db = rand(rng, 2, 3), rand(rng, 3)
    inner = k3_layer("Sequential", "backbone", layers=[
        k3_layer("InputLayer", "inner_input", batch_shape=[None, 5, 5, 1], sparse=False, ragged=False),
        k3_layer("Conv2D", "inner_conv", filters=2, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                 data_format="channels_last", dilation_rate=[1, 1], activation="relu", use_bias=True),
        k3_layer("GlobalAveragePooling2D", "inner_gap", data_format="channels_last", keepdims=False)])
    inner["module"] = "keras"
    entries = [
        k3_entry(k3_layer("InputLayer", "image", batch_shape=[None, 5, 5, 1], sparse=False, ragged=False)),
        k3_entry(inner, k3_node(k3_tensor([None, 5, 5, 1], "image"))),
        k3_entry(k3_layer("Dense", "classes", units=3, activation="softmax", use_bias=True),
                 k3_node(k3_tensor([None, 2], "backbone"))),
    ]
    config = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {
        "name": "outer", "trainable": True, "layers": entries,
        "input_layers": [["image", 0, 0]], "output_layers": [["classes", 0, 0]]}, "registered_name": "Functional"}
    objects = [("layers/input_layer", "image", []),
               ("layers/sequential", "backbone", []),
               ("layers/sequential/layers/conv2d", "inner_conv", [k, b]),
               ("layers/sequential/layers/global_average_pooling2d", "inner_gap", []),
               ("layers/dense", "classes", [dk, db])]
    kl.write_keras_v3(os.path.join(OUT, "nested_k3.keras"), config, objects, keras_version="3.10.0")
    inner_w = [("backbone/inner_conv/kernel", k), ("backbone/inner_conv/bias", b)]
    dense_w = [("classes/kernel", dk), ("classes/bias", db)]
    # Flattened: the inner layers' variables come from
    # layers/sequential/layers/<key>/vars, named by the layer's path.
    expected_layers = [
        expected_layer("image", "InputLayer", [None, 5, 5, 1], inputs=[]),
        expected_layer("backbone/inner_conv", "Conv2D", [None, 3, 3, 2], inner_w, inputs=["image"],
                       extra={"group": "backbone"}),
        expected_layer("backbone/inner_gap", "GlobalAveragePooling2D", [None, 2], inputs=["backbone/inner_conv"],
                       extra={"group": "backbone"}),
        expected_layer("classes", "Dense", [None, 3], dense_w, inputs=["backbone/inner_gap"]),
    ]
    expected = {"format": "keras-v3", "producer": "keras", "producer_version": "3.10.0", "has_architecture": True,
                "ordered": True, "layers": expected_layers, "inputs": [{"name": "image", "shape": [None, 5, 5, 1]}],
                "outputs": [{"name": "classes", "shape": [None, 3]}], "summary_rows": 4}
    expected.update(totals(expected_layers))
    write_expected("nested_k3.keras", expected)


def corpus_expected():
    """Layer names, class names and parameter totals of the real files,
    read with h5py/json only."""
    result = {}
    h5_path = os.path.join(CORPUS, "N-Harish_onnx_converted_model__mnist.h5")
    with h5py.File(h5_path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        layers = [{"name": l["config"]["name"], "type": l["class_name"]} for l in config["config"]["layers"]]
        params = {}
        group = f["model_weights"]
        for name in group.attrs["layer_names"]:
            name = name.decode()
            total = 0
            for weight_name in group[name].attrs["weight_names"]:
                total += int(np.prod(group[name][weight_name.decode()].shape))
            params[name] = total
        for layer in layers:
            layer["params"] = params.get(layer["name"], 0)
        result["N-Harish_onnx_converted_model__mnist.h5"] = {
            "format": "keras-h5", "keras_version": f.attrs["keras_version"], "layers": layers,
            "total_params": sum(params.values())}
    keras_path = os.path.join(CORPUS, "Aman-21k_cnn-fashion-mnist-classifier__model.keras")
    import io
    import zipfile
    with zipfile.ZipFile(keras_path) as archive:
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        entries = [l for l in config["config"]["layers"]]
        layers = []
        non_input = [l for l in entries if l["class_name"] != "InputLayer"]
        keys = kl.keras3_layer_keys([l["class_name"] for l in non_input])
        key_of = {l["config"]["name"]: k for l, k in zip(non_input, keys)}
        total = 0
        for l in entries:
            name = l["config"]["name"]
            params = 0
            if name in key_of:
                variables = weights["layers"][key_of[name]]["vars"]
                params = sum(int(np.prod(variables[k].shape)) for k in variables)
            total += params
            layers.append({"name": name, "type": l["class_name"], "params": params})
        result["Aman-21k_cnn-fashion-mnist-classifier__model.keras"] = {
            "format": "keras-v3", "keras_version": metadata["keras_version"], "layers": layers,
            "total_params": total}
    with open(os.path.join(OUT, "corpus_expected.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


def npy_files():
    """Arrays written by numpy.save for the .npy reader/writer tests; values
    are np.arange-based so tests can state them."""
    os.makedirs(os.path.join(OUT, "npy"), exist_ok=True)
    arrays = {
        "f32_2x3": np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5,
        "f16_4": np.array([1.0, -2.5, 0.0, 65504.0], dtype=np.float16),
        "i64_3": np.array([-1, 0, 1 << 40], dtype=np.int64),
        "u8_2x2x2": np.arange(8, dtype=np.uint8).reshape(2, 2, 2),
        "bool_3": np.array([True, False, True]),
        "f64_scalar": np.array(3.25, dtype=np.float64),
        "f32_empty_0x4": np.zeros((0, 4), dtype=np.float32),
    }
    for name, array in arrays.items():
        np.save(os.path.join(OUT, "npy", name + ".npy"), array)
    # A version 2.0 header (numpy writes it when the header exceeds 65535).
    with open(os.path.join(OUT, "npy", "f32_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, np.arange(4, dtype=np.float32), version=(2, 0))
    # Big-endian and Fortran-order arrays the reader must refuse.
    np.save(os.path.join(OUT, "npy", "big_endian.npy"), np.arange(4, dtype=">f4"))
    np.save(os.path.join(OUT, "npy", "fortran_2x3.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))


def main():
    os.makedirs(OUT, exist_ok=True)
    sequential_keras2()
    functional_keras2()
    keras3_legacy_h5()
    keras3_functional_keras()
    keras3_sequential_keras()
    weights_only()
    custom_and_lambda()
    split_names()
    nested_keras2()
    nested_keras3()
    corpus_expected()
    npy_files()
    with open(os.path.join(OUT, "README.txt"), "w") as f:
        f.write("Generated by scripts/make_keras_fixtures.py (seeds 1001-1007, see the script).\n"
                "numpy %s, h5py %s, HDF5 %s. Do not edit by hand; rerun the script.\n"
                % (np.__version__, h5py.__version__, h5py.version.hdf5_version))


if __name__ == "__main__":
    main()
