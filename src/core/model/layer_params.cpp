#include "core/model/layer_params.h"

#include "core/base/error.h"

namespace convscope {

namespace {

const char* padding_name(const PaddingRule& rule) {
    switch (rule.kind) {
        case PaddingRule::Kind::same_upper: return "same";
        case PaddingRule::Kind::same_lower: return "same_lower";
        case PaddingRule::Kind::causal: return "causal";
        case PaddingRule::Kind::explicit_pads: break;
    }
    return rule.top || rule.left || rule.bottom || rule.right ? "explicit" : "valid";
}

}  // namespace

std::string describe_params(const LayerParams& params) {
    if (const auto* c = std::get_if<ConvParams>(&params)) {
        std::string kind = c->transposed ? "conv transpose" : c->depth_multiplier > 0 ? "depthwise conv" : "conv";
        std::string text = c->spatial == 1 ? concat(kind, " ", c->kernel_w, " stride ", c->stride_w)
                                           : concat(kind, " ", c->kernel_h, "x", c->kernel_w, " stride ", c->stride_h, "x", c->stride_w);
        text += concat(" ", padding_name(c->padding));
        if (c->dilation_h > 1 || c->dilation_w > 1) text += concat(" dilation ", c->dilation_h, "x", c->dilation_w);
        if (c->groups > 1) text += concat(" groups ", c->groups);
        return text;
    }
    if (const auto* p = std::get_if<PoolParams>(&params)) {
        const char* kind = p->kind == PoolKind::max ? "max pool" : "average pool";
        if (p->global) return concat("global ", kind);
        return concat(kind, " ", p->geometry.kernel_h, "x", p->geometry.kernel_w, " stride ", p->geometry.stride_h, "x",
                      p->geometry.stride_w, " ", padding_name(p->padding));
    }
    if (const auto* d = std::get_if<DenseParams>(&params)) return concat("dense ", d->in_features, " -> ", d->out_features);
    if (const auto* s = std::get_if<SoftmaxParams>(&params)) {
        return concat(s->log ? "log softmax" : "softmax", " axis ", s->axis, s->flatten_to_2d ? " (flattened to 2-D)" : "");
    }
    if (std::holds_alternative<NormParams>(params)) return "normalisation";
    return "";
}

}  // namespace convscope
