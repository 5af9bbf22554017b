#include "core/engine/builders.h"

#include "core/base/error.h"

namespace convscope {

void apply_output_activation(const OutputActivation& activation, Tensor& tensor) {
    float* data = tensor.mutable_f32();
    int64_t count = static_cast<int64_t>(tensor.element_count());
    if (activation.softmax) {
        int64_t axis_length = tensor.rank() ? tensor.shape().back() : 1;
        if (axis_length > 0) softmax(data, data, count / axis_length, axis_length, 1);
    } else {
        apply_activation(activation.activation, data, count);
    }
}

PadPair resolve_padding(const PaddingRule& rule, bool height, int64_t size, int64_t kernel, int64_t stride, int64_t dilation) {
    switch (rule.kind) {
        case PaddingRule::Kind::explicit_pads:
            return height ? PadPair{rule.top, rule.bottom} : PadPair{rule.left, rule.right};
        case PaddingRule::Kind::same_upper: return same_padding(size, kernel, stride, dilation, true);
        case PaddingRule::Kind::same_lower: return same_padding(size, kernel, stride, dilation, false);
        case PaddingRule::Kind::causal: return height ? PadPair{0, 0} : PadPair{(kernel - 1) * dilation, 0};
    }
    return {};
}

namespace {

// [N, L, C] -> [N, 1, L, C] for the 1-D layers.
Tensor as_image(const Tensor& input, bool one_dimensional, const char* op) {
    Tensor x = input.to_float32();
    if (one_dimensional) {
        if (x.rank() != 3) throw UnsupportedError(concat(op, ": expected a rank-3 input, got ", shape_to_string(x.shape())));
        return x.reshaped({x.shape()[0], 1, x.shape()[1], x.shape()[2]});
    }
    if (x.rank() != 4) throw UnsupportedError(concat(op, ": expected a rank-4 input, got ", shape_to_string(x.shape())));
    return x;
}

Tensor from_image(Tensor output, bool one_dimensional) {
    if (!one_dimensional) return output;
    const Shape& s = output.shape();
    return output.reshaped({s[0], s[2], s[3]});
}

// The pads and output size of a convolution over an h x w input, checked
// against the kernel's input channels; shared by the NHWC and NCHW steps.
struct ResolvedConv {
    PadPair height, width;
    int64_t output_h = 0, output_w = 0;
};

ResolvedConv resolve_conv(const PaddingRule& padding, const Conv2DGeometry& g, int64_t channels, int64_t h, int64_t w,
                          const Tensor& input) {
    if (channels != g.in_channels) {
        throw UnsupportedError(concat("convolution expects ", g.in_channels, " input channels, got ", channels,
                                      " (input ", shape_to_string(input.shape()), ")"));
    }
    ResolvedConv r;
    r.height = resolve_padding(padding, true, h, g.kernel_h, g.stride_h, g.dilation_h);
    r.width = resolve_padding(padding, false, w, g.kernel_w, g.stride_w, g.dilation_w);
    r.output_h = conv_output_size(h, g.kernel_h, g.stride_h, g.dilation_h, r.height.begin, r.height.end);
    r.output_w = conv_output_size(w, g.kernel_w, g.stride_w, g.dilation_w, r.width.begin, r.width.end);
    return r;
}

}  // namespace

Tensor ConvStep::run(const Tensor& input) const {
    Tensor x = as_image(input, one_dimensional, "convolution");
    const Conv2DGeometry& g = kernel->geometry();
    const int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    const ResolvedConv r = resolve_conv(padding, g, c, h, w, input);
    Tensor out = Tensor::uninitialized(DType::f32, {n, r.output_h, r.output_w, g.out_channels});
    if (out.element_count()) {
        kernel->run_with_padding(x.f32(), n, h, w, r.height.begin, r.width.begin, r.height.end, r.width.end,
                                 out.mutable_f32());
    }
    apply_output_activation(activation, out);
    return from_image(out, one_dimensional);
}

Tensor NchwConvStep::run(const Tensor& input) const {
    Tensor x = input.to_float32();
    if (one_dimensional) {
        if (x.rank() != 3) throw UnsupportedError(concat("convolution: expected NCL input, got ", shape_to_string(x.shape())));
        x = x.reshaped({x.shape()[0], x.shape()[1], 1, x.shape()[2]});
    } else if (x.rank() != 4) {
        throw UnsupportedError(concat("convolution: expected NCHW input, got ", shape_to_string(x.shape())));
    }
    const Conv2DGeometry& g = kernel->geometry();
    const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    const ResolvedConv r = resolve_conv(padding, g, c, h, w, input);
    Tensor out = Tensor::uninitialized(DType::f32, {n, g.out_channels, r.output_h, r.output_w});
    if (out.element_count()) {
        kernel->run_with_padding(x.f32(), n, h, w, r.height.begin, r.width.begin, r.height.end, r.width.end,
                                 out.mutable_f32());
    }
    if (one_dimensional) return out.reshaped({n, g.out_channels, r.output_w});
    return out;
}

Tensor ConvTransposeStep::run(const Tensor& input) const {
    Tensor x = as_image(input, one_dimensional, "transposed convolution");
    ConvTranspose2DGeometry geometry = kernel->geometry();
    Conv2DGeometry& g = geometry.conv;
    const int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    if (c != g.in_channels) {
        throw UnsupportedError(concat("transposed convolution expects ", g.in_channels, " input channels, got ", c));
    }
    auto axis = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t out_pad, int64_t pad_b, int64_t pad_e,
                    int64_t explicit_out, int64_t& pad_begin, int64_t& out) {
        int64_t k_eff = (k - 1) * d + 1;
        if (size_rule == SizeRule::onnx) {
            int64_t extra = out_pad < 0 ? 0 : out_pad;
            if (explicit_out > 0) {
                int64_t total = s * (in - 1) + extra + k_eff - explicit_out;
                pad_begin = auto_pad_upper ? total / 2 : total - total / 2;
                out = explicit_out;
            } else {
                pad_begin = pad_b;
                out = s * (in - 1) + extra + k_eff - pad_b - pad_e;
            }
            return;
        }
        bool same = size_rule == SizeRule::keras_same;
        if (out_pad >= 0) {
            int64_t pad = same ? k_eff / 2 : 0;
            out = (in - 1) * s + k_eff - 2 * pad + out_pad;
        } else {
            out = same ? in * s : in * s + std::max<int64_t>(k_eff - s, 0);
        }
        // TensorFlow places the output like the gradient of a forward
        // convolution with the same padding; "valid" starts at 0.
        int64_t needed = std::max<int64_t>(0, (in - 1) * s + k_eff - out);
        pad_begin = same ? needed / 2 : 0;
    };
    axis(h, g.kernel_h, g.stride_h, g.dilation_h, output_padding_h, pad_top, pad_bottom, output_shape_h, g.pad_top,
         geometry.output_h);
    axis(w, g.kernel_w, g.stride_w, g.dilation_w, output_padding_w, pad_left, pad_right, output_shape_w, g.pad_left,
         geometry.output_w);
    if (geometry.output_h < 1 || geometry.output_w < 1) {
        throw UnsupportedError(concat("transposed convolution output would be ", geometry.output_h, "x", geometry.output_w));
    }
    Tensor out = Tensor::zeros(DType::f32, {n, geometry.output_h, geometry.output_w, g.out_channels});
    kernel->run_sized(geometry, x.f32(), n, h, w, out.mutable_f32());
    apply_output_activation(activation, out);
    return from_image(out, one_dimensional);
}

Tensor PoolStep::run(const Tensor& input) const {
    Tensor x = as_image(input, one_dimensional, "pooling");
    const int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    Pool2DGeometry g = geometry;
    g.validate("pooling");
    PadPair ph = resolve_padding(padding, true, h, g.kernel_h, g.stride_h, g.dilation_h);
    PadPair pw = resolve_padding(padding, false, w, g.kernel_w, g.stride_w, g.dilation_w);
    g.pad_top = ph.begin;
    g.pad_bottom = ph.end;
    g.pad_left = pw.begin;
    g.pad_right = pw.end;
    Tensor out = Tensor::uninitialized(DType::f32, {n, g.output_h(h), g.output_w(w), c});
    if (out.element_count()) pool2d(kind, g, x.f32(), n, h, w, c, out.mutable_f32());
    return from_image(out, one_dimensional);
}

int64_t DenseStep::input_size() const {
    if (weights) return weights->rows;
    return matrix.shape()[matrix_transposed ? 1 : 0];
}

int64_t DenseStep::output_size() const {
    if (weights) return weights->columns;
    return matrix.shape()[matrix_transposed ? 0 : 1];
}

DenseStep make_dense_step(const Tensor& matrix, bool transposed, float alpha) {
    if (matrix.rank() != 2) {
        throw UnsupportedError(concat("dense weights must be 2-D, got ", shape_to_string(matrix.shape())));
    }
    const int64_t rows = matrix.shape()[0], columns = matrix.shape()[1];
    const int64_t k = transposed ? columns : rows, n = transposed ? rows : columns;
    DenseStep step;
    if (matrix.dtype() == DType::f32 && !matrix.owns_data() && alpha == 1.0f) {
        step.matrix = matrix;
        step.matrix_transposed = transposed;
        return step;
    }
    PackedMatrix packed;
    if (matrix.dtype() == DType::f32) {
        packed = gemm_pack_b(matrix.f32(), k, n, columns, transposed);
    } else {
        std::vector<float> values = matrix.to_float_vector();
        packed = gemm_pack_b(values.data(), k, n, columns, transposed);
    }
    if (alpha != 1.0f) for (float& v : packed.panels) v *= alpha;
    step.weights = std::make_shared<PackedMatrix>(std::move(packed));
    return step;
}

Tensor DenseStep::run(const Tensor& input) const {
    Tensor x = input.to_float32();
    const int64_t k = input_size(), n = output_size();
    if (x.rank() < 1 || x.shape().back() != k) {
        throw UnsupportedError(concat("dense layer expects a last dimension of ", k, ", got ", shape_to_string(x.shape())));
    }
    int64_t m = static_cast<int64_t>(x.element_count()) / std::max<int64_t>(k, 1);
    Shape out_shape = x.shape();
    out_shape.back() = n;
    Tensor out = Tensor::uninitialized(DType::f32, out_shape);
    if (out.element_count()) {
        const float* b = bias.empty() ? nullptr : bias.data();
        if (weights) {
            gemm_packed(m, x.f32(), k, *weights, out.mutable_f32(), n, b);
        } else if (matrix_transposed) {
            gemv_transposed(m, k, n, x.f32(), matrix.f32(), b, out.mutable_f32());
        } else {
            gemv_rows(m, k, n, x.f32(), matrix.f32(), b, out.mutable_f32());
        }
    }
    apply_output_activation(activation, out);
    return out;
}

}  // namespace convscope
