// [SECTION] index
//   canonical weights and filter vectors
//   the assignment problem (Hungarian method)
//   layer matching and weight comparison
//   activations over images: CKA, cosine, SQNR, prediction agreement
#include "core/dataset/model_compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/base/error.h"
#include "core/inspect/feature_maps.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

// [SECTION] canonical weights -----------------------------------------------------

namespace {

bool is_float_dtype(DType d) { return d == DType::f32 || d == DType::f64 || d == DType::f16; }

std::vector<const Weight*> float_weights(const Layer& layer) {
    std::vector<const Weight*> out;
    for (const Weight& w : layer.weights) if (is_float_dtype(w.tensor.dtype()) && w.tensor.element_count()) out.push_back(&w);
    return out;
}

std::string shape_signature(const Model& model, const Layer& layer) {
    std::string key;
    for (const Weight* w : float_weights(layer)) key += shape_to_string_x(canonical_weight(model, layer, *w).shape()) + ";";
    return key;
}

}  // namespace

Tensor canonical_weight(const Model& model, const Layer& layer, const Weight& weight) {
    Tensor w = weight.tensor.to_float32();
    int rank = w.rank();
    if (model.layout == DataLayout::channels_last) {
        // Keras: kernels end in (.., in, out); move out, then in, to the front.
        if (rank == 2) return transpose(w, {1, 0});
        if (rank >= 3) {
            std::vector<int64_t> perm{rank - 1, rank - 2};
            for (int64_t axis = 0; axis < rank - 2; ++axis) perm.push_back(axis);
            return transpose(w, perm);
        }
        return w;
    }
    // ONNX / PyTorch store filters first, except MatMul's B and Gemm's B
    // without transB, which are (in, out).
    bool in_out = rank == 2 && (layer.type == "MatMul" || (layer.type == "Gemm" && layer.attribute_int("transB", 0) == 0));
    if (in_out) return transpose(w, {1, 0});
    return w;
}

// [SECTION] the assignment problem -------------------------------------------------

std::vector<int64_t> best_assignment(const std::vector<double>& similarity, size_t n) {
    if (similarity.size() != n * n) throw Error(concat("assignment: ", similarity.size(), " similarities for ", n, "x", n));
    // Minimise cost = -similarity with row/column potentials (Kuhn-Munkres,
    // O(n^3)); 1-based arrays with a virtual column 0 keep the loop short.
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0);
    std::vector<size_t> owner(n + 1, 0), way(n + 1, 0);
    for (size_t row = 1; row <= n; ++row) {
        owner[0] = row;
        size_t column = 0;
        std::vector<double> best(n + 1, inf);
        std::vector<bool> used(n + 1, false);
        do {
            used[column] = true;
            size_t r = owner[column], next = 0;
            double delta = inf;
            for (size_t j = 1; j <= n; ++j) {
                if (used[j]) continue;
                double cost = -similarity[(r - 1) * n + (j - 1)] - u[r] - v[j];
                if (cost < best[j]) { best[j] = cost; way[j] = column; }
                if (best[j] < delta) { delta = best[j]; next = j; }
            }
            for (size_t j = 0; j <= n; ++j) {
                if (used[j]) { u[owner[j]] += delta; v[j] -= delta; }
                else best[j] -= delta;
            }
            column = next;
        } while (owner[column] != 0);
        do {
            size_t previous = way[column];
            owner[column] = owner[previous];
            column = previous;
        } while (column);
    }
    std::vector<int64_t> assignment(n, -1);
    for (size_t j = 1; j <= n; ++j) if (owner[j]) assignment[owner[j] - 1] = static_cast<int64_t>(j - 1);
    return assignment;
}

namespace {

std::vector<int64_t> greedy_assignment(const std::vector<double>& similarity, size_t n) {
    std::vector<size_t> order(n * n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return similarity[a] > similarity[b]; });
    std::vector<int64_t> assignment(n, -1);
    std::vector<bool> taken(n, false);
    for (size_t k : order) {
        size_t r = k / n, c = k % n;
        if (assignment[r] >= 0 || taken[c]) continue;
        assignment[r] = static_cast<int64_t>(c);
        taken[c] = true;
    }
    return assignment;
}

double dot(const float* a, const float* b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
}

// [SECTION] layer matching and weight comparison ------------------------------------

void compare_filters(const Tensor& a, const Tensor& b, LayerComparison& out) {
    if (a.rank() < 2 || a.shape() != b.shape()) return;
    size_t filters = static_cast<size_t>(a.shape()[0]);
    size_t size = static_cast<size_t>(a.element_count()) / filters;
    const float* pa = a.f32();
    const float* pb = b.f32();
    std::vector<double> norm_a(filters), norm_b(filters);
    for (size_t f = 0; f < filters; ++f) {
        norm_a[f] = std::sqrt(dot(pa + f * size, pa + f * size, size));
        norm_b[f] = std::sqrt(dot(pb + f * size, pb + f * size, size));
    }
    auto cosine = [&](size_t i, size_t j) {
        double d = norm_a[i] * norm_b[j];
        return d > 0 ? dot(pa + i * size, pb + j * size, size) / d : (norm_a[i] == norm_b[j] ? 1.0 : 0.0);
    };
    for (size_t f = 0; f < filters; ++f) {
        double diff = 0.0;
        for (size_t e = 0; e < size; ++e) {
            double d = static_cast<double>(pb[f * size + e]) - pa[f * size + e];
            diff += d * d;
        }
        out.filter_change.push_back(norm_a[f] > 0 ? std::sqrt(diff) / norm_a[f] : std::sqrt(diff));
    }
    if (filters > 4096) return;  // a 4096^2 similarity matrix is the most worth building
    // Partners are chosen by |cosine|, so a filter whose sign flipped still
    // finds its origin; the sign of the matched cosine then tells the flip.
    std::vector<double> cosines(filters * filters), magnitude(filters * filters);
    for (size_t i = 0; i < filters; ++i) {
        for (size_t j = 0; j < filters; ++j) {
            cosines[i * filters + j] = cosine(i, j);
            magnitude[i * filters + j] = std::fabs(cosines[i * filters + j]);
        }
    }
    out.filter_match = filters <= 512 ? best_assignment(magnitude, filters) : greedy_assignment(magnitude, filters);
    for (size_t f = 0; f < filters; ++f) {
        size_t to = static_cast<size_t>(out.filter_match[f]);
        if (to != f && magnitude[f * filters + to] > magnitude[f * filters + f] + 1e-9) {
            out.moved.push_back({static_cast<int64_t>(f), static_cast<int64_t>(to), cosines[f * filters + to]});
        }
        if (cosines[f * filters + to] < -0.5) out.sign_flips.push_back(static_cast<int64_t>(f));
    }
}

void compare_weights(const Model& ma, const Layer& a, const Model& mb, const Layer& b, LayerComparison& out) {
    std::vector<const Weight*> wa = float_weights(a), wb = float_weights(b);
    double diff = 0.0, norm_a = 0.0, norm_b = 0.0, cross = 0.0;
    for (size_t i = 0; i < wa.size() && i < wb.size(); ++i) {
        Tensor ta = canonical_weight(ma, a, *wa[i]), tb = canonical_weight(mb, b, *wb[i]);
        if (ta.shape() != tb.shape()) continue;
        const float* pa = ta.f32();
        const float* pb = tb.f32();
        for (uint64_t e = 0; e < ta.element_count(); ++e) {
            double d = static_cast<double>(pb[e]) - pa[e];
            diff += d * d;
            norm_a += static_cast<double>(pa[e]) * pa[e];
            norm_b += static_cast<double>(pb[e]) * pb[e];
            cross += static_cast<double>(pa[e]) * pb[e];
        }
        if (i == 0) compare_filters(ta, tb, out);
    }
    out.weight_rel_l2 = norm_a > 0 ? std::sqrt(diff) / std::sqrt(norm_a) : std::sqrt(diff);
    out.weight_cosine = norm_a > 0 && norm_b > 0 ? cross / std::sqrt(norm_a * norm_b) : (norm_a == norm_b ? 1.0 : 0.0);
}

}  // namespace

ModelComparison compare_models(const Model& a, const Model& b, const CompareOptions& options) {
    ModelComparison result;
    std::vector<const Layer*> left, right;
    for (const Layer& l : a.layers) if (!float_weights(l).empty()) left.push_back(&l);
    for (const Layer& l : b.layers) if (!float_weights(l).empty()) right.push_back(&l);
    std::vector<const Layer*> partner(left.size(), nullptr);
    std::vector<std::string> how(left.size());
    std::vector<bool> used(right.size(), false);
    auto take = [&](size_t i, size_t j, const char* by) { partner[i] = right[j]; used[j] = true; how[i] = by; };
    for (size_t i = 0; i < left.size(); ++i) {
        auto o = options.overrides.find(left[i]->name);
        if (o == options.overrides.end()) continue;
        size_t j = 0;
        while (j < right.size() && right[j]->name != o->second) ++j;
        if (j == right.size()) throw Error(concat("compare: override ", o->first, "=", o->second, ": model B has no layer with weights named '", o->second, "'"));
        take(i, j, "override");
    }
    for (size_t i = 0; i < left.size(); ++i) {
        if (partner[i]) continue;
        std::string signature = shape_signature(a, *left[i]);
        for (size_t j = 0; j < right.size(); ++j) {
            if (!used[j] && right[j]->name == left[i]->name && shape_signature(b, *right[j]) == signature) { take(i, j, "name"); break; }
        }
    }
    size_t cursor = 0;
    for (size_t i = 0; i < left.size(); ++i) {
        if (partner[i]) { continue; }
        std::string signature = shape_signature(a, *left[i]);
        for (size_t j = cursor; j < right.size(); ++j) {
            if (!used[j] && shape_signature(b, *right[j]) == signature) { take(i, j, "position"); cursor = j + 1; break; }
        }
    }
    for (size_t i = 0; i < left.size(); ++i) {
        LayerComparison c;
        c.name = left[i]->name;
        if (partner[i]) {
            c.matched_to = partner[i]->name;
            c.matched_by = how[i];
            compare_weights(a, *left[i], b, *partner[i], c);
        } else {
            result.unmatched_a.push_back(left[i]->name);
        }
        result.layers.push_back(std::move(c));
    }
    for (size_t j = 0; j < right.size(); ++j) if (!used[j]) result.unmatched_b.push_back(right[j]->name);
    return result;
}

// [SECTION] activations over images ---------------------------------------------------

double linear_cka(const std::vector<float>& x, size_t p, const std::vector<float>& y, size_t q, size_t n) {
    if (x.size() != n * p || y.size() != n * q) throw Error("linear CKA: feature sizes do not match the sample count");
    if (n < 2) return 1.0;
    // Centred Gram matrices K = Xc Xc^T and L = Yc Yc^T (n x n, n is the
    // image count, small next to the feature count).
    auto gram = [n](const std::vector<float>& f, size_t dims) {
        std::vector<double> mean(dims, 0.0);
        for (size_t i = 0; i < n; ++i) for (size_t d = 0; d < dims; ++d) mean[d] += f[i * dims + d];
        for (double& m : mean) m /= static_cast<double>(n);
        std::vector<double> centred(n * dims);
        for (size_t i = 0; i < n; ++i) for (size_t d = 0; d < dims; ++d) centred[i * dims + d] = f[i * dims + d] - mean[d];
        std::vector<double> k(n * n);
        for (size_t i = 0; i < n; ++i) {
            for (size_t j = i; j < n; ++j) {
                double s = 0.0;
                for (size_t d = 0; d < dims; ++d) s += centred[i * dims + d] * centred[j * dims + d];
                k[i * n + j] = k[j * n + i] = s;
            }
        }
        return k;
    };
    std::vector<double> k = gram(x, p), l = gram(y, q);
    double kl = 0.0, kk = 0.0, ll = 0.0;
    for (size_t e = 0; e < n * n; ++e) {
        kl += k[e] * l[e];
        kk += k[e] * k[e];
        ll += l[e] * l[e];
    }
    if (kk <= 0.0 || ll <= 0.0) return kk == ll ? 1.0 : 0.0;
    return kl / std::sqrt(kk * ll);
}

namespace {

// Channel-major maps average-pooled by one factor until they fit the budget.
std::vector<float> pooled_features(const FeatureMaps& maps, size_t budget) {
    int64_t factor = 1;
    auto size_at = [&](int64_t f) {
        return static_cast<size_t>(maps.channels * ((maps.height + f - 1) / f) * ((maps.width + f - 1) / f));
    };
    while (size_at(factor) > budget && (factor < maps.height || factor < maps.width)) ++factor;
    int64_t ph = (maps.height + factor - 1) / factor, pw = (maps.width + factor - 1) / factor;
    std::vector<float> out(static_cast<size_t>(maps.channels * ph * pw), 0.0f);
    for (int64_t c = 0; c < maps.channels; ++c) {
        const float* v = maps.channel(c);
        for (int64_t y = 0; y < ph; ++y) {
            for (int64_t x = 0; x < pw; ++x) {
                double s = 0.0;
                int64_t count = 0;
                for (int64_t dy = 0; dy < factor && y * factor + dy < maps.height; ++dy) {
                    for (int64_t dx = 0; dx < factor && x * factor + dx < maps.width; ++dx) {
                        s += v[(y * factor + dy) * maps.width + x * factor + dx];
                        ++count;
                    }
                }
                out[static_cast<size_t>((c * ph + y) * pw + x)] = static_cast<float>(s / static_cast<double>(count));
            }
        }
    }
    return out;
}

int top_class(const Tensor& output) {
    int best = 0;
    for (uint64_t i = 1; i < output.element_count(); ++i) if (output.value_at(i) > output.value_at(static_cast<uint64_t>(best))) best = static_cast<int>(i);
    return best;
}

struct ActivationPair {
    std::vector<float> features_a, features_b;
    size_t dims_a = 0, dims_b = 0;
    double signal = 0.0, noise = 0.0, cosine_sum = 0.0;
    int64_t cosine_count = 0;
    bool comparable = true;  // same map geometry in both models
};

void accumulate(ActivationPair& pair, const FeatureMaps& ma, const FeatureMaps& mb, size_t budget) {
    std::vector<float> fa = pooled_features(ma, budget), fb = pooled_features(mb, budget);
    if (pair.dims_a == 0) { pair.dims_a = fa.size(); pair.dims_b = fb.size(); }
    pair.features_a.insert(pair.features_a.end(), fa.begin(), fa.end());
    pair.features_b.insert(pair.features_b.end(), fb.begin(), fb.end());
    if (ma.values.size() != mb.values.size()) { pair.comparable = false; return; }
    double dot_ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t e = 0; e < ma.values.size(); ++e) {
        double x = ma.values[e], y = mb.values[e];
        pair.signal += x * x;
        pair.noise += (x - y) * (x - y);
        dot_ab += x * y; aa += x * x; bb += y * y;
    }
    pair.cosine_sum += aa > 0 && bb > 0 ? dot_ab / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
    pair.cosine_count += 1;
}

}  // namespace

ModelComparison compare_models_on_images(const Model& a, const Engine& engine_a, const Preprocessing& preprocess_a,
                                         const Model& b, const Engine& engine_b, const Preprocessing& preprocess_b,
                                         const ImageDataset& images, const CompareOptions& options) {
    ModelComparison result = compare_models(a, b, options);
    std::vector<size_t> slots;
    RunOptions capture_a, capture_b;
    for (size_t i = 0; i < result.layers.size(); ++i) {
        if (result.layers[i].matched_to.empty()) continue;
        slots.push_back(i);
        capture_a.capture.push_back(result.layers[i].name);
        capture_b.capture.push_back(result.layers[i].matched_to);
    }
    std::vector<ActivationPair> pairs(slots.size());
    int64_t agree = 0;
    for (size_t image = 0; image < images.size(); ++image) {
        Tensor picture = images.image(image);
        RunResult ra = engine_a.run(preprocess_image(picture, preprocess_a), capture_a);
        RunResult rb = engine_b.run(preprocess_image(picture, preprocess_b), capture_b);
        int ca = top_class(ra.outputs.at(engine_a.output_names().at(0)));
        int cb = top_class(rb.outputs.at(engine_b.output_names().at(0)));
        if (ca == cb) ++agree;
        else if (result.disagreements.size() < options.max_disagreements) result.disagreements.push_back(image);
        for (size_t s = 0; s < slots.size(); ++s) {
            const LayerComparison& layer = result.layers[slots[s]];
            auto fa = ra.activations.find(layer.name);
            auto fb = rb.activations.find(layer.matched_to);
            if (fa == ra.activations.end() || fb == rb.activations.end()) { pairs[s].comparable = false; continue; }
            accumulate(pairs[s], feature_maps(fa->second, engine_a.layout()), feature_maps(fb->second, engine_b.layout()),
                       options.max_activation_features);
        }
    }
    result.images = static_cast<int64_t>(images.size());
    if (images.size()) result.prediction_agreement = static_cast<double>(agree) / static_cast<double>(images.size());
    for (size_t s = 0; s < slots.size(); ++s) {
        ActivationPair& pair = pairs[s];
        LayerComparison& layer = result.layers[slots[s]];
        size_t n = pair.dims_a ? pair.features_a.size() / pair.dims_a : 0;
        if (n == images.size() && n > 0 && pair.features_b.size() == n * pair.dims_b) {
            layer.activation_cka = linear_cka(pair.features_a, pair.dims_a, pair.features_b, pair.dims_b, n);
        }
        if (pair.comparable && pair.cosine_count) {
            layer.activation_cosine = pair.cosine_sum / static_cast<double>(pair.cosine_count);
            layer.activations_identical = pair.noise == 0.0;
            if (pair.noise > 0.0) layer.sqnr_db = 10.0 * std::log10(pair.signal / pair.noise);
        }
    }
    return result;
}

}  // namespace convscope
