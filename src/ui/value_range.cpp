#include "ui/value_range.h"

#include <cmath>

namespace convscope::ui {

void ValueRange::include(float value) {
    if (!std::isfinite(value)) return;
    if (empty) {
        low = high = value;
        empty = false;
    } else if (value < low) {
        low = value;
    } else if (value > high) {
        high = value;
    }
}

void ValueRange::include(const float* values, size_t count) {
    for (size_t i = 0; i < count; ++i) include(values[i]);
}

void ValueRange::include(const ValueRange& other) {
    if (other.empty) return;
    include(other.low);
    include(other.high);
}

ValueRange value_range(const float* values, size_t count) {
    ValueRange range;
    range.include(values, count);
    return range;
}

}  // namespace convscope::ui
