// ONNX compile functions: shape and layout ops (Flatten, Reshape,
// Transpose, Concat, Split, Squeeze/Unsqueeze, Pad, Resize/Upsample, Shape,
// Gather, Slice, Constant*, Reduce*). Ops whose inputs moved between opsets
// (axes, pads, scales) read them from where the node's opset puts them.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/base/error.h"
#include "core/engine/compile_onnx_internal.h"
#include "core/ops/tensor_ops.h"

namespace convscope::onnx_compile {

namespace {

OnnxStep compile_flatten(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::flatten;
    int64_t axis = n.layer.attribute_int("axis", 1);
    s.function = [axis](const std::vector<const Tensor*>& in) {
        const Tensor& x = input_at(in, 0, "Flatten");
        int a = axis == x.rank() ? x.rank() : normalize_axis(axis, x.rank(), "Flatten");
        int64_t outer = 1;
        for (int i = 0; i < a; ++i) outer *= x.shape()[i];
        return std::vector<Tensor>{x.reshaped({outer, static_cast<int64_t>(x.element_count()) / std::max<int64_t>(outer, 1)})};
    };
    return s;
}

OnnxStep compile_reshape(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::reshape;
    std::vector<int64_t> attribute_shape = n.layer.attribute_ints("shape", {});
    bool allow_zero = n.layer.attribute_int("allowzero", 0) != 0;
    s.function = [attribute_shape, allow_zero](const std::vector<const Tensor*>& in) {
        const Tensor& x = input_at(in, 0, "Reshape");
        std::vector<int64_t> target = has_input(in, 1) ? ints_of(*in[1]) : attribute_shape;
        Shape shape(target.size());
        int64_t known = 1, unknown_at = -1;
        for (size_t i = 0; i < target.size(); ++i) {
            int64_t d = target[i];
            if (d == 0 && !allow_zero) {
                if (static_cast<int>(i) >= x.rank()) throw UnsupportedError("Reshape: 0 refers to a missing input dimension");
                d = x.shape()[i];
            }
            if (d == -1) {
                if (unknown_at >= 0) throw UnsupportedError("Reshape: more than one -1");
                unknown_at = static_cast<int64_t>(i);
            } else {
                known *= d;
            }
            shape[i] = d;
        }
        if (unknown_at >= 0) shape[unknown_at] = known ? static_cast<int64_t>(x.element_count()) / known : 0;
        return std::vector<Tensor>{x.reshaped(shape)};
    };
    return s;
}

OnnxStep compile_transpose(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::transpose;
    std::vector<int64_t> perm = n.layer.attribute_ints("perm", {});
    s.function = [perm](const std::vector<const Tensor*>& in) {
        const Tensor& x = input_at(in, 0, "Transpose");
        std::vector<int64_t> p = perm;
        if (p.empty()) for (int i = x.rank(); i-- > 0;) p.push_back(i);
        return std::vector<Tensor>{transpose(x, p)};
    };
    return s;
}

OnnxStep compile_concat(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::concat;
    int64_t axis = n.layer.attribute_int("axis", 0);
    s.function = [axis](const std::vector<const Tensor*>& in) {
        bool all_integer = true;
        for (const Tensor* t : in) if (t && !is_integer(t->dtype())) all_integer = false;
        std::vector<Tensor> converted;
        for (const Tensor* t : in) if (t) converted.push_back(all_integer ? to_int64(*t) : t->to_float32());
        std::vector<const Tensor*> pointers;
        for (const Tensor& t : converted) pointers.push_back(&t);
        return std::vector<Tensor>{concat(pointers, axis)};
    };
    AxisParams params;
    params.axes = {axis};
    s.params = params;
    return s;
}

// Split: sizes as the `split` attribute before opset 13, as input 1 from 13;
// neither: equal parts, one per output (or `num_outputs` from 18).
OnnxStep compile_split(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::split;
    const int64_t axis = n.layer.attribute_int("axis", 0);
    const bool sizes_from_input = n.opset >= 13;
    if (sizes_from_input && n.layer.attribute("split")) {
        throw UnsupportedError(concat("Split at opset ", n.opset, " takes sizes as input 1, but the node has a 'split' attribute"));
    }
    std::vector<int64_t> attribute_sizes = sizes_from_input ? std::vector<int64_t>{} : n.layer.attribute_ints("split", {});
    const int64_t parts = n.layer.attribute_int("num_outputs", static_cast<int64_t>(n.layer.outputs.size()));
    if (parts < 1) throw UnsupportedError("Split without outputs");
    s.function = [axis, sizes_from_input, attribute_sizes, parts](const std::vector<const Tensor*>& in) {
        const Tensor& x = input_at(in, 0, "Split");
        const int a = normalize_axis(axis, x.rank(), "Split");
        const int64_t length = x.shape()[a];
        std::vector<int64_t> sizes = sizes_from_input && has_input(in, 1) ? ints_of(*in[1]) : attribute_sizes;
        if (sizes.empty()) {
            // Equal parts; the last one is smaller when they do not divide (opset 18).
            const int64_t part = (length + parts - 1) / parts;
            for (int64_t i = 0, left = length; i < parts; ++i, left -= part) sizes.push_back(std::max<int64_t>(0, std::min(part, left)));
        }
        int64_t total = 0;
        for (int64_t size : sizes) {
            if (size < 0) throw UnsupportedError("Split: a negative size");
            total += size;
        }
        if (total != length) throw UnsupportedError(concat("Split: sizes add up to ", total, ", axis ", a, " has ", length));
        std::vector<Tensor> outputs;
        std::vector<int64_t> starts(x.rank(), 0), ends = x.shape(), steps(x.rank(), 1);
        int64_t offset = 0;
        for (int64_t size : sizes) {
            starts[a] = offset;
            ends[a] = offset + size;
            outputs.push_back(slice(x, starts, ends, steps));
            offset += size;
        }
        return outputs;
    };
    AxisParams params;
    params.axes = {axis};
    s.params = params;
    return s;
}

// Pad: `pads` and `value` attributes before opset 11; from 11 inputs 1
// (pads) and 2 (constant_value), and 3 (axes, from 18, not supported).
OnnxStep compile_pad(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::pad;
    std::string mode_name = n.layer.attribute_string("mode", "constant");
    PadParams p;
    p.mode = mode_name == "reflect" ? PadMode::reflect : mode_name == "edge" ? PadMode::edge : PadMode::constant;
    if (mode_name != "constant" && mode_name != "reflect" && mode_name != "edge") throw UnsupportedError(concat("pad mode '", mode_name, "'"));
    const bool from_inputs = n.opset >= 11;
    if (from_inputs && n.layer.attribute("pads")) {
        throw UnsupportedError(concat("Pad at opset ", n.opset, " takes pads as input 1, but the node has a 'pads' attribute"));
    }
    if (!from_inputs) {
        p.pads = n.layer.attribute_ints("pads", {});
        p.value = n.layer.attribute_float("value", 0.0);
    } else if (const Tensor* pads = n.constant_at(1)) {
        p.pads = ints_of(*pads);
    }
    if (n.input_listed(3)) throw UnsupportedError("Pad with axes is not supported");
    s.function = [p, from_inputs](const std::vector<const Tensor*>& in) {
        std::vector<int64_t> pads = from_inputs ? (has_input(in, 1) ? ints_of(*in[1]) : std::vector<int64_t>{}) : p.pads;
        float value = static_cast<float>(p.value);
        if (from_inputs && has_input(in, 2) && in[2]->element_count()) value = static_cast<float>(in[2]->value_at(0));
        return std::vector<Tensor>{pad(input_at(in, 0, "Pad"), pads, p.mode, value)};
    };
    s.params = p;
    return s;
}

// [resize] Resize and Upsample. Where the scales are: Upsample 7-8 the
// `scales` attribute, Upsample 9 and Resize 10 input 1, Resize 11+ input 2
// (after roi) with sizes at input 3. Resize 10 and Upsample are asymmetric
// with floor rounding; Resize 11+ defaults to half_pixel and round_prefer_floor.
struct ResizeForm {
    bool scales_attribute = false;
    size_t scales_input = 1;
    bool has_sizes = false;
    bool half_pixel_defaults = false;
};

ResizeOptions resize_options(const OnnxNode& n, bool half_pixel_defaults) {
    ResizeOptions options;
    std::string mode = n.layer.attribute_string("mode", "nearest");
    if (mode == "linear" || mode == "bilinear") options.mode = ResizeMode::bilinear;
    else if (mode != "nearest") throw UnsupportedError(concat("resize mode '", mode, "' is not supported"));
    std::string coordinates = n.layer.attribute_string("coordinate_transformation_mode", half_pixel_defaults ? "half_pixel" : "asymmetric");
    if (coordinates == "half_pixel") options.coordinates = CoordinateMode::half_pixel;
    else if (coordinates == "pytorch_half_pixel") options.coordinates = CoordinateMode::pytorch_half_pixel;
    else if (coordinates == "align_corners") options.coordinates = CoordinateMode::align_corners;
    else if (coordinates == "asymmetric") options.coordinates = CoordinateMode::asymmetric;
    else if (coordinates == "tf_half_pixel_for_nn") options.coordinates = CoordinateMode::tf_half_pixel_for_nn;
    else throw UnsupportedError(concat("coordinate_transformation_mode '", coordinates, "' is not supported"));
    std::string rounding = n.layer.attribute_string("nearest_mode", half_pixel_defaults ? "round_prefer_floor" : "floor");
    options.rounding = rounding == "floor" ? NearestRounding::floor : rounding == "ceil" ? NearestRounding::ceil
                     : rounding == "round_prefer_ceil" ? NearestRounding::round_prefer_ceil : NearestRounding::round_prefer_floor;
    return options;
}

OnnxStep resize_step(const OnnxNode& n, const ResizeForm& form) {
    OnnxStep s;
    s.op = OpKind::resize;
    ResizeParams p;
    p.options = resize_options(n, form.half_pixel_defaults);
    p.channels_first = true;
    std::vector<double> attribute_scales;
    if (form.scales_attribute) {
        if (auto v = n.layer.attribute("scales")) if (auto d = std::get_if<std::vector<double>>(v)) attribute_scales = *d;
        if (attribute_scales.size() == 4) { p.scale_h = attribute_scales[2]; p.scale_w = attribute_scales[3]; }
    }
    s.function = [p, form, attribute_scales](const std::vector<const Tensor*>& in) {
        const Tensor& x = input_at(in, 0, "Resize");
        if (x.rank() != 4) throw UnsupportedError("only 4-D NCHW resize is supported");
        std::vector<double> scales = attribute_scales;
        if (!form.scales_attribute && has_input(in, form.scales_input) && in[form.scales_input]->element_count()) {
            for (uint64_t i = 0; i < in[form.scales_input]->element_count(); ++i) scales.push_back(in[form.scales_input]->value_at(i));
        }
        int64_t out_h, out_w;
        if (form.has_sizes && has_input(in, 3) && in[3]->element_count() == 4) {
            std::vector<int64_t> sizes = ints_of(*in[3]);
            if (sizes[0] != x.shape()[0] || sizes[1] != x.shape()[1]) throw UnsupportedError("resizing batch or channels is not supported");
            out_h = sizes[2];
            out_w = sizes[3];
        } else if (scales.size() == 4) {
            if (scales[0] != 1.0 || scales[1] != 1.0) throw UnsupportedError("scaling batch or channels is not supported");
            out_h = static_cast<int64_t>(std::floor(x.shape()[2] * scales[2]));
            out_w = static_cast<int64_t>(std::floor(x.shape()[3] * scales[3]));
            // The coordinate transform uses the stated scales (ONNX), not out/in.
            ResizeOptions options = p.options;
            options.scale_h = scales[2];
            options.scale_w = scales[3];
            return std::vector<Tensor>{resize2d(x.to_float32(), false, out_h, out_w, options)};
        } else {
            throw UnsupportedError("Resize needs 4 scales or sizes");
        }
        return std::vector<Tensor>{resize2d(x.to_float32(), false, out_h, out_w, p.options)};
    };
    s.params = p;
    return s;
}

OnnxStep compile_upsample_attribute(const OnnxNode& n) { return resize_step(n, ResizeForm{true, 0, false, false}); }
OnnxStep compile_upsample(const OnnxNode& n) { return resize_step(n, ResizeForm{false, 1, false, false}); }
OnnxStep compile_resize_10(const OnnxNode& n) { return resize_step(n, ResizeForm{false, 1, false, false}); }
OnnxStep compile_resize(const OnnxNode& n) { return resize_step(n, ResizeForm{false, 2, true, true}); }

// [squeeze] Squeeze/Unsqueeze axes: the attribute before opset 13, input 1 from 13.
Shape squeezed_shape(const Tensor& x, const std::vector<int64_t>& axes) {
    const Shape& shape = x.shape();
    std::vector<bool> drop(shape.size(), axes.empty());
    for (int64_t a : axes) drop[normalize_axis(a, x.rank(), "Squeeze")] = true;
    Shape out;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (drop[i] && shape[i] != 1 && !axes.empty()) throw UnsupportedError(concat("Squeeze: axis ", i, " has size ", shape[i]));
        if (!(drop[i] && shape[i] == 1)) out.push_back(shape[i]);
    }
    return out;
}

Shape unsqueezed_shape(const Tensor& x, const std::vector<int64_t>& axes) {
    int out_rank = x.rank() + static_cast<int>(axes.size());
    std::vector<bool> inserted(out_rank, false);
    for (int64_t a : axes) inserted[normalize_axis(a, out_rank, "Unsqueeze")] = true;
    Shape out;
    size_t next = 0;
    for (int i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : x.shape()[next++]);
    return out;
}

OnnxStep squeeze_step(const OnnxNode& n, bool squeeze) {
    OnnxStep s;
    s.op = squeeze ? OpKind::squeeze : OpKind::unsqueeze;
    AxesSource source = axes_source(n, 13, 1);
    s.function = [squeeze, source](const std::vector<const Tensor*>& in) {
        const Tensor& x = input_at(in, 0, squeeze ? "Squeeze" : "Unsqueeze");
        std::vector<int64_t> axes = resolve_axes(source, in, 1);
        return std::vector<Tensor>{x.reshaped(squeeze ? squeezed_shape(x, axes) : unsqueezed_shape(x, axes))};
    };
    AxisParams params;
    params.axes = source.attribute_axes;
    if (const Tensor* axes = n.constant_at(1); source.from_input && axes) params.axes = ints_of(*axes);
    s.params = params;
    return s;
}

OnnxStep compile_squeeze(const OnnxNode& n) { return squeeze_step(n, true); }
OnnxStep compile_unsqueeze(const OnnxNode& n) { return squeeze_step(n, false); }

// [reduce] axes as an attribute until the op's axes became input 1
// (ReduceSum at opset 13, the others at 18).
OnnxStep reduce_step(const OnnxNode& n, ReduceKind kind, int64_t axes_input_from) {
    OnnxStep s;
    s.op = OpKind::reduce;
    AxesSource source = axes_source(n, axes_input_from, 1);
    bool keep = n.layer.attribute_int("keepdims", 1) != 0;
    bool noop_with_empty = n.layer.attribute_int("noop_with_empty_axes", 0) != 0;
    s.function = [kind, source, keep, noop_with_empty](const std::vector<const Tensor*>& in) {
        std::vector<int64_t> axes = resolve_axes(source, in, 1);
        if (axes.empty() && noop_with_empty) return std::vector<Tensor>{input_at(in, 0, "Reduce")};
        return std::vector<Tensor>{reduce(input_at(in, 0, "Reduce"), axes, kind, keep)};
    };
    AxisParams params;
    params.axes = source.attribute_axes;
    if (const Tensor* axes = n.constant_at(1); source.from_input && axes) params.axes = ints_of(*axes);
    params.keep_dims = keep;
    s.params = params;
    return s;
}

OnnxStep compile_reduce_sum(const OnnxNode& n) { return reduce_step(n, ReduceKind::sum, 13); }
OnnxStep compile_reduce_mean(const OnnxNode& n) { return reduce_step(n, ReduceKind::mean, 18); }
OnnxStep compile_reduce_max(const OnnxNode& n) { return reduce_step(n, ReduceKind::max, 18); }
OnnxStep compile_reduce_min(const OnnxNode& n) { return reduce_step(n, ReduceKind::min, 18); }

OnnxStep compile_shape(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::shape;
    int64_t start = n.layer.attribute_int("start", 0), end_value = n.layer.attribute_int("end", std::numeric_limits<int64_t>::max());
    s.function = [start, end_value](const std::vector<const Tensor*>& in) {
        const Shape& s = input_at(in, 0, "Shape").shape();
        int64_t rank = static_cast<int64_t>(s.size());
        int64_t b = start < 0 ? std::max<int64_t>(0, start + rank) : std::min(start, rank);
        int64_t e = end_value < 0 ? std::max<int64_t>(0, end_value + rank) : std::min(end_value, rank);
        return std::vector<Tensor>{int64_tensor(std::vector<int64_t>(s.begin() + b, s.begin() + std::max(b, e)))};
    };
    return s;
}

OnnxStep compile_gather(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::gather;
    int64_t axis = n.layer.attribute_int("axis", 0);
    s.function = [axis](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{gather(input_at(in, 0, "Gather"), input_at(in, 1, "Gather"), axis)};
    };
    return s;
}

OnnxStep compile_constant(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::constant;
    Tensor value;
    // Which attribute held the value; a `value` of another type (a file
    // may say FLOATS and carry nothing) must not become an empty tensor.
    bool have_value = false;
    if (auto v = n.layer.attribute("value")) {
        if (auto t = std::get_if<Tensor>(v)) {
            value = is_integer(t->dtype()) ? to_int64(*t) : t->to_float32();
            have_value = true;
        }
    }
    if (!have_value && n.layer.attribute("value_float")) {
        value = Tensor::from_floats({}, {static_cast<float>(n.layer.attribute_float("value_float", 0))});
        have_value = true;
    }
    if (!have_value && n.layer.attribute("value_floats")) {
        std::vector<float> f;
        if (auto d = std::get_if<std::vector<double>>(n.layer.attribute("value_floats"))) for (double x : *d) f.push_back(static_cast<float>(x));
        value = Tensor::from_floats({static_cast<int64_t>(f.size())}, f);
        have_value = true;
    }
    if (!have_value && n.layer.attribute("value_int")) {
        value = int64_tensor({n.layer.attribute_int("value_int", 0)}).reshaped({});
        have_value = true;
    }
    if (!have_value && n.layer.attribute("value_ints")) {
        value = int64_tensor(n.layer.attribute_ints("value_ints", {}));
        have_value = true;
    }
    if (!have_value) throw UnsupportedError("Constant without a supported value attribute (a TENSOR 'value', or value_float(s)/value_int(s))");
    s.function = [value](const std::vector<const Tensor*>&) { return std::vector<Tensor>{value}; };
    return s;
}

OnnxStep compile_constant_of_shape(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::constant;
    Tensor fill = Tensor::from_floats({}, {0.0f});
    if (auto v = n.layer.attribute("value")) {
        if (auto t = std::get_if<Tensor>(v)) fill = is_integer(t->dtype()) ? to_int64(*t) : t->to_float32();
    }
    if (fill.element_count() != 1) throw UnsupportedError("ConstantOfShape value must hold one element");
    s.function = [fill](const std::vector<const Tensor*>& in) {
        std::vector<int64_t> shape = ints_of(input_at(in, 0, "ConstantOfShape"));
        Tensor out = Tensor::zeros(fill.dtype(), shape);
        size_t element = dtype_size(fill.dtype());
        for (uint64_t i = 0; i < out.element_count(); ++i) std::memcpy(out.mutable_raw() + i * element, fill.raw(), element);
        return std::vector<Tensor>{out};
    };
    return s;
}

// Slice: starts/ends/axes attributes before opset 10; from 10 inputs 1-4
// (starts, ends, axes, steps).
OnnxStep compile_slice(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::slice;
    const bool from_inputs = n.opset >= 10;
    if (from_inputs && (n.layer.attribute("starts") || n.layer.attribute("ends"))) {
        throw UnsupportedError(concat("Slice at opset ", n.opset, " takes starts/ends as inputs 1 and 2, but the node has attributes (an opset-9 form)"));
    }
    if (!from_inputs && n.input_listed(1)) {
        throw UnsupportedError(concat("Slice at opset ", n.opset, " takes starts/ends as attributes; inputs are an opset-10 form"));
    }
    std::vector<int64_t> a_starts, a_ends, a_axes;
    if (!from_inputs) {
        a_starts = n.layer.attribute_ints("starts", {});
        a_ends = n.layer.attribute_ints("ends", {});
        a_axes = n.layer.attribute_ints("axes", {});
    }
    s.function = [from_inputs, a_starts, a_ends, a_axes](const std::vector<const Tensor*>& in) {
        const Tensor& x = input_at(in, 0, "Slice");
        auto input_or = [&](size_t i, const std::vector<int64_t>& attribute) {
            return from_inputs ? (has_input(in, i) ? ints_of(*in[i]) : std::vector<int64_t>{}) : attribute;
        };
        std::vector<int64_t> starts = input_or(1, a_starts);
        std::vector<int64_t> ends = input_or(2, a_ends);
        std::vector<int64_t> axes = input_or(3, a_axes);
        std::vector<int64_t> steps = from_inputs && has_input(in, 4) ? ints_of(*in[4]) : std::vector<int64_t>(starts.size(), 1);
        if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
        if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size()) throw UnsupportedError("Slice: starts/ends/axes/steps lengths differ");
        std::vector<int64_t> s(x.rank(), 0), e = x.shape(), st(x.rank(), 1);
        for (size_t i = 0; i < axes.size(); ++i) {
            int a = normalize_axis(axes[i], x.rank(), "Slice");
            int64_t dim = x.shape()[a], step = steps[i];
            if (step == 0) throw UnsupportedError("Slice: step 0");
            int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i], f = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (step > 0) { b = std::clamp<int64_t>(b, 0, dim); f = std::clamp<int64_t>(f, 0, dim); }
            else { b = std::clamp<int64_t>(b, 0, dim - 1); f = std::clamp<int64_t>(f, -1, dim - 1); }
            s[a] = b; e[a] = f; st[a] = step;
        }
        return std::vector<Tensor>{slice(x, s, e, st)};
    };
    return s;
}

}  // namespace

std::vector<OnnxOpEntry> onnx_tensor_ops() {
    return {
        {"Flatten", "", 1, any_opset, compile_flatten},
        {"Reshape", "", 1, any_opset, compile_reshape},
        {"Transpose", "", 1, any_opset, compile_transpose},
        {"Concat", "", 1, any_opset, compile_concat},
        {"Split", "", 1, any_opset, compile_split},
        {"Squeeze", "", 1, any_opset, compile_squeeze},
        {"Unsqueeze", "", 1, any_opset, compile_unsqueeze},
        {"Pad", "", 2, any_opset, compile_pad},
        {"Upsample", "", 7, 8, compile_upsample_attribute},
        {"Upsample", "", 9, 10, compile_upsample},
        {"Resize", "", 10, 10, compile_resize_10},
        {"Resize", "", 11, any_opset, compile_resize},
        {"Shape", "", 1, any_opset, compile_shape},
        {"Gather", "", 1, any_opset, compile_gather},
        {"Constant", "", 1, any_opset, compile_constant},
        {"ConstantOfShape", "", 9, any_opset, compile_constant_of_shape},
        {"Slice", "", 1, any_opset, compile_slice},
        {"ReduceSum", "", 1, any_opset, compile_reduce_sum},
        {"ReduceMean", "", 1, any_opset, compile_reduce_mean},
        {"ReduceMax", "", 1, any_opset, compile_reduce_max},
        {"ReduceMin", "", 1, any_opset, compile_reduce_min},
    };
}

}  // namespace convscope::onnx_compile
