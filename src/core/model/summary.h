// Model -> rows like Keras's model.summary(), and Model -> JSON.
//
// Used by `convscope summary` and the UI's model panel. The rows follow
// Keras's conventions: one row per layer (a shared layer's later calls and
// the implicit InputLayer of a Sequential are not listed), output shapes as
// "(None, 26, 26, 5)", parameter counts from the weights actually loaded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace convscope {

struct SummaryRow {
    std::string name;
    std::string type;
    std::string output_shape;  // "(None, 26, 26, 5)", "?" when not inferred
    uint64_t params = 0;
    std::string note;          // unsupported_reason, if any
};

struct ModelSummary {
    std::vector<SummaryRow> rows;
    uint64_t total_params = 0;
    // Known for Keras formats (BatchNormalization moving statistics and
    // layers with trainable = false are non-trainable); empty otherwise.
    std::optional<uint64_t> trainable_params;
    std::optional<uint64_t> non_trainable_params;
};

ModelSummary summarize(const Model& model);

// A multi-line table like model.summary() plus totals, the format/producer
// line and any warnings.
std::string summary_to_text(const Model& model);

// {"format", "producer", "producer_version", "name", "has_architecture",
//  "inputs": [{name, shape, dtype}], "outputs": [...],
//  "layers": [{name, type, inputs, outputs, output_shape (null for unknown
//  dims or a null list when not inferred), params, weights: [{name, shape,
//  dtype}], attributes, unsupported_reason}], "total_params",
//  "trainable_params", "non_trainable_params", "warnings"}
std::string model_to_json(const Model& model, int indent = 2);

}  // namespace convscope
