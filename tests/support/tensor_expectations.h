// Checks a model's weights against the expectations that
// scripts/make_pytorch_fixtures.py writes from torch itself: per key the
// dtype, shape, float64 sum / sum of squares and first values (expected.json),
// and for some keys the exact .npy that torch's tensor.numpy() gives.
#pragma once

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/formats/npy.h"
#include "core/model/model.h"

namespace convscope::testing {

inline std::string pytorch_fixture(const std::string& name) {
    return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/pytorch/" + name;
}

inline const nlohmann::json& pytorch_expectations() {
    static const nlohmann::json expected = [] {
        std::ifstream in(pytorch_fixture("expected.json"));
        REQUIRE(in.good());
        return nlohmann::json::parse(in);
    }();
    return expected;
}

inline const Weight* find_weight(const Model& model, const std::string& key) {
    for (const Layer& layer : model.layers) {
        for (const Weight& weight : layer.weights) {
            if (weight.name == key) return &weight;
        }
    }
    return nullptr;
}

inline size_t weight_count(const Model& model) {
    size_t count = 0;
    for (const Layer& layer : model.layers) count += layer.weights.size();
    return count;
}

// Every tensor expected.json lists for `file` is in `model` with the values torch gave.
inline void check_tensors_match_torch(const Model& model, const std::string& file) {
    const nlohmann::json& tensors = pytorch_expectations().at(file);
    for (auto it = tensors.begin(); it != tensors.end(); ++it) {
        INFO(file << ": " << it.key());
        const Weight* weight = find_weight(model, it.key());
        REQUIRE(weight);
        const Tensor& tensor = weight->tensor;
        std::string expected_dtype = it.value().at("dtype");
        CHECK(dtype_name(tensor.dtype()) == expected_dtype);
        CHECK(tensor.shape() == it.value().at("shape").get<Shape>());
        double sum = 0, sum_squares = 0;
        for (uint64_t i = 0; i < tensor.element_count(); ++i) {
            double value = tensor.value_at(i);
            sum += value;
            sum_squares += value * value;
        }
        double expected_sum = it.value().at("sum");
        double expected_squares = it.value().at("sum_squares");
        CHECK(std::abs(sum - expected_sum) <= 1e-9 * (1.0 + std::abs(expected_squares)));
        CHECK(std::abs(sum_squares - expected_squares) <= 1e-9 * (1.0 + expected_squares));
        const auto& first = it.value().at("first");
        for (size_t i = 0; i < first.size(); ++i) CHECK(tensor.value_at(i) == first[i].get<double>());
    }
}

// Each expected/<file>/<key>.npy equals the model's tensor byte for byte.
inline size_t check_npy_match_torch(const Model& model, const std::string& file) {
    namespace fs = std::filesystem;
    fs::path folder = pytorch_fixture("expected/" + file);
    size_t compared = 0;
    if (!fs::exists(folder)) return 0;
    for (const auto& entry : fs::directory_iterator(folder)) {
        std::string key = entry.path().stem().string();
        INFO(file << ": " << key << ".npy");
        Tensor expected = npy::read_file(entry.path().string());
        const Weight* weight = find_weight(model, key);
        REQUIRE(weight);
        CHECK(weight->tensor.dtype() == expected.dtype());
        REQUIRE(weight->tensor.shape() == expected.shape());
        CHECK(std::memcmp(weight->tensor.raw(), expected.raw(), expected.byte_size()) == 0);
        ++compared;
    }
    return compared;
}

}  // namespace convscope::testing
