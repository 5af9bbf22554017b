"""Writes files with Keras's exact on-disk layout, without Keras.

Keras is not installed on the build machines, so fixtures and demo models are
written with h5py + numpy following what Keras's own savers do. Attribute
types match what the savers produce (checked against real files in
/work/shared/corpus with h5py's low-level API):

Keras 2 / tf.keras full-model .h5 (keras/saving/hdf5_format.py):
  /                attrs keras_version, backend: variable-length UTF-8 str
                   (Keras passes str); model_config, training_config:
                   variable-length ASCII str (Keras passes utf-8 bytes)
  /model_weights   attrs layer_names: fixed-length byte strings (numpy 'S');
                   backend, keras_version: variable-length ASCII str
  /model_weights/<layer>            attr weight_names: fixed-length byte
                   strings, or an empty float64 array for layers without
                   weights (np.asarray([]) is float64)
  /model_weights/<layer>/<weight_name>  one dataset per weight; weight names
                   such as "dense_1_1/kernel:0" create intermediate groups
  Attribute lists over 64512 bytes are split into name0, name1, ... with
  np.array_split, like save_attributes_to_hdf5_group.

Keras 2 save_weights .h5: the /model_weights layout at the root.
Keras 1 save_weights .h5: the same, with weight names like "dense_1_W".
Keras 3 legacy .h5 writer: as Keras 2 but the string lists are
  variable-length str and weight names have no ":0".

Keras 3 model.weights.h5 (keras/src/saving/saving_lib.py, H5IOStore):
  /vars                              attr name = the model's name
  /<inner path>/vars                 attr name = the object's name
  /<inner path>/vars/<i>             i = 0, 1, ... in variable order
  Inner paths are "layers/<snake_case(class name)>" with counters
  (conv2d, conv2d_1, ...), nested for sub-objects.

Keras 3 .keras: a zip of metadata.json, config.json, model.weights.h5.
"""

import io
import json
import zipfile

import h5py
import numpy as np

HDF5_OBJECT_HEADER_LIMIT = 64512
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _save_string_list(group, name, strings, variable_length=False):
    """Writes a list of names the way save_attributes_to_hdf5_group does."""
    if variable_length:
        data = np.array([s.decode("utf8") if isinstance(s, bytes) else s for s in strings],
                        dtype=object)
        dtype = h5py.string_dtype("utf-8")
    else:
        data = np.asarray([s.encode("utf8") if isinstance(s, str) else s for s in strings])
        dtype = None
    if len(strings) == 0:
        group.attrs[name] = np.asarray([])
        return
    item_bytes = data.dtype.itemsize if dtype is None else 8
    chunks = 1
    split = np.array_split(data, chunks)
    while any(len(chunk) * item_bytes > HDF5_OBJECT_HEADER_LIMIT for chunk in split):
        chunks += 1
        split = np.array_split(data, chunks)
    if chunks == 1:
        group.attrs.create(name, data, dtype=dtype)
    else:
        for index, chunk in enumerate(split):
            group.attrs.create("%s%d" % (name, index), chunk, dtype=dtype)


def _write_weight_groups(group, layers, keras3_names=False):
    """layers: [(layer_name, [(weight_name, ndarray)])] in layer_names order."""
    _save_string_list(group, "layer_names", [name for name, _ in layers], keras3_names)
    for layer_name, weights in layers:
        layer_group = group.create_group(layer_name)
        _save_string_list(layer_group, "weight_names", [w for w, _ in weights], keras3_names)
        for weight_name, value in weights:
            value = np.asarray(value)
            dataset = layer_group.create_dataset(weight_name, value.shape, dtype=value.dtype)
            if value.shape:
                dataset[:] = value
            else:
                dataset[()] = value


def write_keras2_h5(path, model_config_dict, layers, keras_version="2.3.0-tf",
                    backend="tensorflow", training_config=None):
    """A full model as Keras 2 / tf.keras model.save("x.h5") writes it."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = keras_version
        f.attrs["backend"] = backend
        f.attrs["model_config"] = json.dumps(model_config_dict).encode("utf8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
        weights = f.create_group("model_weights")
        _write_weight_groups(weights, layers)
        weights.attrs["backend"] = backend.encode("utf8")
        weights.attrs["keras_version"] = keras_version.encode("utf8")


def write_keras3_legacy_h5(path, model_config_dict, layers, keras_version="3.10.0",
                           backend="tensorflow"):
    """Keras 3's legacy model.save("x.h5"): variable-length string lists and
    weight names without ":0" (e.g. "conv2d/kernel")."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = keras_version
        f.attrs["backend"] = backend
        f.attrs["model_config"] = json.dumps(model_config_dict)
        weights = f.create_group("model_weights")
        _write_weight_groups(weights, layers, keras3_names=True)
        weights.attrs["backend"] = backend
        weights.attrs["keras_version"] = keras_version


def write_keras2_weights_h5(path, layers, keras_version="2.3.0-tf", backend="tensorflow"):
    """model.save_weights("x.h5") in Keras 2 (and Keras 1 with "_W"/"_b" names)."""
    with h5py.File(path, "w") as f:
        _write_weight_groups(f, layers)
        if backend is not None:
            f.attrs["backend"] = backend.encode("utf8")
        if keras_version is not None:
            f.attrs["keras_version"] = keras_version.encode("utf8")


def write_keras3_weights_h5(target, objects, model_name="sequential"):
    """A Keras 3 model.weights.h5.

    target: a path or a binary file object.
    objects: [(inner_path like "layers/conv2d", object_name, [ndarray, ...])];
    every object gets a vars group, even without variables, as Keras does.
    """
    with h5py.File(target, "w") as f:
        f.create_group("vars").attrs["name"] = model_name
        for inner_path, object_name, values in objects:
            group = f.require_group(inner_path)
            variables = group.create_group("vars")
            variables.attrs["name"] = object_name
            for index, value in enumerate(values):
                variables.create_dataset(str(index), data=np.asarray(value))


def write_keras_v3(path, config_dict, objects, keras_version="3.10.0", model_name=None,
                   deflate=(), date_saved="2025-01-01@00:00:00"):
    """A Keras 3 .keras zip: metadata.json, config.json, model.weights.h5.

    deflate: member names to store compressed (Keras stores all three; a
    re-zipped file may deflate them). Timestamps are fixed so the output is
    reproducible byte for byte.
    """
    if model_name is None:
        model_name = config_dict.get("config", {}).get("name", "model")
    weights_bytes = io.BytesIO()
    write_keras3_weights_h5(weights_bytes, objects, model_name)
    members = [
        ("metadata.json", json.dumps({"keras_version": keras_version,
                                      "date_saved": date_saved}).encode("utf8")),
        ("config.json", json.dumps(config_dict).encode("utf8")),
        ("model.weights.h5", weights_bytes.getvalue()),
    ]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)


def snake_case(class_name):
    """keras.src.utils.naming.to_snake_case: the key Keras 3 uses for a layer
    inside a container ("MaxPooling2D" -> "max_pooling2d")."""
    import re
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def keras3_layer_keys(class_names):
    """Counters per snake-cased class name, in the container's order."""
    used = {}
    keys = []
    for class_name in class_names:
        base = snake_case(class_name)
        if base in used:
            used[base] += 1
            keys.append("%s_%d" % (base, used[base]))
        else:
            used[base] = 0
            keys.append(base)
    return keys
