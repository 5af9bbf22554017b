// ONNX shape inference: the output shape of every node whose inputs' shapes
// are known, for the common CNN operators (what onnx.shape_inference would
// say), run by the ONNX reader after mapping the graph into the Model. It
// works on the file's attributes because it runs at read time, before any
// plan is compiled (the engine's typed LayerParams do not exist yet), and
// stays rank-generic (3-D convolution shapes are shown though not run).
//
// [SECTION] bounds      dimensions bounded so no arithmetic overflows
// [SECTION] inference   per-op rules, one function per family of ops
// [SECTION] driver      infer_onnx_shapes
#include "core/formats/onnx_shapes.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>

#include "core/base/error.h"
#include "core/base/limits.h"

namespace convscope {

namespace {

// [SECTION] bounds

// Dimensions and integer attributes the inference works with are bounded so
// that no sum or product of a few of them overflows int64; anything larger
// (only a hostile or broken file has it) leaves the shape unknown.
constexpr int64_t max_inferred_dim = int64_t{1} << 30;

bool within_bounds(int64_t value) { return value >= -max_inferred_dim && value <= max_inferred_dim; }

bool shape_within_bounds(const Shape& shape) {
    return shape.size() <= static_cast<size_t>(limits::max_rank) &&
           std::all_of(shape.begin(), shape.end(), within_bounds);
}

bool attributes_within_bounds(const Layer& layer) {
    for (const auto& [key, value] : layer.attributes) {
        if (auto i = std::get_if<int64_t>(&value); i && !within_bounds(*i)) return false;
        if (auto list = std::get_if<std::vector<int64_t>>(&value)) {
            if (!std::all_of(list->begin(), list->end(), within_bounds)) return false;
        }
    }
    return true;
}

class ShapeInference {
public:
    std::unordered_map<std::string, Shape> shapes;
    std::unordered_map<std::string, Tensor> constants;

    const Shape* shape(const std::vector<std::string>& inputs, size_t index) const {
        if (index >= inputs.size() || inputs[index].empty()) return nullptr;
        auto found = shapes.find(inputs[index]);
        return found == shapes.end() || !shape_within_bounds(found->second) ? nullptr : &found->second;
    }

    // Integer values of a constant input (initializer or Constant output).
    std::optional<std::vector<int64_t>> ints(const std::vector<std::string>& inputs, size_t index) const {
        if (index >= inputs.size() || inputs[index].empty()) return std::nullopt;
        auto found = constants.find(inputs[index]);
        if (found == constants.end() || found->second.rank() > 1) return std::nullopt;
        std::vector<int64_t> values;
        for (uint64_t i = 0; i < found->second.element_count(); ++i) {
            double value = found->second.value_at(i);
            if (!(value >= -static_cast<double>(max_inferred_dim) && value <= static_cast<double>(max_inferred_dim))) {
                return std::nullopt;
            }
            values.push_back(static_cast<int64_t>(value));
        }
        return values;
    }

    std::optional<std::vector<double>> floats(const std::vector<std::string>& inputs, size_t index) const {
        if (index >= inputs.size() || inputs[index].empty()) return std::nullopt;
        auto found = constants.find(inputs[index]);
        if (found == constants.end() || found->second.rank() > 1) return std::nullopt;
        std::vector<double> values;
        for (uint64_t i = 0; i < found->second.element_count(); ++i) {
            double value = found->second.value_at(i);
            if (!std::isfinite(value)) return std::nullopt;
            values.push_back(value);
        }
        return values;
    }

    std::optional<Shape> infer(const Layer& layer) const {
        if (!attributes_within_bounds(layer)) return std::nullopt;
        std::optional<Shape> shape = infer_unchecked(layer);
        if (shape && !shape_within_bounds(*shape)) return std::nullopt;
        return shape;
    }

private:
    std::optional<Shape> infer_unchecked(const Layer& layer) const;
    std::optional<Shape> infer_elementwise(const Layer& layer, bool& handled) const;
    std::optional<Shape> infer_windows_and_dense(const Layer& layer, bool& handled) const;
    std::optional<Shape> infer_layout(const Layer& layer, bool& handled) const;
    std::optional<Shape> infer_resize_and_reduce(const Layer& layer, bool& handled) const;
};

int64_t product(const Shape& shape, size_t begin, size_t end) {
    int64_t result = 1;
    for (size_t i = begin; i < end; ++i) {
        if (shape[i] < 0) return -1;
        result *= shape[i];
        if (result > max_inferred_dim) return -1;  // bounded dims keep this from overflowing first
    }
    return result;
}

std::optional<Shape> broadcast(const Shape& a, const Shape& b) {
    size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
        int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (x == y) out[i] = x;
        else if (x == 1) out[i] = y;
        else if (y == 1) out[i] = x;
        else if (x < 0) out[i] = y;
        else if (y < 0) out[i] = x;
        else return std::nullopt;  // incompatible: leave unknown
    }
    return out;
}

bool normalize_axis(int64_t& axis, size_t rank) {
    if (axis < 0) axis += static_cast<int64_t>(rank);
    return axis >= 0 && axis < static_cast<int64_t>(rank);
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// Spatial output sizes for Conv and pooling (NC + spatial dims).
std::optional<Shape> sliding_window(const Layer& layer, const Shape& x, const std::vector<int64_t>& kernel,
                                    int64_t channels, bool ceil_mode) {
    if (x.size() < 3 || kernel.size() != x.size() - 2) return std::nullopt;
    size_t spatial = kernel.size();
    std::vector<int64_t> strides = layer.attribute_ints("strides", std::vector<int64_t>(spatial, 1));
    std::vector<int64_t> dilations = layer.attribute_ints("dilations", std::vector<int64_t>(spatial, 1));
    std::vector<int64_t> pads = layer.attribute_ints("pads", std::vector<int64_t>(2 * spatial, 0));
    std::string auto_pad = layer.attribute_string("auto_pad", "NOTSET");
    if (strides.size() != spatial || dilations.size() != spatial || pads.size() != 2 * spatial) return std::nullopt;
    Shape out = {x[0], channels};
    for (size_t i = 0; i < spatial; ++i) {
        int64_t in = x[2 + i];
        if (strides[i] <= 0 || dilations[i] <= 0 || kernel[i] <= 0) return std::nullopt;
        if (in < 0) {
            out.push_back(-1);
            continue;
        }
        int64_t effective_kernel = (kernel[i] - 1) * dilations[i] + 1;
        int64_t size;
        if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
            size = ceil_div(in, strides[i]);
        } else if (auto_pad == "VALID") {
            if (in < effective_kernel) return std::nullopt;
            size = (in - effective_kernel) / strides[i] + 1;
        } else {
            int64_t span = in + pads[i] + pads[i + spatial] - effective_kernel;
            if (span < 0) return std::nullopt;
            size = (ceil_mode ? ceil_div(span, strides[i]) : floor_div(span, strides[i])) + 1;
            // With ceil_mode the last window must start inside the input or
            // its leading padding (PyTorch and onnxruntime agree on this).
            if (ceil_mode && (size - 1) * strides[i] >= in + pads[i]) --size;
        }
        out.push_back(size);
    }
    return out;
}

// [SECTION] inference

// same-shape and broadcasting ops; `handled` is false when `layer` is none of them.
std::optional<Shape> ShapeInference::infer_elementwise(const Layer& layer, bool& handled) const {
    handled = true;
    const std::string& op = layer.type;
    const std::vector<std::string>& in = layer.inputs;
    const Shape* x = shape(in, 0);
    static const std::set<std::string> same_shape_ops = {
        "Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Elu", "Selu", "Celu", "Softplus", "Softsign",
        "HardSigmoid", "HardSwish", "Mish", "Gelu", "Clip", "Dropout", "Identity", "Exp", "Log", "Sqrt", "Abs",
        "Neg", "Erf", "Cast", "CastLike", "BatchNormalization", "InstanceNormalization", "LayerNormalization",
        "Softmax", "LogSoftmax", "Hardmax", "LRN", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin",
        "Cos", "Not", "IsNaN", "IsInf", "ThresholdedRelu", "Shrink", "MeanVarianceNormalization"};
    static const std::set<std::string> broadcast_ops = {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater",
        "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Where", "BitShift", "Mod"};

    if (same_shape_ops.count(op)) {
        if (!x) return std::nullopt;
        return *x;
    }
    if (broadcast_ops.count(op)) {
        if (!x) return std::nullopt;
        Shape result = *x;
        for (size_t i = 1; i < in.size(); ++i) {
            const Shape* other = shape(in, i);
            if (!other) return std::nullopt;
            std::optional<Shape> merged = broadcast(result, *other);
            if (!merged) return std::nullopt;
            result = *merged;
        }
        return result;
    }
    handled = false;
    return std::nullopt;
}

// Conv, ConvTranspose, pooling, Gemm, MatMul; `handled` is false when `layer` is none of them.
std::optional<Shape> ShapeInference::infer_windows_and_dense(const Layer& layer, bool& handled) const {
    handled = true;
    const std::string& op = layer.type;
    const std::vector<std::string>& in = layer.inputs;
    const Shape* x = shape(in, 0);
    if (op == "Conv") {
        const Shape* w = shape(in, 1);
        if (!x || !w || w->size() < 3) return std::nullopt;
        std::vector<int64_t> kernel =
            layer.attribute_ints("kernel_shape", std::vector<int64_t>(w->begin() + 2, w->end()));
        return sliding_window(layer, *x, kernel, (*w)[0], false);
    }
    if (op == "ConvTranspose") {
        const Shape* w = shape(in, 1);
        if (!x || !w || w->size() < 3 || x->size() != w->size()) return std::nullopt;
        size_t spatial = x->size() - 2;
        int64_t group = layer.attribute_int("group", 1);
        Shape out = {(*x)[0], (*w)[1] < 0 ? -1 : (*w)[1] * group};
        std::vector<int64_t> output_shape = layer.attribute_ints("output_shape", {});
        if (output_shape.size() == spatial) {
            out.insert(out.end(), output_shape.begin(), output_shape.end());
            return out;
        }
        std::vector<int64_t> kernel = layer.attribute_ints("kernel_shape", std::vector<int64_t>(w->begin() + 2, w->end()));
        std::vector<int64_t> strides = layer.attribute_ints("strides", std::vector<int64_t>(spatial, 1));
        std::vector<int64_t> dilations = layer.attribute_ints("dilations", std::vector<int64_t>(spatial, 1));
        std::vector<int64_t> pads = layer.attribute_ints("pads", std::vector<int64_t>(2 * spatial, 0));
        std::vector<int64_t> output_padding = layer.attribute_ints("output_padding", std::vector<int64_t>(spatial, 0));
        std::string auto_pad = layer.attribute_string("auto_pad", "NOTSET");
        if (kernel.size() != spatial || strides.size() != spatial || dilations.size() != spatial ||
            pads.size() != 2 * spatial || output_padding.size() != spatial) {
            return std::nullopt;
        }
        for (size_t i = 0; i < spatial; ++i) {
            int64_t size = (*x)[2 + i];
            if (size < 0) {
                out.push_back(-1);
            } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
                out.push_back(size * strides[i]);
            } else {
                out.push_back(strides[i] * (size - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1 -
                              pads[i] - pads[i + spatial]);
            }
        }
        return out;
    }
    if (op == "MaxPool" || op == "AveragePool" || op == "LpPool") {
        if (!x) return std::nullopt;
        std::vector<int64_t> kernel = layer.attribute_ints("kernel_shape", {});
        if (x->size() < 2) return std::nullopt;
        return sliding_window(layer, *x, kernel, (*x)[1], layer.attribute_int("ceil_mode", 0) != 0);
    }
    if (op == "GlobalAveragePool" || op == "GlobalMaxPool" || op == "GlobalLpPool") {
        if (!x || x->size() < 3) return std::nullopt;
        Shape out = {(*x)[0], (*x)[1]};
        out.resize(x->size(), 1);
        return out;
    }
    if (op == "Gemm") {
        const Shape* b = shape(in, 1);
        if (!x || !b || x->size() != 2 || b->size() != 2) return std::nullopt;
        int64_t m = layer.attribute_int("transA", 0) ? (*x)[1] : (*x)[0];
        int64_t n = layer.attribute_int("transB", 0) ? (*b)[0] : (*b)[1];
        return Shape{m, n};
    }
    if (op == "MatMul") {
        const Shape* b = shape(in, 1);
        if (!x || !b || x->empty() || b->empty()) return std::nullopt;
        Shape a_shape = *x, b_shape = *b;
        bool a_vector = a_shape.size() == 1, b_vector = b_shape.size() == 1;
        if (a_vector) a_shape.insert(a_shape.begin(), 1);
        if (b_vector) b_shape.push_back(1);
        Shape a_batch(a_shape.begin(), a_shape.end() - 2), b_batch(b_shape.begin(), b_shape.end() - 2);
        std::optional<Shape> batch = broadcast(a_batch, b_batch);
        if (!batch) return std::nullopt;
        Shape out = *batch;
        if (!a_vector) out.push_back(a_shape[a_shape.size() - 2]);
        if (!b_vector) out.push_back(b_shape.back());
        return out;
    }
    handled = false;
    return std::nullopt;
}

// Flatten, Reshape, Transpose, Concat, Squeeze/Unsqueeze; `handled` is false when `layer` is none of them.
std::optional<Shape> ShapeInference::infer_layout(const Layer& layer, bool& handled) const {
    handled = true;
    const std::string& op = layer.type;
    const std::vector<std::string>& in = layer.inputs;
    const Shape* x = shape(in, 0);
    if (op == "Flatten") {
        if (!x) return std::nullopt;
        int64_t axis = layer.attribute_int("axis", 1);
        if (axis < 0) axis += static_cast<int64_t>(x->size());
        if (axis < 0 || axis > static_cast<int64_t>(x->size())) return std::nullopt;
        return Shape{product(*x, 0, static_cast<size_t>(axis)), product(*x, static_cast<size_t>(axis), x->size())};
    }
    if (op == "Reshape") {
        std::optional<std::vector<int64_t>> target = ints(in, 1);
        if (!target) {
            std::vector<int64_t> from_attribute = layer.attribute_ints("shape", {});  // opset 1-4
            if (from_attribute.empty()) return std::nullopt;
            target = from_attribute;
        }
        if (!x) return std::nullopt;
        bool allow_zero = layer.attribute_int("allowzero", 0) != 0;
        // A 0 copies the input dimension at the same position; such a copy
        // cancels out of the -1 computation even when it is unknown (batch).
        std::vector<bool> copied(x->size(), false);
        Shape out;
        int infer_at = -1;
        int64_t known_product = 1;
        bool unknown = false;
        for (size_t i = 0; i < target->size(); ++i) {
            int64_t dim = (*target)[i];
            if (dim == 0 && !allow_zero) {
                if (i >= x->size()) return std::nullopt;
                copied[i] = true;
                out.push_back((*x)[i]);
                continue;
            }
            if (dim == -1) {
                if (infer_at >= 0) return std::nullopt;
                infer_at = static_cast<int>(i);
            } else if (dim < 0) {
                return std::nullopt;
            } else {
                known_product *= dim;
                if (known_product > max_inferred_dim) return std::nullopt;
            }
            out.push_back(dim);
        }
        if (infer_at >= 0) {
            int64_t remaining = 1;
            for (size_t i = 0; i < x->size() && !unknown; ++i) {
                if (copied[i]) continue;
                if ((*x)[i] < 0) unknown = true;
                else remaining *= (*x)[i];
                if (remaining > max_inferred_dim) return std::nullopt;
            }
            out[static_cast<size_t>(infer_at)] =
                (unknown || known_product == 0 || remaining % known_product != 0) ? -1 : remaining / known_product;
        }
        return out;
    }
    if (op == "Transpose") {
        if (!x) return std::nullopt;
        std::vector<int64_t> perm = layer.attribute_ints("perm", {});
        if (perm.empty()) for (size_t i = x->size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
        if (perm.size() != x->size()) return std::nullopt;
        Shape out;
        for (int64_t axis : perm) {
            if (axis < 0 || axis >= static_cast<int64_t>(x->size())) return std::nullopt;
            out.push_back((*x)[static_cast<size_t>(axis)]);
        }
        return out;
    }
    if (op == "Concat") {
        if (!x) return std::nullopt;
        int64_t axis = layer.attribute_int("axis", 0);
        if (!normalize_axis(axis, x->size())) return std::nullopt;
        Shape out = *x;
        for (size_t i = 1; i < in.size(); ++i) {
            const Shape* other = shape(in, i);
            if (!other || other->size() != x->size()) return std::nullopt;
            int64_t& total = out[static_cast<size_t>(axis)];
            int64_t part = (*other)[static_cast<size_t>(axis)];
            total = (total < 0 || part < 0) ? -1 : total + part;
        }
        return out;
    }
    if (op == "Unsqueeze" || op == "Squeeze") {
        if (!x) return std::nullopt;
        std::optional<std::vector<int64_t>> axes;
        if (layer.attribute("axes")) axes = layer.attribute_ints("axes", {});  // opset < 13
        else if (in.size() > 1) axes = ints(in, 1);
        if (op == "Unsqueeze") {
            if (!axes) return std::nullopt;
            size_t rank = x->size() + axes->size();
            if (rank > static_cast<size_t>(limits::max_rank)) return std::nullopt;
            std::vector<bool> inserted(rank, false);
            for (int64_t axis : *axes) {
                if (!normalize_axis(axis, rank) || inserted[static_cast<size_t>(axis)]) return std::nullopt;
                inserted[static_cast<size_t>(axis)] = true;
            }
            Shape out;
            size_t next = 0;
            for (size_t i = 0; i < rank; ++i) out.push_back(inserted[i] ? 1 : (*x)[next++]);
            return out;
        }
        std::vector<bool> removed(x->size(), false);
        if (axes && !axes->empty()) {
            for (int64_t axis : *axes) {
                if (!normalize_axis(axis, x->size())) return std::nullopt;
                if ((*x)[static_cast<size_t>(axis)] > 1) return std::nullopt;  // only size-1 dims squeeze
                removed[static_cast<size_t>(axis)] = true;
            }
        } else if (in.size() > 1 && !axes) {
            return std::nullopt;  // axes given by a non-constant input
        } else {
            for (size_t i = 0; i < x->size(); ++i) {
                if ((*x)[i] < 0) return std::nullopt;
                removed[i] = (*x)[i] == 1;
            }
        }
        Shape out;
        for (size_t i = 0; i < x->size(); ++i) if (!removed[i]) out.push_back((*x)[i]);
        return out;
    }
    handled = false;
    return std::nullopt;
}

// Pad, Resize/Upsample, Shape, Reduce*; `handled` is false when `layer` is none of them.
std::optional<Shape> ShapeInference::infer_resize_and_reduce(const Layer& layer, bool& handled) const {
    handled = true;
    const std::string& op = layer.type;
    const std::vector<std::string>& in = layer.inputs;
    const Shape* x = shape(in, 0);
    if (op == "Pad") {
        if (!x) return std::nullopt;
        std::optional<std::vector<int64_t>> pads;
        if (layer.attribute("pads")) pads = layer.attribute_ints("pads", {});  // opset < 11
        else pads = ints(in, 1);
        if (!pads || pads->size() != 2 * x->size() || in.size() > 3) return std::nullopt;
        Shape out = *x;
        for (size_t i = 0; i < x->size(); ++i) {
            if (out[i] >= 0) out[i] += (*pads)[i] + (*pads)[i + x->size()];
        }
        return out;
    }
    if (op == "Resize" || op == "Upsample") {
        if (!x) return std::nullopt;
        // Resize-11+: X, roi, scales, sizes. Resize-10 and Upsample-9: X, scales. Upsample-7: attribute.
        std::optional<std::vector<int64_t>> sizes = op == "Resize" ? ints(in, 3) : std::nullopt;
        if (sizes && sizes->size() == x->size()) return Shape(sizes->begin(), sizes->end());
        std::optional<std::vector<double>> scales;
        if (layer.attribute("scales")) {
            const AttributeValue* value = layer.attribute("scales");
            if (auto list = std::get_if<std::vector<double>>(value)) scales = *list;
        } else if (op == "Resize" && in.size() >= 3) {
            scales = floats(in, 2);
        } else {
            scales = floats(in, 1);
        }
        if (!scales || scales->size() != x->size()) return std::nullopt;
        Shape out;
        for (size_t i = 0; i < x->size(); ++i) {
            double scaled = static_cast<double>((*x)[i]) * (*scales)[i];
            if ((*x)[i] >= 0 && !(scaled >= 0 && scaled <= static_cast<double>(max_inferred_dim))) return std::nullopt;
            out.push_back((*x)[i] < 0 ? -1 : static_cast<int64_t>(scaled));
        }
        return out;
    }
    if (op == "Shape") {
        if (!x) return std::nullopt;
        return Shape{static_cast<int64_t>(x->size())};
    }
    if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceProd" ||
        op == "ReduceL2" || op == "ReduceL1" || op == "ReduceLogSumExp" || op == "ReduceSumSquare") {
        if (!x) return std::nullopt;
        std::optional<std::vector<int64_t>> axes;
        if (layer.attribute("axes")) axes = layer.attribute_ints("axes", {});
        else if (in.size() > 1) axes = ints(in, 1);
        else axes = std::vector<int64_t>{};
        if (!axes) return std::nullopt;
        bool keep = layer.attribute_int("keepdims", 1) != 0;
        std::vector<bool> reduced(x->size(), axes->empty());
        for (int64_t axis : *axes) {
            if (!normalize_axis(axis, x->size())) return std::nullopt;
            reduced[static_cast<size_t>(axis)] = true;
        }
        Shape out;
        for (size_t i = 0; i < x->size(); ++i) {
            if (!reduced[i]) out.push_back((*x)[i]);
            else if (keep) out.push_back(1);
        }
        return out;
    }
    handled = false;
    return std::nullopt;
}

std::optional<Shape> ShapeInference::infer_unchecked(const Layer& layer) const {
    for (auto part : {&ShapeInference::infer_elementwise, &ShapeInference::infer_windows_and_dense,
                      &ShapeInference::infer_layout, &ShapeInference::infer_resize_and_reduce}) {
        bool handled = false;
        std::optional<Shape> shape = (this->*part)(layer, handled);
        if (handled) return shape;
    }
    return std::nullopt;
}

// The tensor a Constant node produces, from whichever value_* attribute it has.
std::optional<Tensor> constant_value(const Layer& layer) {
    if (const AttributeValue* value = layer.attribute("value")) {
        if (auto tensor = std::get_if<Tensor>(value)) return *tensor;
    }
    if (const AttributeValue* value = layer.attribute("value_int")) {
        if (auto i = std::get_if<int64_t>(value)) {
            Tensor t = Tensor::zeros(DType::i64, {});
            std::memcpy(t.mutable_raw(), i, sizeof *i);
            return t;
        }
    }
    if (const AttributeValue* value = layer.attribute("value_ints")) {
        if (auto list = std::get_if<std::vector<int64_t>>(value)) {
            Tensor t = Tensor::zeros(DType::i64, {static_cast<int64_t>(list->size())});
            if (!list->empty()) std::memcpy(t.mutable_raw(), list->data(), list->size() * sizeof(int64_t));
            return t;
        }
    }
    if (const AttributeValue* value = layer.attribute("value_float")) {
        if (auto d = std::get_if<double>(value)) return Tensor::from_floats({}, {static_cast<float>(*d)});
    }
    if (const AttributeValue* value = layer.attribute("value_floats")) {
        if (auto list = std::get_if<std::vector<double>>(value)) {
            return Tensor::from_floats({static_cast<int64_t>(list->size())}, std::vector<float>(list->begin(), list->end()));
        }
    }
    return std::nullopt;
}

// Split's output shapes, one per output: sizes from the `split` attribute
// (before opset 13) or a constant input 1 (from 13), else equal parts.
std::vector<Shape> split_shapes(const ShapeInference& inference, const Layer& layer) {
    const Shape* x = inference.shape(layer.inputs, 0);
    if (!x || layer.outputs.empty() || !attributes_within_bounds(layer)) return {};
    int64_t axis = layer.attribute_int("axis", 0);
    if (!normalize_axis(axis, x->size())) return {};
    const int64_t length = (*x)[static_cast<size_t>(axis)];
    std::vector<int64_t> sizes = layer.attribute_ints("split", {});
    if (sizes.empty() && layer.inputs.size() > 1) {
        std::optional<std::vector<int64_t>> from_input = inference.ints(layer.inputs, 1);
        if (!from_input) return {};
        sizes = *from_input;
    }
    const int64_t parts = static_cast<int64_t>(layer.outputs.size());
    if (sizes.empty()) {
        if (length < 0) return {};
        const int64_t part = (length + parts - 1) / parts;
        for (int64_t i = 0, left = length; i < parts; ++i, left -= part) sizes.push_back(std::max<int64_t>(0, std::min(part, left)));
    }
    if (static_cast<int64_t>(sizes.size()) != parts) return {};
    std::vector<Shape> shapes;
    for (int64_t size : sizes) {
        if (!within_bounds(size) || size < 0) return {};
        Shape out = *x;
        out[static_cast<size_t>(axis)] = size;
        shapes.push_back(out);
    }
    return shapes;
}

}  // namespace

// [SECTION] driver

void infer_onnx_shapes(Model& model, const OnnxShapeSeeds& seeds) {
    ShapeInference inference;
    const std::unordered_map<std::string, Shape>& declared = seeds.declared;
    for (const auto& [name, shape] : seeds.inputs) inference.shapes[name] = shape;
    for (const auto& [name, tensor] : seeds.initializers) {
        inference.shapes[name] = tensor.shape();
        inference.constants[name] = tensor;
    }
    for (Layer& layer : model.layers) {
        std::optional<Shape> shape;
        if (layer.type == "Constant" && layer.unsupported_reason.empty()) {
            if (std::optional<Tensor> value = constant_value(layer)) {
                if (!layer.outputs.empty()) inference.constants[layer.outputs[0]] = *value;
                shape = value->shape();
            }
        } else if (layer.type == "Split" && layer.unsupported_reason.empty()) {
            std::vector<Shape> parts = split_shapes(inference, layer);
            for (size_t i = 1; i < parts.size(); ++i) inference.shapes[layer.outputs[i]] = parts[i];
            if (!parts.empty()) shape = parts[0];
        } else if (layer.unsupported_reason.empty()) {
            shape = inference.infer(layer);
        }
        if (!shape && !layer.outputs.empty()) {
            auto found = declared.find(layer.outputs[0]);
            if (found != declared.end()) shape = found->second;
        }
        if (shape && !layer.outputs.empty()) {
            layer.output_shape = *shape;
            inference.shapes[layer.outputs[0]] = *shape;
        }
        // Secondary outputs (MaxPool indices, Dropout mask) are only known
        // when declared (Split's are inferred above).
        for (size_t i = 1; i < layer.outputs.size(); ++i) {
            if (inference.shapes.count(layer.outputs[i])) continue;
            auto found = declared.find(layer.outputs[i]);
            if (found != declared.end()) inference.shapes[layer.outputs[i]] = found->second;
        }
    }
}

}  // namespace convscope
