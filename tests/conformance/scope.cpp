// Which conformance cases count, and for what.
//
// In scope are the operators a CNN-family model can contain, as issue 13
// lists them (its target: every case of these passes). The README's list of
// layers the engine runs is kept beside it, to say how the engine does on
// what it claims. A case is skipped (listed with the reason, never counted
// as passing) when its expected outputs are not a fixed function of its
// inputs (random operators, training-mode Dropout) or it is not inference
// (loss functions, optimizers, gradients) or it works on strings.
#include <algorithm>
#include <set>

#include "conformance/conformance.h"

namespace convscope::conformance {

namespace {

// Issue 13's "every operator a CNN-family model can contain".
const std::set<std::string>& in_scope_operators() {
    static const std::set<std::string> operators = {
        // convolution and pooling
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool",
        "GlobalLpPool", "MaxUnpool",
        // normalisation
        "BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization", "LRN",
        "MeanVarianceNormalization",
        // activations
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish", "Mish", "Softplus",
        "Softsign", "ThresholdedRelu", "Gelu", "Erf", "Sigmoid", "Tanh", "Clip", "Softmax", "LogSoftmax", "Hardmax",
        "Dropout",
        // resampling and layout
        "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Pad", "Split", "Slice", "Tile", "Expand", "Concat",
        "Gather", "GatherElements", "GatherND", "Where", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze",
        // comparisons, logic, casts
        "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor", "Not", "Cast", "CastLike",
        // reductions and selection
        "ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
        "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "TopK", "CumSum",
        // linear algebra and variadic
        "Einsum", "MatMul", "Gemm", "Sum", "Mean", "Max", "Min",
        // element-wise math
        "Add", "Sub", "Mul", "Div", "Abs", "Neg", "Sqrt", "Exp", "Log", "Pow", "Reciprocal", "Floor", "Ceil",
        "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
        // shapes and constants
        "Shape", "Size", "Constant", "ConstantOfShape", "Range", "NonZero", "Trilu", "Identity",
        // detection heads
        "NonMaxSuppression",
        // quantization (com.microsoft ones as onnxruntime's quantizer writes them)
        "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
        "DynamicQuantizeLinear", "com.microsoft:QLinearAdd", "com.microsoft:QLinearMul",
        "com.microsoft:QLinearGlobalAveragePool", "com.microsoft:QLinearSigmoid", "com.microsoft:QLinearLeakyRelu",
        "com.microsoft:QLinearConcat",
        // recurrent (CNN-LSTM models)
        "LSTM", "GRU", "RNN",
    };
    return operators;
}

// README "Layers the engine runs", in ONNX names (swish is Sigmoid + Mul).
const std::set<std::string>& readme_operators() {
    static const std::set<std::string> operators = {
        "Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "BatchNormalization", "LayerNormalization", "Relu", "Clip", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid",
        "HardSigmoid", "Tanh", "Softmax", "Softplus", "Gelu", "Dropout", "Flatten", "Reshape", "Transpose", "Add",
        "Sub", "Mul", "Div", "Min", "Max", "Concat", "Pad", "Resize", "Upsample", "Identity", "Squeeze", "Unsqueeze",
        "Shape", "Gather", "Constant",
    };
    return operators;
}

// Nodes exporters put around the operator a case is about.
bool is_glue(const std::string& op) {
    static const std::set<std::string> glue = {"Constant", "Identity", "Reshape", "Unsqueeze", "Squeeze",
                                               "Transpose", "Flatten"};
    return glue.count(op) > 0;
}

std::string joined(const std::vector<std::string>& ops) {
    std::string text;
    for (const std::string& op : ops) text += (text.empty() ? "" : "+") + op;
    return text;
}

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

}  // namespace

bool operator_in_scope(const std::string& op) { return in_scope_operators().count(op) > 0; }
bool operator_listed_in_readme(const std::string& op) { return readme_operators().count(op) > 0; }

std::string case_family(const std::vector<std::string>& ops, const std::string& sibling_family) {
    if (!sibling_family.empty()) return sibling_family;
    if (ops.empty()) return "(no nodes)";
    std::vector<std::string> main_ops;
    for (const std::string& op : ops) if (!is_glue(op)) main_ops.push_back(op);
    if (main_ops.empty()) {
        for (const std::string& op : ops) if (op != "Constant") main_ops.push_back(op);
    }
    if (main_ops.empty()) main_ops = ops;
    return joined(main_ops);
}

namespace {
// Every node type and every part of the family ("Split+Sigmoid+Mul", or the
// operator an _expanded case spells out) satisfies `listed`.
bool case_only_uses(const std::string& family, const std::vector<std::string>& ops,
                    bool (*listed)(const std::string&)) {
    if (ops.empty()) return false;
    for (const std::string& op : ops) if (!listed(op)) return false;
    size_t start = 0;
    while (start <= family.size()) {
        size_t end = family.find('+', start);
        if (end == std::string::npos) end = family.size();
        if (!listed(family.substr(start, end - start))) return false;
        start = end + 1;
    }
    return true;
}
}  // namespace

bool case_in_scope(const std::string& family, const std::vector<std::string>& ops) {
    return case_only_uses(family, ops, operator_in_scope);
}

bool case_listed_in_readme(const std::string& family, const std::vector<std::string>& ops) {
    return case_only_uses(family, ops, operator_listed_in_readme);
}

std::string skip_reason(const std::string& case_name, const std::string& family, const std::vector<std::string>& ops,
                        bool has_string_tensors) {
    static const std::set<std::string> random_ops = {"RandomNormal", "RandomNormalLike", "RandomUniform",
                                                     "RandomUniformLike", "Bernoulli", "Multinomial"};
    static const std::set<std::string> loss_ops = {"SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"};
    static const std::set<std::string> string_ops = {"StringNormalizer", "RegexFullMatch", "TfIdfVectorizer",
                                                     "StringConcat", "StringSplit", "LabelEncoder"};
    // By bare name too, should the reader ever drop the domain.
    static const std::set<std::string> training_ops = {"Adagrad", "Adam", "Momentum", "Gradient"};
    std::vector<std::string> considered = ops;
    considered.push_back(family);
    for (const std::string& op : considered) {
        if (op.rfind("ai.onnx.preview.training:", 0) == 0 || training_ops.count(op)) {
            return "training operator " + op + " (optimizer or gradient), not inference";
        }
        if (random_ops.count(op)) return "random output (" + op + "): no fixed expected values";
        if (loss_ops.count(op)) return "loss function " + op + " (training), not inference";
        if (string_ops.count(op)) return "string operator " + op + ", not numeric inference";
    }
    // Training-mode Dropout drops at random; with ratio 0 it is the identity
    // (and its mask all true), so those two cases stay.
    if (contains(case_name, "training_dropout") && !contains(case_name, "zero_ratio")) {
        return "training-mode Dropout drops at random: no fixed expected values";
    }
    if (has_string_tensors) return "STRING tensors in the test data, not numeric inference";
    return "";
}

const char* status_name(CaseStatus status) {
    switch (status) {
        case CaseStatus::passed: return "passed";
        case CaseStatus::wrong: return "wrong";
        case CaseStatus::refused: return "refused";
        case CaseStatus::skipped: return "skipped";
        case CaseStatus::crashed: return "crashed";
        case CaseStatus::timed_out: return "timed out";
    }
    return "?";
}

}  // namespace convscope::conformance
