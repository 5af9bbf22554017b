// The finite range of float maps: ImGui-free, so the app logic (the
// explanations' results) and the renderer's colour scaling share it.
#pragma once

#include <cstddef>

namespace convscope::ui {

// The finite value range of one or more maps, for per-map scaling (one
// range per map) or shared scaling (include() every map drawn together,
// then use the same low/high for all). NaN and infinities are skipped.
struct ValueRange {
    float low = 0.0f;
    float high = 0.0f;
    bool empty = true;  // no finite value seen yet

    void include(float value);
    void include(const float* values, size_t count);
    void include(const ValueRange& other);
};

ValueRange value_range(const float* values, size_t count);

}  // namespace convscope::ui
