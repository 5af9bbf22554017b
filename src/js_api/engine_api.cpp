// The engine's C API for JavaScript (see engine_api.h). Plain extern "C"
// functions with no Emscripten dependency, so the same file also builds
// natively; the module's exported names are listed in
// cmake/engine_module.cmake.
#include "js_api/engine_api.h"

#if defined(__EMSCRIPTEN__) || defined(__GLIBC__)
#include <malloc.h>
#define CONVSCOPE_HAS_MALLINFO 1
#endif

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/base/thread_pool.h"
#include "core/engine/engine.h"
#include "core/formats/registry.h"

namespace convscope {
namespace {

struct ResultTensor {
    std::string kind;  // "output" or "activation"
    std::string name;
    Tensor tensor;     // float32
};

struct LoadedModel {
    Model model;
    std::optional<Engine> engine;
    std::string engine_error;  // why the engine cannot run it, when engine is empty
    std::vector<ResultTensor> results;
};

struct ApiState {
    std::string last_error;
    std::string returned_text;  // backing store for returned strings
    std::shared_ptr<std::vector<uint8_t>> pending_file;
    std::map<int, std::unique_ptr<LoadedModel>> models;
    int next_handle = 1;
};

ApiState& state() {
    static ApiState instance;
    return instance;
}

const char* return_text(std::string text) {
    state().returned_text = std::move(text);
    return state().returned_text.c_str();
}

// -1 (unknown) becomes JSON null so JS sees "unknown" rather than a size.
nlohmann::json shape_json(const Shape& shape) {
    nlohmann::json dims = nlohmann::json::array();
    for (int64_t d : shape) dims.push_back(d < 0 ? nlohmann::json(nullptr) : nlohmann::json(d));
    return dims;
}

LoadedModel& find_model(int handle) {
    auto found = state().models.find(handle);
    if (found == state().models.end()) throw Error(concat("no model with handle ", handle, " (freed or never loaded)"));
    return *found->second;
}

// Runs `body`, turning any exception into cs_last_error() and `failed`.
template <typename Result, typename Body>
Result guarded(Result failed, Body body) {
    state().last_error.clear();
    try {
        return body();
    } catch (const std::exception& error) {
        state().last_error = error.what();
    } catch (...) {
        state().last_error = "unknown error";
    }
    return failed;
}

nlohmann::json model_info(const LoadedModel& loaded) {
    const Model& model = loaded.model;
    nlohmann::json info;
    info["name"] = model.name;
    info["format"] = model.format_name();
    info["producer"] = model.producer;
    info["layout"] = model.layout == DataLayout::channels_first ? "NCHW" : "NHWC";
    info["runnable"] = loaded.engine.has_value();
    info["runError"] = loaded.engine_error;
    Shape input_shape;
    if (loaded.engine) {
        input_shape = loaded.engine->input_shape();
    } else if (!model.inputs.empty()) {
        input_shape = model.inputs[0].shape;
        if (!input_shape.empty() && input_shape[0] < 0) input_shape[0] = 1;
    }
    info["inputShape"] = shape_json(input_shape);
    auto values_json = [](const std::vector<ValueInfo>& values) {
        nlohmann::json list = nlohmann::json::array();
        for (const ValueInfo& v : values) list.push_back({{"name", v.name}, {"shape", shape_json(v.shape)}, {"dtype", dtype_name(v.dtype)}});
        return list;
    };
    info["inputs"] = values_json(loaded.engine ? loaded.engine->inputs() : model.inputs);
    info["outputs"] = values_json(model.outputs);
    nlohmann::json layers = nlohmann::json::array();
    for (const Layer& layer : model.layers) {
        layers.push_back({{"name", layer.name},
                          {"type", layer.type},
                          {"outputShape", shape_json(layer.output_shape)},
                          {"params", layer.parameter_count()},
                          {"inputs", layer.inputs},
                          {"outputs", layer.outputs},
                          {"unsupported", layer.unsupported_reason}});
    }
    info["layers"] = std::move(layers);
    info["plan"] = loaded.engine ? loaded.engine->describe() : std::vector<std::string>{};
    info["warnings"] = model.warnings;
    return info;
}

// Results outlive the run's input buffer, which JS frees right after the
// call; an output that is still a view (Identity, Reshape of the input, a
// constant) is copied so nothing points into freed memory.
Tensor owned_float32(const Tensor& tensor) {
    Tensor f32 = tensor.to_float32();
    if (f32.owns_data()) return f32;
    std::vector<float> values(f32.f32(), f32.f32() + f32.element_count());
    return Tensor::from_floats(f32.shape(), std::move(values));
}

RunOptions parse_run_options(const char* options_json) {
    RunOptions options;
    if (options_json == nullptr || options_json[0] == '\0') return options;
    nlohmann::json parsed = nlohmann::json::parse(options_json, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        throw Error(concat("run options: expected a JSON object, got '", options_json, "'"));
    }
    if (parsed.contains("capture")) {
        const nlohmann::json& capture = parsed["capture"];
        if (!capture.is_array()) throw Error("run options: 'capture' must be an array of layer names");
        for (size_t i = 0; i < capture.size(); ++i) {
            if (!capture[i].is_string()) throw Error(concat("run options: capture[", i, "] is ", capture[i].dump(), ", expected a layer name"));
            options.capture.push_back(capture[i].get<std::string>());
        }
    }
    if (parsed.contains("captureAll")) {
        if (!parsed["captureAll"].is_boolean()) throw Error("run options: 'captureAll' must be true or false");
        options.capture_all = parsed["captureAll"].get<bool>();
    }
    if (parsed.contains("stopAfter")) {
        if (!parsed["stopAfter"].is_string()) throw Error("run options: 'stopAfter' must be a layer name");
        options.stop_after = parsed["stopAfter"].get<std::string>();
    }
    return options;
}

}  // namespace
}  // namespace convscope

using namespace convscope;

extern "C" {

const char* cs_last_error() { return state().last_error.c_str(); }

uint8_t* cs_file_buffer(uint32_t size) {
    return guarded<uint8_t*>(nullptr, [&]() -> uint8_t* {
        if (size == 0) throw Error("the file is empty (0 bytes)");
        if (size > limits::max_file_bytes) {
            throw_limit_error("the file has ", size, " bytes; the limit is ", limits::max_file_bytes);
        }
        state().pending_file.reset();  // free the previous one before allocating
        state().pending_file = std::make_shared<std::vector<uint8_t>>(size);
        return state().pending_file->data();
    });
}

int cs_model_load(const char* file_name) {
    return guarded<int>(0, [&]() {
        if (!state().pending_file) throw Error("no file buffer: call cs_file_buffer(size) and fill it first");
        WritableFileBytes bytes = std::move(state().pending_file);
        state().pending_file.reset();
        auto loaded = std::make_unique<LoadedModel>();
        // The buffer is the engine's own copy: a reader may rewrite it so
        // that weights are views into it rather than copies.
        loaded->model = open_model_in_place(bytes, file_name ? file_name : "");
        try {
            loaded->engine.emplace(Engine::build(loaded->model));
        } catch (const Error& error) {
            loaded->engine_error = error.what();
        }
        int handle = state().next_handle++;
        state().models[handle] = std::move(loaded);
        return handle;
    });
}

const char* cs_model_info_json(int model) {
    return guarded<const char*>(nullptr, [&]() { return return_text(model_info(find_model(model)).dump()); });
}

int cs_model_run(int model, const float* input, const int32_t* shape, int rank, const char* options_json) {
    return guarded<int>(-1, [&]() {
        LoadedModel& loaded = find_model(model);
        loaded.results.clear();
        if (!loaded.engine) throw UnsupportedError(loaded.engine_error);
        if (rank < 0 || rank > limits::max_rank) throw Error(concat("input rank ", rank, ": expected 0..", limits::max_rank));
        if (input == nullptr) throw Error("no input data");
        Shape input_shape(shape, shape + rank);
        RunOptions options = parse_run_options(options_json);
        // A view of the caller's memory: no copy of the input.
        Tensor tensor = Tensor::view(DType::f32, input_shape, reinterpret_cast<const uint8_t*>(input), nullptr);
        RunResult result = loaded.engine->run(tensor, options);
        for (const std::string& name : loaded.engine->output_names()) {
            auto found = result.outputs.find(name);
            if (found != result.outputs.end()) loaded.results.push_back({"output", name, owned_float32(found->second)});
        }
        for (auto& [name, activation] : result.activations) {
            loaded.results.push_back({"activation", name, owned_float32(activation)});
        }
        return static_cast<int>(loaded.results.size());
    });
}

const char* cs_result_info_json(int model) {
    return guarded<const char*>(nullptr, [&]() {
        nlohmann::json list = nlohmann::json::array();
        for (const ResultTensor& r : find_model(model).results) {
            list.push_back({{"kind", r.kind}, {"name", r.name}, {"shape", shape_json(r.tensor.shape())},
                            {"size", r.tensor.element_count()}});
        }
        return return_text(list.dump());
    });
}

const float* cs_result_data(int model, int index) {
    return guarded<const float*>(nullptr, [&]() {
        LoadedModel& loaded = find_model(model);
        if (index < 0 || static_cast<size_t>(index) >= loaded.results.size()) {
            throw Error(concat("result index ", index, " out of range: the last run has ", loaded.results.size(), " results"));
        }
        return loaded.results[index].tensor.f32();
    });
}

void cs_result_clear(int model) {
    guarded<int>(0, [&]() {
        find_model(model).results.clear();
        return 0;
    });
}

void cs_model_free(int model) {
    state().last_error.clear();
    state().models.erase(model);
}

uint32_t cs_heap_bytes_in_use() {
#if defined(CONVSCOPE_HAS_MALLINFO)
    return static_cast<uint32_t>(mallinfo().uordblks);
#else
    return 0;
#endif
}

int cs_set_threads(int threads) { return set_thread_count(threads); }

int cs_max_threads() { return max_thread_count(); }

}  // extern "C"
