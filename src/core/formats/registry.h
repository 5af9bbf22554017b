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

struct ModelFormat {
    const char* name;          // "keras-h5"
    const char* description;   // "Keras HDF5 (.h5)"
    const char* extensions;    // ".h5 .hdf5"
    bool (*matches)(ByteSpan bytes);
    Model (*open)(const FileBytes& bytes, const std::string& file_name);
};

const std::vector<ModelFormat>& model_formats();

// Picks the format by magic (never by extension alone) and opens the file.
// Throws FormatError naming what the first bytes look like when no format
// matches, and LimitError for files over limits::max_file_bytes.
Model open_model(const FileBytes& bytes, const std::string& file_name);

// Reads a whole file from disk (CLI and tests). Throws Error with the path.
FileBytes read_file_bytes(const std::string& path);

}  // namespace convscope
