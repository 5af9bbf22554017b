// open_model_in_place on ONNX: misaligned raw_data becomes a zero-copy view
// into the file buffer (moved down inside its TensorProto), with the same
// values the const path (open_model, which copies) reads.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/formats/onnx.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

// A minimal protobuf writer, enough to lay out an ONNX file byte by byte and
// know where each raw_data payload lands.
struct ProtoWriter {
    std::vector<uint8_t> bytes;

    void varint(uint64_t value) {
        while (value >= 0x80) {
            bytes.push_back(static_cast<uint8_t>(value | 0x80));
            value >>= 7;
        }
        bytes.push_back(static_cast<uint8_t>(value));
    }
    void tag(uint32_t field, uint32_t wire_type) { varint(uint64_t{field} << 3 | wire_type); }
    void int_field(uint32_t field, uint64_t value) {
        tag(field, 0);
        varint(value);
    }
    // Returns the offset of the payload inside `bytes`.
    size_t bytes_field(uint32_t field, const std::vector<uint8_t>& payload) {
        tag(field, 2);
        varint(payload.size());
        size_t at = bytes.size();
        bytes.insert(bytes.end(), payload.begin(), payload.end());
        return at;
    }
    size_t string_field(uint32_t field, const std::string& text) {
        return bytes_field(field, std::vector<uint8_t>(text.begin(), text.end()));
    }
};

enum OnnxType { onnx_float = 1, onnx_float16 = 10, onnx_double = 11 };

struct TensorSpec {
    std::string name;
    OnnxType type;
    int64_t elements;
    bool raw_data_first;   // raw_data before dims/data_type/name: only its own header precedes it
    // Filled by build_model_file:
    size_t message_offset = 0;   // TensorProto payload start in the file
    size_t raw_offset = 0;       // raw_data payload start in the file
};

size_t element_size(OnnxType type) { return type == onnx_double ? 8 : type == onnx_float16 ? 2 : 4; }

// Element i of a tensor, exactly representable in float16.
double expected_value(size_t tensor_index, int64_t i) {
    return static_cast<double>(tensor_index + 1) * 0.5 + static_cast<double>(i % 64) * 0.25 - 8.0;
}

std::vector<uint8_t> raw_payload(const TensorSpec& spec, size_t tensor_index) {
    std::vector<uint8_t> out;
    for (int64_t i = 0; i < spec.elements; ++i) {
        double value = expected_value(tensor_index, i);
        uint8_t buffer[8];
        if (spec.type == onnx_double) {
            std::memcpy(buffer, &value, 8);
        } else if (spec.type == onnx_float) {
            float f = static_cast<float>(value);
            std::memcpy(buffer, &f, 4);
        } else {
            // float16 of a small multiple of 0.25: sign, exponent, 10-bit mantissa.
            float f = static_cast<float>(value);
            uint16_t bits = 0;
            if (f != 0) {
                int exponent = 0;
                float mantissa = std::frexp(std::fabs(f), &exponent);  // [0.5, 1)
                uint16_t fraction = static_cast<uint16_t>(std::lround((mantissa * 2 - 1) * 1024));
                bits = static_cast<uint16_t>((f < 0 ? 0x8000 : 0) | ((exponent - 1 + 15) << 10) | fraction);
            }
            std::memcpy(buffer, &bits, 2);
        }
        out.insert(out.end(), buffer, buffer + element_size(spec.type));
    }
    return out;
}

// ModelProto { ir_version 7, opset ai.onnx 13, graph { Identity node per
// tensor, initializers } }. Records where each TensorProto and raw_data lands.
std::vector<uint8_t> build_model_file(std::vector<TensorSpec>& specs) {
    ProtoWriter graph;
    for (size_t t = 0; t < specs.size(); ++t) {
        ProtoWriter node;
        node.string_field(1, specs[t].name);
        node.string_field(2, "out_" + std::to_string(t));
        node.string_field(3, "identity_" + std::to_string(t));
        node.string_field(4, "Identity");
        graph.bytes_field(1, node.bytes);
    }
    graph.string_field(2, "in_place_graph");
    // Initializers last, so their offsets inside the graph are final once we
    // know where the graph payload starts.
    std::vector<std::pair<size_t, size_t>> local;  // (message offset, raw offset) inside graph.bytes
    for (size_t t = 0; t < specs.size(); ++t) {
        ProtoWriter tensor;
        size_t raw_at = 0;
        if (specs[t].raw_data_first) raw_at = tensor.bytes_field(9, raw_payload(specs[t], t));
        tensor.int_field(1, static_cast<uint64_t>(specs[t].elements));
        tensor.int_field(2, specs[t].type);
        tensor.string_field(8, specs[t].name);
        if (!specs[t].raw_data_first) raw_at = tensor.bytes_field(9, raw_payload(specs[t], t));
        size_t message_at = graph.bytes_field(5, tensor.bytes);
        local.emplace_back(message_at, message_at + raw_at);
    }
    ProtoWriter model;
    model.int_field(1, 7);
    ProtoWriter opset;
    opset.string_field(1, "");
    opset.int_field(2, 13);
    model.bytes_field(8, opset.bytes);
    size_t graph_at = model.bytes_field(7, graph.bytes);
    for (size_t t = 0; t < specs.size(); ++t) {
        specs[t].message_offset = graph_at + local[t].first;
        specs[t].raw_offset = graph_at + local[t].second;
    }
    return model.bytes;
}

// Float32 tensors of every name length 1..8 (so raw_data starts at every
// residue mod 4 and mod 8), float64 and float16 ones, small and large
// payloads, and raw_data as the first field (little room before it).
std::vector<TensorSpec> misaligned_specs() {
    std::vector<TensorSpec> specs;
    for (int pad = 0; pad < 8; ++pad) {
        std::string suffix(static_cast<size_t>(pad), 'x');
        specs.push_back({"f32_" + suffix, onnx_float, 48, false});
        specs.push_back({"f64_" + suffix, onnx_double, 20, false});
        specs.push_back({"f16_" + suffix, onnx_float16, 70, false});
        specs.push_back({"small_" + suffix, onnx_float, 3, false});
        specs.push_back({"first_" + suffix, onnx_float, 3 + pad, true});
        specs.push_back({"first_big_" + suffix, onnx_float, 40 + pad, true});
    }
    return specs;
}

const Weight& weight_of(const Model& model, const std::string& name) {
    for (const Layer& layer : model.layers) {
        for (const Weight& weight : layer.weights) {
            if (weight.name == name) return weight;
        }
    }
    FAIL("no weight named " << name);
    throw std::logic_error("unreachable");
}

void check_values(const Tensor& tensor, size_t tensor_index, const TensorSpec& spec) {
    REQUIRE(tensor.element_count() == static_cast<uint64_t>(spec.elements));
    for (int64_t i = 0; i < spec.elements; ++i) {
        INFO(spec.name << "[" << i << "]");
        REQUIRE(tensor.value_at(static_cast<uint64_t>(i)) == expected_value(tensor_index, i));
    }
}

bool points_into(const Tensor& tensor, const std::vector<uint8_t>& buffer) {
    auto begin = reinterpret_cast<uintptr_t>(buffer.data());
    auto data = reinterpret_cast<uintptr_t>(tensor.raw());
    return data >= begin && data + tensor.byte_size() <= begin + buffer.size();
}

}  // namespace

TEST_CASE("ONNX in place: misaligned raw_data becomes an aligned view into the file buffer", "[onnx][onnx-in-place]") {
    std::vector<TensorSpec> specs = misaligned_specs();
    auto buffer = std::make_shared<std::vector<uint8_t>>(build_model_file(specs));
    const size_t size_before = buffer->size();
    const auto base = reinterpret_cast<uintptr_t>(buffer->data());

    // Which payloads start misaligned in this buffer, and which of them have
    // enough bytes of their own TensorProto before them to move into.
    std::set<size_t> f32_residues;
    size_t misaligned = 0, movable = 0, pinned = 0;
    std::vector<bool> expect_view(specs.size());
    for (size_t t = 0; t < specs.size(); ++t) {
        size_t alignment = element_size(specs[t].type);
        size_t residue = (base + specs[t].raw_offset) % alignment;
        if (specs[t].type == onnx_float) f32_residues.insert(residue);
        size_t room = specs[t].raw_offset - specs[t].message_offset;
        expect_view[t] = residue == 0 || residue <= room;
        misaligned += residue != 0;
        movable += residue != 0 && residue <= room;
        pinned += residue > room;
    }
    REQUIRE(f32_residues == std::set<size_t>{0, 1, 2, 3});
    REQUIRE(movable >= 20);
    REQUIRE(pinned >= 1);   // small raw_data-first tensors with 2 header bytes and 3 to move

    Model model = open_model_in_place(buffer, "misaligned.onnx");
    REQUIRE(model.format == ModelFormat::onnx);
    REQUIRE(model.layers.size() == specs.size());
    REQUIRE(buffer->size() == size_before);
    size_t views = 0;
    for (size_t t = 0; t < specs.size(); ++t) {
        INFO(specs[t].name);
        const Tensor& tensor = weight_of(model, specs[t].name).tensor;
        check_values(tensor, t, specs[t]);
        REQUIRE(reinterpret_cast<uintptr_t>(tensor.raw()) % element_size(specs[t].type) == 0);
        if (expect_view[t]) {
            REQUIRE_FALSE(tensor.owns_data());
            REQUIRE(points_into(tensor, *buffer));
            // Moved down by its misalignment, never up or further.
            auto moved_to = reinterpret_cast<uintptr_t>(tensor.raw()) - base;
            REQUIRE(moved_to <= specs[t].raw_offset);
            REQUIRE(specs[t].raw_offset - moved_to < element_size(specs[t].type));
            ++views;
        } else {
            REQUIRE(tensor.owns_data());
        }
    }
    REQUIRE(views == specs.size() - pinned);
    REQUIRE(model.file_bytes.get() == buffer.get());   // the views keep the buffer alive
}

TEST_CASE("ONNX const path: the same file opens from const bytes, copies misaligned data, rewrites nothing",
          "[onnx][onnx-in-place]") {
    std::vector<TensorSpec> specs = misaligned_specs();
    const std::vector<uint8_t> original = build_model_file(specs);
    FileBytes bytes = std::make_shared<const std::vector<uint8_t>>(original);
    const auto base = reinterpret_cast<uintptr_t>(bytes->data());
    Model model = open_model(bytes, "misaligned.onnx");
    REQUIRE(*bytes == original);
    size_t copies = 0;
    for (size_t t = 0; t < specs.size(); ++t) {
        INFO(specs[t].name);
        const Tensor& tensor = weight_of(model, specs[t].name).tensor;
        check_values(tensor, t, specs[t]);
        bool aligned = (base + specs[t].raw_offset) % element_size(specs[t].type) == 0;
        REQUIRE(tensor.owns_data() == !aligned);
        if (aligned) REQUIRE(reinterpret_cast<uintptr_t>(tensor.raw()) == base + specs[t].raw_offset);
        copies += !aligned;
    }
    REQUIRE(copies > 0);
}

TEST_CASE("ONNX in place: every fixture and corpus model opens to the same weights as the const path",
          "[onnx][onnx-in-place]") {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(CONVSCOPE_SOURCE_DIR "/tests/fixtures/onnx")) {
        if (entry.path().extension() == ".onnx") files.push_back(entry.path().string());
    }
    const std::string corpus_model = CONVSCOPE_SOURCE_DIR "/../shared/corpus/Baskov_PyTorch-__mnist-8.onnx";
    REQUIRE(std::filesystem::exists(corpus_model));
    files.push_back(corpus_model);
    REQUIRE(files.size() >= 10);
    size_t opened = 0, const_copies = 0, in_place_copies = 0;
    for (const std::string& file : files) {
        INFO(file);
        FileBytes original = read_file_bytes(file);
        std::string const_error, in_place_error;
        Model from_const, from_writable;
        try {
            from_const = open_model(original, file);
        } catch (const Error& error) {
            const_error = error.what();
        }
        try {
            from_writable = open_model_in_place(std::make_shared<std::vector<uint8_t>>(*original), file);
        } catch (const Error& error) {
            in_place_error = error.what();
        }
        REQUIRE(const_error == in_place_error);
        if (!const_error.empty()) continue;
        ++opened;
        REQUIRE(from_const.layers.size() == from_writable.layers.size());
        for (size_t l = 0; l < from_const.layers.size(); ++l) {
            const Layer& a = from_const.layers[l];
            const Layer& b = from_writable.layers[l];
            REQUIRE(a.name == b.name);
            REQUIRE(a.output_shape == b.output_shape);
            REQUIRE(a.weights.size() == b.weights.size());
            for (size_t w = 0; w < a.weights.size(); ++w) {
                const Tensor& ta = a.weights[w].tensor;
                const Tensor& tb = b.weights[w].tensor;
                REQUIRE(ta.dtype() == tb.dtype());
                REQUIRE(ta.shape() == tb.shape());
                REQUIRE(std::memcmp(ta.raw(), tb.raw(), ta.byte_size()) == 0);
                const_copies += ta.owns_data();
                in_place_copies += tb.owns_data();
            }
        }
    }
    REQUIRE(opened >= 8);
    REQUIRE(in_place_copies < const_copies);
}

TEST_CASE("ONNX in place: a real PyTorch export has no weight copies left", "[onnx][onnx-in-place]") {
    auto bytes = read_file_bytes_writable(CONVSCOPE_SOURCE_DIR "/../shared/corpus/Baskov_PyTorch-__mnist-8.onnx");
    Model model = open_model_in_place(bytes, "mnist-8.onnx");
    size_t weights = 0;
    for (const Layer& layer : model.layers) {
        for (const Weight& weight : layer.weights) {
            INFO(layer.name << " " << weight.name);
            REQUIRE_FALSE(weight.tensor.owns_data());
            REQUIRE(points_into(weight.tensor, *bytes));
            ++weights;
        }
    }
    REQUIRE(weights >= 4);
}
