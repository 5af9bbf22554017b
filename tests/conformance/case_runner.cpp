// One conformance case: the model through our ONNX reader and engine, every
// test_data_set_* fed by input name, every output compared with the
// expected TensorProto.
//
// Comparison (as onnx's backend test runner does it, numpy's assert_allclose):
// shapes equal; integer and bool outputs exactly; floating point within
// |got - expected| <= atol + rtol * |expected|, NaN equal to NaN and
// infinities equal to themselves. The engine holds every float as float32
// and every integer as int64, so values are compared, not storage types.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "conformance/conformance.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/formats/onnx.h"
#include "core/formats/protobuf.h"
#include "core/formats/registry.h"

namespace convscope::conformance {

namespace {

namespace fs = std::filesystem;

constexpr int32_t onnx_string_type = 8;
constexpr size_t max_reason_length = 300;

std::string one_line(const std::string& text) {
    std::string line;
    for (char c : text) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
        if (c == ' ' && (line.empty() || line.back() == ' ')) continue;
        line += c;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.size() > max_reason_length) line = line.substr(0, max_reason_length - 3) + "...";
    return line;
}

// "input_3.pb" files of one test data set, ordered by their number.
std::vector<fs::path> numbered_files(const fs::path& directory, const std::string& prefix) {
    std::regex pattern(prefix + "_([0-9]+)\\.pb");
    std::vector<std::pair<int, fs::path>> found;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
        std::smatch match;
        std::string name = entry.path().filename().string();
        if (std::regex_match(name, match, pattern)) found.emplace_back(std::stoi(match[1].str()), entry.path());
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> paths;
    for (auto& [number, path] : found) paths.push_back(path);
    return paths;
}

std::vector<fs::path> test_data_sets(const fs::path& case_directory) {
    std::vector<fs::path> sets;
    for (const fs::directory_entry& entry : fs::directory_iterator(case_directory)) {
        if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) {
            sets.push_back(entry.path());
        }
    }
    std::sort(sets.begin(), sets.end());
    return sets;
}

// TensorProto.data_type (field 2) without decoding the data; 0 when absent
// or unreadable (the real decode reports that).
int32_t tensor_proto_data_type(const FileBytes& bytes) {
    try {
        protobuf::MessageReader message(ByteSpan(bytes->data(), bytes->size()), "TensorProto");
        while (message.next()) {
            if (message.field_number() == 2 && message.wire_type() == protobuf::WireType::varint) {
                return message.as_int32();
            }
        }
    } catch (const std::exception&) {
    }
    return 0;
}

bool any_string_tensor(const std::vector<fs::path>& sets) {
    for (const fs::path& set : sets) {
        for (const char* prefix : {"input", "output"}) {
            for (const fs::path& file : numbered_files(set, prefix)) {
                if (tensor_proto_data_type(read_file_bytes(file.string())) == onnx_string_type) return true;
            }
        }
    }
    return false;
}

// The graph's first input or output that is not a tensor (a sequence, map,
// optional or sparse tensor), as "input 'x' is a sequence"; empty when all
// are tensors. Read from the file because Model keeps tensors only: the
// path is ModelProto.graph [7] -> input [11] / output [12] ValueInfoProto
// -> type [2] TypeProto, whose value field says the kind.
std::string first_non_tensor_value(const FileBytes& model_bytes) {
    using protobuf::MessageReader;
    MessageReader model(ByteSpan(model_bytes->data(), model_bytes->size()), "ModelProto");
    while (model.next()) {
        if (model.field_number() != 7 || model.wire_type() != protobuf::WireType::length_delimited) continue;
        MessageReader graph = model.as_message("graph");
        while (graph.next()) {
            bool input = graph.field_number() == 11;
            if ((!input && graph.field_number() != 12) || graph.wire_type() != protobuf::WireType::length_delimited) continue;
            MessageReader value = graph.as_message("value_info");
            std::string name, kind;
            while (value.next()) {
                if (value.field_number() == 1) name = value.as_string();
                if (value.field_number() != 2 || value.wire_type() != protobuf::WireType::length_delimited) continue;
                MessageReader type = value.as_message("type");
                while (type.next()) {
                    switch (type.field_number()) {
                        case 4: kind = "a sequence"; break;
                        case 5: kind = "a map"; break;
                        case 8: kind = "a sparse tensor"; break;
                        case 9: kind = "an optional"; break;
                        default: break;
                    }
                }
            }
            if (!kind.empty()) return concat(input ? "input '" : "output '", name, "' is ", kind);
        }
    }
    return "";
}

std::vector<std::string> distinct_node_types(const Model& model) {
    std::vector<std::string> ops;
    for (const Layer& layer : model.layers) {
        std::string domain = layer.attribute_string("domain", "");
        std::string op = domain.empty() || domain == "ai.onnx" ? layer.type : domain + ":" + layer.type;
        if (std::find(ops.begin(), ops.end(), op) == ops.end()) ops.push_back(op);
    }
    return ops;
}

bool is_integer_or_bool(DType dtype) { return dtype != DType::f16 && dtype != DType::f32 && dtype != DType::f64; }

std::string index_text(uint64_t flat, const Shape& shape) {
    std::vector<int64_t> index(shape.size(), 0);
    for (size_t d = shape.size(); d-- > 0;) {
        if (shape[d] > 0) {
            index[d] = static_cast<int64_t>(flat % static_cast<uint64_t>(shape[d]));
            flat /= static_cast<uint64_t>(shape[d]);
        }
    }
    std::string text = "[";
    for (size_t d = 0; d < index.size(); ++d) text += (d ? "," : "") + std::to_string(index[d]);
    return text + "]";
}

std::string number_text(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.7g", value);
    return buffer;
}

// Empty when `got` matches `expected`, else why not.
std::string compare_tensors(const std::string& name, const Tensor& got, const Tensor& expected,
                            const Tolerance& tolerance) {
    if (got.shape() != expected.shape()) {
        return concat("output '", name, "': shape ", shape_to_string(got.shape()), ", expected ",
                      shape_to_string(expected.shape()));
    }
    if (got.element_count() != expected.element_count()) {
        return concat("output '", name, "': ", got.element_count(), " elements, expected ", expected.element_count());
    }
    const bool exact = is_integer_or_bool(expected.dtype());
    uint64_t differing = 0, worst = 0;
    double worst_excess = -1;
    for (uint64_t i = 0; i < expected.element_count(); ++i) {
        double g = got.value_at(i), e = expected.value_at(i);
        bool equal;
        double excess = 0;
        if (std::isnan(e) || std::isnan(g)) {
            equal = std::isnan(e) && std::isnan(g);
            excess = equal ? 0 : INFINITY;
        } else if (std::isinf(e) || std::isinf(g) || exact) {
            equal = g == e;
            excess = equal ? 0 : INFINITY;
        } else {
            double allowed = tolerance.absolute + tolerance.relative * std::fabs(e);
            excess = std::fabs(g - e) / allowed;
            equal = excess <= 1.0;
        }
        if (equal) continue;
        ++differing;
        if (excess > worst_excess) worst_excess = excess, worst = i;
    }
    if (differing == 0) return "";
    return concat("output '", name, "': ", differing, " of ", expected.element_count(), " values differ",
                  exact ? " (compared exactly)" : "", "; first worst at ", index_text(worst, expected.shape()),
                  ": got ", number_text(got.value_at(worst)), ", expected ", number_text(expected.value_at(worst)));
}

// Feeds one test data set and compares; empty when every output matches.
std::string run_data_set(const Engine& engine, const Model& model, const fs::path& set, const Tolerance& tolerance) {
    std::map<std::string, Tensor> feeds;
    std::vector<fs::path> inputs = numbered_files(set, "input");
    const std::vector<ValueInfo>& declared = engine.inputs();
    for (size_t i = 0; i < inputs.size(); ++i) {
        OnnxTensor tensor = read_onnx_tensor(read_file_bytes(inputs[i].string()), inputs[i].string());
        bool named = std::any_of(declared.begin(), declared.end(),
                                 [&](const ValueInfo& input) { return input.name == tensor.name; });
        std::string name = named ? tensor.name : i < declared.size() ? declared[i].name : "";
        if (name.empty()) return concat("refused: ", inputs[i].filename().string(), " has no matching graph input");
        feeds[name] = std::move(tensor.tensor);
    }
    RunResult run = engine.run(feeds, RunOptions{});
    std::vector<fs::path> outputs = numbered_files(set, "output");
    if (outputs.empty()) return concat("refused: ", set.filename().string(), " has no output_*.pb to compare with");
    for (size_t i = 0; i < outputs.size(); ++i) {
        OnnxTensor expected = read_onnx_tensor(read_file_bytes(outputs[i].string()), outputs[i].string());
        std::string name = expected.name;
        if (name.empty() || !run.outputs.count(name)) {
            name = i < model.outputs.size() ? model.outputs[i].name : expected.name;
        }
        auto found = run.outputs.find(name);
        if (found == run.outputs.end()) return concat("output '", name, "' was not produced");
        std::string difference = compare_tensors(name, found->second, expected.tensor, tolerance);
        if (!difference.empty()) return difference;
    }
    return "";
}

}  // namespace

CaseResult run_case(const std::string& case_directory, const std::string& id, const std::string& sibling_family,
                    const Tolerance& tolerance) {
    CaseResult result;
    result.id = id;
    result.family = sibling_family;
    std::string case_name = fs::path(case_directory).filename().string();
    try {
        fs::path model_path = fs::path(case_directory) / "model.onnx";
        FileBytes model_bytes = read_file_bytes(model_path.string());
        Model model = open_model(model_bytes, model_path.string());
        result.ops = distinct_node_types(model);
        result.family = case_family(result.ops, sibling_family);
        std::string non_tensor = first_non_tensor_value(model_bytes);
        // Sequences and optionals are not part of a CNN, whatever the node type.
        result.in_scope = non_tensor.empty() && case_in_scope(result.family, result.ops);
        std::vector<fs::path> sets = test_data_sets(case_directory);
        std::string skip = skip_reason(case_name, result.family, result.ops, any_string_tensor(sets));
        if (!skip.empty()) {
            result.status = CaseStatus::skipped;
            result.reason = skip;
            return result;
        }
        if (!non_tensor.empty()) throw UnsupportedError(non_tensor + "; ConvScope's engine runs tensors only");
        if (sets.empty()) throw Error("the case has no test_data_set_* folder");
        Engine engine = Engine::build(model);
        for (const fs::path& set : sets) {
            std::string difference = run_data_set(engine, model, set, tolerance);
            if (difference.rfind("refused: ", 0) == 0) {
                result.status = CaseStatus::refused;
                result.reason = one_line(difference.substr(9));
                return result;
            }
            if (!difference.empty()) {
                result.status = CaseStatus::wrong;
                result.reason = one_line((sets.size() > 1 ? set.filename().string() + ": " : "") + difference);
                return result;
            }
        }
        result.status = CaseStatus::passed;
    } catch (const std::exception& error) {
        result.status = CaseStatus::refused;
        result.reason = one_line(error.what());
        if (result.family.empty()) result.family = "(unreadable)";
    }
    return result;
}

}  // namespace convscope::conformance
