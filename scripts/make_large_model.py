#!/usr/bin/python3
"""Writes two ~100 MB models for the large-model memory/time figure in
docs/reliability.md (NOT committed; they go to build/large-models/):

    build/large-models/large_vgg.h5     Keras 2 full-model .h5 (tf.keras 2.x layout)
    build/large-models/large_vgg.onnx   the same network as ONNX (opset 13)

Run with Debian's Python (it has numpy, h5py and onnx):
    /usr/bin/python3 scripts/make_large_model.py [OUT_DIR]
then measure with
    build/<yours>/mutation_report --open build/large-models/large_vgg.h5 build/large-models/large_vgg.onnx

The network (VGG-like, 24.9 M float32 parameters, ~100 MB of weights):
input 32x32x3; five 3x3 'same' convolutions (64, 128, 256, 512, 512
filters, ReLU; 2x2 max pooling after the first three); flatten (8192);
dense 2048 ReLU, dense 2048 ReLU, dense 10 softmax. Weights are
numpy.random.default_rng(20240601) normals scaled by 0.01: the values
do not matter, only the sizes. The layout is written by keras_layout.py
(as the fixtures are), so no TensorFlow is needed.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_layout as kl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20240601
CONVS = [(64, True), (128, True), (256, True), (512, False), (512, False)]  # (filters, pool after)
DENSES = [(2048, "relu"), (2048, "relu"), (10, "softmax")]
SIZE = 32


def make_weights():
    rng = np.random.default_rng(SEED)
    convs, denses = [], []
    channels, size = 3, SIZE
    for filters, pool in CONVS:
        kernel = (rng.standard_normal((3, 3, channels, filters), dtype=np.float32) * 0.01)
        bias = np.zeros(filters, np.float32)
        convs.append((kernel, bias, pool))
        channels = filters
        if pool:
            size //= 2
    features = size * size * channels
    for units, activation in DENSES:
        kernel = rng.standard_normal((features, units), dtype=np.float32) * 0.01
        denses.append((kernel, np.zeros(units, np.float32), activation))
        features = units
    return convs, denses, size


def write_keras(path, convs, denses):
    layers_config, weight_groups = [], []
    first = True
    for index, (kernel, bias, pool) in enumerate(convs):
        name = "conv2d_%d" % index
        config = {"name": name, "trainable": True, "dtype": "float32", "filters": int(kernel.shape[3]),
                  "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last",
                  "dilation_rate": [1, 1], "activation": "relu", "use_bias": True}
        if first:
            config["batch_input_shape"] = [None, SIZE, SIZE, 3]
            first = False
        layers_config.append({"class_name": "Conv2D", "config": config})
        weight_groups.append((name, [(name + "/kernel:0", kernel), (name + "/bias:0", bias)]))
        if pool:
            pool_name = "max_pooling2d_%d" % index
            layers_config.append({"class_name": "MaxPooling2D", "config": {
                "name": pool_name, "trainable": True, "dtype": "float32", "pool_size": [2, 2],
                "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}})
            weight_groups.append((pool_name, []))
    layers_config.append({"class_name": "Flatten", "config": {"name": "flatten", "trainable": True,
                                                              "dtype": "float32", "data_format": "channels_last"}})
    weight_groups.append(("flatten", []))
    for index, (kernel, bias, activation) in enumerate(denses):
        name = "dense_%d" % index
        layers_config.append({"class_name": "Dense", "config": {
            "name": name, "trainable": True, "dtype": "float32", "units": int(kernel.shape[1]),
            "activation": activation, "use_bias": True}})
        weight_groups.append((name, [(name + "/kernel:0", kernel), (name + "/bias:0", bias)]))
    model_config = {"class_name": "Sequential", "config": {"name": "large_vgg", "layers": layers_config}}
    kl.write_keras2_h5(path, model_config, weight_groups, keras_version="2.13.1")


def write_onnx(path, convs, denses, final_size):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    current = "input"
    for index, (kernel, bias, pool) in enumerate(convs):
        w, b = "conv%d.weight" % index, "conv%d.bias" % index
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), w))
        initializers.append(numpy_helper.from_array(bias, b))
        nodes.append(helper.make_node("Conv", [current, w, b], ["conv%d" % index], name="conv%d" % index,
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", ["conv%d" % index], ["relu%d" % index], name="relu%d" % index))
        current = "relu%d" % index
        if pool:
            nodes.append(helper.make_node("MaxPool", [current], ["pool%d" % index], name="pool%d" % index,
                                          kernel_shape=[2, 2], strides=[2, 2]))
            current = "pool%d" % index
    nodes.append(helper.make_node("Flatten", [current], ["flat"], name="flatten", axis=1))
    current = "flat"
    for index, (kernel, bias, activation) in enumerate(denses):
        w, b = "fc%d.weight" % index, "fc%d.bias" % index
        initializers.append(numpy_helper.from_array(kernel, w))
        initializers.append(numpy_helper.from_array(bias, b))
        nodes.append(helper.make_node("Gemm", [current, w, b], ["fc%d" % index], name="fc%d" % index))
        current = "fc%d" % index
        op = "Relu" if activation == "relu" else "Softmax"
        nodes.append(helper.make_node(op, [current], ["act_fc%d" % index], name="act_fc%d" % index))
        current = "act_fc%d" % index
    graph = helper.make_graph(nodes, "large_vgg",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
                              [helper.make_tensor_value_info(current, TensorProto.FLOAT, [1, 10])],
                              initializers)
    model = helper.make_model(graph, producer_name="convscope-make_large_model",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "large-models")
    os.makedirs(out, exist_ok=True)
    convs, denses, final_size = make_weights()
    parameters = sum(k.size + b.size for k, b, _ in convs) + sum(k.size + b.size for k, b, _ in denses)
    write_keras(os.path.join(out, "large_vgg.h5"), convs, denses)
    write_onnx(os.path.join(out, "large_vgg.onnx"), convs, denses, final_size)
    for name in ("large_vgg.h5", "large_vgg.onnx"):
        path = os.path.join(out, name)
        print("%s: %.1f MB, %d parameters" % (path, os.path.getsize(path) / 1048576.0, parameters))


if __name__ == "__main__":
    main()
