#include "core/explain/occlusion.h"

#include <algorithm>
#include <cstring>

#include "core/base/error.h"

namespace convscope {

OcclusionRun::OcclusionRun(const GradientEngine& gradients, const Tensor& input, int64_t class_index, const OcclusionOptions& options)
    : gradients_(&gradients), options_(options), class_index_(class_index) {
    if (options.window < 1 || options.stride < 1) throw Error(concat("occlusion window and stride must be >= 1, got ", options.window, " and ", options.stride));
    size_ = spatial_size(input, gradients.layout());
    input_ = input.to_float32();
    Shape item_shape = input_.shape();
    if (item_shape.size() == 3) item_shape.insert(item_shape.begin(), 1);
    input_ = input_.reshaped(item_shape);
    if (class_index_ < 0) {
        Gradients probe = gradients.gradient_of(input_, Target::class_score(-1));
        class_index_ = probe.class_index;
    }
    clean_score_ = gradients.scores(input_, class_index_).at(0);
    rows_ = size_.height <= options.window ? 1 : (size_.height - options.window + options.stride - 1) / options.stride + 1;
    columns_ = size_.width <= options.window ? 1 : (size_.width - options.window + options.stride - 1) / options.stride + 1;
    const auto& inputs = gradients.engine().inputs();
    const bool free_batch = !inputs.empty() && !inputs[0].shape.empty() && inputs[0].shape[0] < 0;
    chunk_ = free_batch ? std::max(1, options.batch) : 1;
    drops_.assign(static_cast<size_t>(rows_ * columns_), 0.0f);
}

int OcclusionRun::step(int units) {
    const DataLayout layout = gradients_->layout();
    const int64_t item = static_cast<int64_t>(input_.element_count());
    const int64_t pixels = size_.height * size_.width;
    const int64_t total = rows_ * columns_;
    int batches = 0;
    for (; batches < units && done_windows_ < total; ++batches) {
        const int64_t first = done_windows_;
        const int64_t count = std::min(chunk_, total - first);
        Shape batch_shape = input_.shape();
        batch_shape[0] = count;
        Tensor batch = Tensor::zeros(DType::f32, batch_shape);
        float* b = batch.mutable_f32();
        for (int64_t k = 0; k < count; ++k) {
            std::memcpy(b + k * item, input_.f32(), static_cast<size_t>(item) * sizeof(float));
            const int64_t r = (first + k) / columns_, c = (first + k) % columns_;
            const int64_t y0 = r * options_.stride, x0 = c * options_.stride;
            for (int64_t yy = y0; yy < std::min(size_.height, y0 + options_.window); ++yy)
                for (int64_t xx = x0; xx < std::min(size_.width, x0 + options_.window); ++xx)
                    for (int64_t ch = 0; ch < size_.channels; ++ch) {
                        const int64_t p = yy * size_.width + xx;
                        b[k * item + (layout == DataLayout::channels_first ? ch * pixels + p : p * size_.channels + ch)] = options_.fill;
                    }
        }
        std::vector<float> scores = gradients_->scores(batch, class_index_);
        for (int64_t k = 0; k < count; ++k) drops_[static_cast<size_t>(first + k)] = clean_score_ - scores.at(static_cast<size_t>(k));
        done_windows_ += count;
    }
    return batches;
}

Explanation OcclusionRun::result() const {
    if (!done()) throw Error(concat("occlusion: ", done_windows_, " of ", rows_ * columns_, " windows done, the result is not ready"));
    const int64_t pixels = size_.height * size_.width;
    Tensor map = Tensor::zeros(DType::f32, {size_.height, size_.width});
    float* m = map.mutable_f32();
    std::vector<int> covered(static_cast<size_t>(pixels), 0);
    for (int64_t r = 0; r < rows_; ++r)
        for (int64_t c = 0; c < columns_; ++c) {
            const int64_t y0 = r * options_.stride, x0 = c * options_.stride;
            for (int64_t yy = y0; yy < std::min(size_.height, y0 + options_.window); ++yy)
                for (int64_t xx = x0; xx < std::min(size_.width, x0 + options_.window); ++xx) {
                    m[yy * size_.width + xx] += drops_[static_cast<size_t>(r * columns_ + c)];
                    ++covered[static_cast<size_t>(yy * size_.width + xx)];
                }
        }
    for (int64_t p = 0; p < pixels; ++p) if (covered[static_cast<size_t>(p)]) m[p] /= static_cast<float>(covered[static_cast<size_t>(p)]);
    Explanation e;
    e.map = map;
    e.raw = Tensor::from_floats({rows_, columns_}, drops_);
    e.class_index = class_index_;
    e.score = clean_score_;
    return e;
}

Explanation occlusion(const GradientEngine& gradients, const Tensor& input, int64_t class_index, const OcclusionOptions& options) {
    OcclusionRun run(gradients, input, class_index, options);
    run.step(run.total_units());
    return run.result();
}

}  // namespace convscope
