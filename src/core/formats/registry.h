// The table of model formats: name, file extensions, a magic check, and the
// function that opens a file into the format-neutral Model (after Netron:
// `matches` never throws; `open` throws FormatError with the offset/path).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/byte_reader.h"
#include "core/model/model.h"

namespace convscope {

using FileBytes = std::shared_ptr<const std::vector<uint8_t>>;
// File bytes the reader may rewrite while it opens them (see open_model_in_place).
using WritableFileBytes = std::shared_ptr<std::vector<uint8_t>>;

struct FormatReader {
    const char* name;          // "keras-h5"
    const char* description;   // "Keras HDF5 (.h5)"
    const char* extensions;    // ".h5 .hdf5"
    bool (*matches)(ByteSpan bytes);
    Model (*open)(const FileBytes& bytes, const std::string& file_name);
    // Optional: opens bytes it may rewrite in place to avoid copies; nullptr
    // when the format gains nothing from it (open is used instead).
    Model (*open_in_place)(const WritableFileBytes& bytes, const std::string& file_name);
};

const std::vector<FormatReader>& model_formats();

// Picks the format by magic (never by extension alone) and opens the file.
// Throws FormatError naming what the first bytes look like when no format
// matches, and LimitError for files over limits::max_file_bytes.
Model open_model(const FileBytes& bytes, const std::string& file_name);

// Like open_model, for a caller that owns a private copy of the file and no
// longer needs its exact contents: a reader may move bytes inside the buffer
// so that weights become zero-copy views instead of copies (ONNX moves each
// misaligned raw_data down by a few bytes, over protobuf field headers it has
// already read). Afterwards the buffer's size is unchanged, but its contents
// are only meaningful through the returned Model (which keeps it alive); do
// not hash it, save it or open it again. On an error the contents are
// unspecified. A separate name, not an overload, so that passing a
// non-const shared_ptr to open_model never rewrites anything by accident.
Model open_model_in_place(const WritableFileBytes& bytes, const std::string& file_name);

// Reads a whole file from disk (CLI and tests). Throws Error with the path.
FileBytes read_file_bytes(const std::string& path);
// The same, as a buffer the caller may hand to open_model_in_place.
WritableFileBytes read_file_bytes_writable(const std::string& path);

}  // namespace convscope
