#include "core/formats/registry.h"

#include <fstream>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/hdf5.h"
#include "core/formats/keras.h"
#include "core/formats/onnx.h"
#include "core/formats/tflite.h"

namespace convscope {

// Readers register here, one line each; the order is the order magic checks
// run, most specific first.
const std::vector<ModelFormat>& model_formats() {
    static const std::vector<ModelFormat> formats = {
        {"keras-v3", "Keras 3 (.keras)", ".keras", keras::looks_like_keras_v3, keras::open_v3, nullptr},
        {"keras-h5", "Keras HDF5 (.h5)", ".h5 .hdf5", hdf5::is_hdf5, keras::open_h5, nullptr},
        {"onnx", "ONNX (.onnx)", ".onnx", looks_like_onnx, open_onnx, open_onnx_in_place},
        {"tflite", "TensorFlow Lite (.tflite)", ".tflite", looks_like_tflite, open_tflite, nullptr},
    };
    return formats;
}

static std::string describe_first_bytes(ByteSpan span) {
    std::string out;
    for (size_t i = 0; i < span.size && i < 8; ++i) {
        char c = static_cast<char>(span.data[i]);
        if (c >= 32 && c < 127) {
            out += c;
        } else {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[(span.data[i] >> 4) & 15];
            out += hex[span.data[i] & 15];
        }
    }
    return out;
}

// Both entry points share the checks and the error for an unknown format;
// `open_with` calls the chosen format's reader.
template <typename OpenWith>
static Model open_matching_format(const std::vector<uint8_t>* bytes, const std::string& file_name,
                                  OpenWith open_with) {
    if (!bytes) throw Error("open_model: no bytes");
    if (bytes->size() > limits::max_file_bytes) {
        throw_limit_error(file_name, ": file is ", bytes->size(), " bytes; the limit is ",
                          limits::max_file_bytes, " bytes");
    }
    ByteSpan span(bytes->data(), bytes->size());
    for (const ModelFormat& format : model_formats()) {
        if (format.matches(span)) return open_with(format);
    }
    std::string known;
    for (const ModelFormat& format : model_formats()) {
        known += known.empty() ? "" : ", ";
        known += format.description;
    }
    if (bytes->empty()) throw_format_error(file_name, ": the file is empty");
    throw_format_error(file_name, ": not a model file this version reads (first bytes '",
                       describe_first_bytes(span), "'); known formats: ",
                       known.empty() ? "none yet" : known);
}

Model open_model(const FileBytes& bytes, const std::string& file_name) {
    return open_matching_format(bytes.get(), file_name,
                                [&](const ModelFormat& format) { return format.open(bytes, file_name); });
}

Model open_model_in_place(const WritableFileBytes& bytes, const std::string& file_name) {
    return open_matching_format(bytes.get(), file_name, [&](const ModelFormat& format) {
        return format.open_in_place ? format.open_in_place(bytes, file_name) : format.open(bytes, file_name);
    });
}

WritableFileBytes read_file_bytes_writable(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw Error(concat(path, ": cannot open file"));
    std::streamoff size = in.tellg();
    if (size < 0) throw Error(concat(path, ": cannot read file size"));
    if (static_cast<uint64_t>(size) > limits::max_file_bytes) {
        throw_limit_error(path, ": file is ", size, " bytes; the limit is ", limits::max_file_bytes, " bytes");
    }
    auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(size));
    in.seekg(0);
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes->data()), size)) {
        throw Error(concat(path, ": read failed"));
    }
    return bytes;
}

FileBytes read_file_bytes(const std::string& path) { return read_file_bytes_writable(path); }

}  // namespace convscope
