#include "core/explain/occlusion.h"

#include <algorithm>
#include <cstring>

#include "core/base/error.h"

namespace convscope {

Explanation occlusion(const GradientEngine& gradients, const Tensor& input, int64_t class_index, const OcclusionOptions& options) {
    if (options.window < 1 || options.stride < 1) throw Error(concat("occlusion window and stride must be >= 1, got ", options.window, " and ", options.stride));
    const DataLayout layout = gradients.layout();
    SpatialSize size = spatial_size(input, layout);
    Tensor x = input.to_float32();
    Shape item_shape = x.shape();
    if (item_shape.size() == 3) item_shape.insert(item_shape.begin(), 1);
    x = x.reshaped(item_shape);
    if (class_index < 0) {
        Gradients probe = gradients.gradient_of(x, Target::class_score(-1));
        class_index = probe.class_index;
    }
    const float clean = gradients.scores(x, class_index).at(0);
    const int64_t rows = size.height <= options.window ? 1 : (size.height - options.window + options.stride - 1) / options.stride + 1;
    const int64_t columns = size.width <= options.window ? 1 : (size.width - options.window + options.stride - 1) / options.stride + 1;
    const bool free_batch = !gradients.engine().inputs().empty() && !gradients.engine().inputs()[0].shape.empty() &&
                            gradients.engine().inputs()[0].shape[0] < 0;
    const int64_t chunk = free_batch ? std::max(1, options.batch) : 1;
    const int64_t item = static_cast<int64_t>(x.element_count());
    const int64_t pixels = size.height * size.width;
    std::vector<float> drops(static_cast<size_t>(rows * columns));
    for (int64_t first = 0; first < rows * columns; first += chunk) {
        const int64_t count = std::min(chunk, rows * columns - first);
        Shape batch_shape = item_shape;
        batch_shape[0] = count;
        Tensor batch = Tensor::zeros(DType::f32, batch_shape);
        float* b = batch.mutable_f32();
        for (int64_t k = 0; k < count; ++k) {
            std::memcpy(b + k * item, x.f32(), static_cast<size_t>(item) * sizeof(float));
            const int64_t r = (first + k) / columns, c = (first + k) % columns;
            const int64_t y0 = r * options.stride, x0 = c * options.stride;
            for (int64_t yy = y0; yy < std::min(size.height, y0 + options.window); ++yy)
                for (int64_t xx = x0; xx < std::min(size.width, x0 + options.window); ++xx)
                    for (int64_t ch = 0; ch < size.channels; ++ch) {
                        int64_t p = yy * size.width + xx;
                        b[k * item + (layout == DataLayout::channels_first ? ch * pixels + p : p * size.channels + ch)] = options.fill;
                    }
        }
        std::vector<float> scores = gradients.scores(batch, class_index);
        for (int64_t k = 0; k < count; ++k) drops[static_cast<size_t>(first + k)] = clean - scores.at(static_cast<size_t>(k));
    }
    Tensor map = Tensor::zeros(DType::f32, {size.height, size.width});
    std::vector<int> covered(static_cast<size_t>(pixels), 0);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < columns; ++c) {
            const int64_t y0 = r * options.stride, x0 = c * options.stride;
            for (int64_t yy = y0; yy < std::min(size.height, y0 + options.window); ++yy)
                for (int64_t xx = x0; xx < std::min(size.width, x0 + options.window); ++xx) {
                    map.mutable_f32()[yy * size.width + xx] += drops[static_cast<size_t>(r * columns + c)];
                    ++covered[static_cast<size_t>(yy * size.width + xx)];
                }
        }
    for (int64_t p = 0; p < pixels; ++p) if (covered[static_cast<size_t>(p)]) map.mutable_f32()[p] /= static_cast<float>(covered[static_cast<size_t>(p)]);
    Explanation e;
    e.map = map;
    e.raw = Tensor::from_floats({rows, columns}, drops);
    e.class_index = class_index;
    e.score = clean;
    return e;
}

}  // namespace convscope
