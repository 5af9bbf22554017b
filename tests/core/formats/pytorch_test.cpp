// PyTorch reader and pickle interpreter tests against files torch 1.13 wrote
// (scripts/make_pytorch_fixtures.py) and pickles built here from opcodes.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/formats/pickle.h"
#include "core/formats/pytorch.h"
#include "core/formats/registry.h"
#include "core/inspect/kernels.h"
#include "support/tensor_expectations.h"

using namespace convscope;
using namespace std::string_literals;
using convscope::testing::pytorch_fixture;

namespace {

Model open_fixture(const std::string& name) { return open_model(read_file_bytes(pytorch_fixture(name)), name); }

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    return "(no error)";
}

pickle::Result read_pickle(const std::string& bytes, const pickle::Limits& limits = {}) {
    return pickle::read(ByteSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "test.pkl", {}, limits);
}

std::string short_unicode(const std::string& text) { return "\x8c" + std::string(1, static_cast<char>(text.size())) + text; }

}  // namespace

TEST_CASE("PyTorch state dicts, full pickles, wrappers and TorchScript give torch's tensors", "[pytorch]") {
    for (const char* file : {"small_cnn_state_dict.pth", "small_cnn_full.pt", "checkpoint_wrapper.pth",
                             "noncontiguous.pth", "dtypes.pth", "small_cnn_script.pt", "legacy.pth", "legacy_full.pt"}) {
        INFO(file);
        Model model = open_fixture(file);
        CHECK(model.format == ModelFormat::pytorch);
        CHECK_FALSE(model.has_architecture);
        CHECK(model.layout == DataLayout::channels_first);
        REQUIRE(model.warnings.size() == 1);
        CHECK(model.warnings[0].find("weights only") != std::string::npos);
        testing::check_tensors_match_torch(model, file);
        CHECK(testing::weight_count(model) == testing::pytorch_expectations().at(file).size());
    }
}

TEST_CASE("PyTorch tensors export as the .npy torch's numpy() gives", "[pytorch]") {
    size_t compared = 0;
    for (const char* file :
         {"small_cnn_state_dict.pth", "checkpoint_wrapper.pth", "noncontiguous.pth", "dtypes.pth", "legacy.pth"}) {
        compared += testing::check_npy_match_torch(open_fixture(file), file);
    }
    CHECK(compared == 4 + 1 + 2 + 3 + 1);
}

TEST_CASE("a state dict becomes layers grouped by key prefix with guessed types", "[pytorch]") {
    Model model = open_fixture("small_cnn_state_dict.pth");
    std::vector<std::string> names, types;
    for (const Layer& layer : model.layers) {
        names.push_back(layer.name);
        types.push_back(layer.type);
    }
    CHECK(names == std::vector<std::string>{"features.0", "features.1", "features.3", "features.4", "classifier"});
    CHECK(types == std::vector<std::string>{"Conv2d", "BatchNorm2d", "Conv2d", "BatchNorm2d", "Linear"});
    CHECK(model.find_layer("features.1")->weights.size() == 5);  // weight, bias, running_mean/var, num_batches_tracked
    // Stored members are 64-byte aligned in the zip, so float weights are views of the file.
    CHECK_FALSE(model.find_layer("features.0")->weights[0].tensor.owns_data());

    std::optional<ConvKernels> kernels = conv_kernels(model, *model.find_layer("features.3"));
    REQUIRE(kernels);
    CHECK(kernels->out_channels == 16);
    CHECK(kernels->in_channels == 8);
    CHECK(kernels->height == 3);
    CHECK(kernels->width == 3);
    CHECK(kernels->bias == nullptr);
}

TEST_CASE("a full pickled model keeps its module classes and attributes", "[pytorch]") {
    Model model = open_fixture("small_cnn_full.pt");
    const Layer* conv = model.find_layer("features.3");
    REQUIRE(conv);
    CHECK(conv->type == "Conv2d");
    CHECK(conv->attribute_string("python_class", "") == "torch.nn.modules.conv.Conv2d");
    CHECK(conv->attribute_ints("stride", {}) == std::vector<int64_t>{2, 2});
    CHECK(conv->attribute_int("groups", -1) == 1);
    CHECK(model.metadata.at("python_classes").find("__main__.SmallCNN") != std::string::npos);
    CHECK(model.metadata.at("container") == "torch.save");
}

TEST_CASE("a checkpoint dict's model_state_dict is found, its optimizer left out", "[pytorch]") {
    Model model = open_fixture("checkpoint_wrapper.pth");
    CHECK(model.metadata.at("weights_from") == "model_state_dict");
    CHECK(testing::weight_count(model) == 15);
    CHECK(model.find_layer("features.0"));
}

TEST_CASE("a TorchScript archive shows its modules and scripted classes", "[pytorch]") {
    Model model = open_fixture("small_cnn_script.pt");
    CHECK(model.metadata.at("container") == "torchscript");
    CHECK(model.metadata.at("torchscript_classes").find("torch.nn.modules.conv") != std::string::npos);
    const Layer* conv = model.find_layer("features.0");
    REQUIRE(conv);
    CHECK(conv->type == "Conv2d");
    // Scripted modules keep stride/padding as constants in their code, not in data.pkl;
    // attributes data.pkl does hold are shown.
    CHECK(conv->attribute_int("transposed", -1) == 0);
    CHECK(conv->attribute_string("python_class", "") == "__torch__.torch.nn.modules.conv.Conv2d");
}

TEST_CASE("a pickle that calls os.system is refused, never run", "[pytorch][pickle]") {
    std::string message = error_of([] { open_fixture("evil_os_system.pth"); });
    CHECK(message.find("refused: the pickle calls os.system") != std::string::npos);
    CHECK(message.find("nothing was run") != std::string::npos);
}

TEST_CASE("the legacy (pre-1.6, non-zip) torch.save format is read", "[pytorch]") {
    Model model = open_fixture("legacy.pth");
    CHECK(model.metadata.at("container") == "torch.save legacy");
    CHECK(model.find_layer("features.0")->type == "Conv2d");
    Model full = open_fixture("legacy_full.pt");
    CHECK(full.find_layer("features.3")->attribute_ints("stride", {}) == std::vector<int64_t>{2, 2});
    CHECK(full.metadata.at("python_classes").find("__main__.SmallCNN") != std::string::npos);
}

TEST_CASE("pickle: dangerous globals are refused by GLOBAL and STACK_GLOBAL", "[pickle]") {
    CHECK(error_of([] { read_pickle("\x80\x02" "cbuiltins\neval\n" ")R."); }).find("calls builtins.eval") !=
          std::string::npos);
    CHECK(error_of([] { read_pickle("\x80\x02" "csubprocess\nPopen\n" ")R."); }).find("calls subprocess.Popen") !=
          std::string::npos);
    CHECK(error_of([] { read_pickle("\x80\x02" "c__builtin__\n__import__\n."); }).find("__builtin__.__import__") !=
          std::string::npos);
    std::string stack_global = "\x80\x04" + short_unicode("posix") + short_unicode("system") + "\x93" + ")R.";
    CHECK(error_of([&] { read_pickle(stack_global); }).find("calls posix.system") != std::string::npos);
    // Harmless callables legit checkpoints hold stay placeholders.
    pickle::Result partial = read_pickle("\x80\x02" "cfunctools\npartial\n" "ctorch.nn\nBatchNorm2d\n\x85R.");
    CHECK(partial.root->kind == pickle::Kind::instance);
    CHECK(partial.root->text == "functools.partial");
    CHECK(partial.root->items.at(0)->text == "torch.nn.BatchNorm2d");
    std::string nt = "\x80\x04" + short_unicode("nt") + short_unicode("system") + "\x93.";
    CHECK(error_of([&] { read_pickle(nt); }).find("calls nt.system") != std::string::npos);
}

TEST_CASE("pickle: plain data, memo and placeholders", "[pickle]") {
    // {"a": [1, -2, 300000], "b": (True, None, 1.5), "c": OrderedDict(), "d": some.module.Thing(7)}
    std::string bytes = "\x80\x02}q\x00("s + "X\x01\x00\x00\x00" "a"s + "]q\x01(K\x01J\xfe\xff\xff\xff"s +
                        "\x8a\x03\xe0\x93\x04" + "e" + "X\x01\x00\x00\x00" "b"s + "\x88NG\x3f\xf8\x00\x00\x00\x00\x00\x00"s +
                        "\x87" + "X\x01\x00\x00\x00" "c"s + "ccollections\nOrderedDict\n)R" + "X\x01\x00\x00\x00" "d"s +
                        "csome.module\nThing\nK\x07\x85R}X\x01\x00\x00\x00" "kh\x01sb"s + "u.";
    pickle::Result result = read_pickle(bytes);
    const pickle::Object* root = result.root;
    REQUIRE(root->kind == pickle::Kind::dict);
    const pickle::Object* a = root->get("a");
    REQUIRE(a);
    REQUIRE(a->items.size() == 3);
    CHECK(a->items[0]->integer == 1);
    CHECK(a->items[1]->integer == -2);
    CHECK(a->items[2]->integer == 300000);
    const pickle::Object* b = root->get("b");
    REQUIRE(b->kind == pickle::Kind::tuple);
    CHECK(b->items[0]->boolean);
    CHECK(b->items[1]->kind == pickle::Kind::none);
    CHECK(b->items[2]->floating == 1.5);
    CHECK(root->get("c")->kind == pickle::Kind::dict);
    CHECK(root->get("c")->dict_class == "collections.OrderedDict");
    const pickle::Object* d = root->get("d");
    REQUIRE(d->kind == pickle::Kind::instance);
    CHECK(d->text == "some.module.Thing");
    CHECK(d->items[0]->integer == 7);
    REQUIRE(d->state);
    CHECK(d->state->get("k") == a);  // the memo shares the list
    CHECK(result.globals == std::vector<std::string>{"collections.OrderedDict", "some.module.Thing"});
}

TEST_CASE("pickle: malformed input fails with the opcode offset", "[pickle]") {
    CHECK(error_of([] { read_pickle("\x80\x02h\x05."); }).find("memo key 5 was never stored") != std::string::npos);
    CHECK(error_of([] { read_pickle("\x80\x02" "a."); }).find("stack underflow (opcode at offset 2)") !=
          std::string::npos);
    CHECK(error_of([] { read_pickle("\x80\x02\xff."); }).find("unknown opcode 0xff") != std::string::npos);
    CHECK(error_of([] { read_pickle("\x80\x02K\x01"); }).find("without STOP") != std::string::npos);
    CHECK(error_of([] { read_pickle("\x80\x02X\xff\xff\x00\x00" "ab."s); }).find("need 65535 bytes") !=
          std::string::npos);
    CHECK(error_of([] { read_pickle("\x80\x09N."); }).find("protocol 9") != std::string::npos);
    CHECK(error_of([] { read_pickle("\x80\x02NN."); }).find("2 values on the stack") != std::string::npos);
}

TEST_CASE("pickle: limits on objects, stack and strings hold", "[pickle]") {
    pickle::Limits small;
    small.max_objects = 100;
    std::string many = "\x80\x02(" + std::string(200, 'N') + "l.";
    CHECK_THROWS_AS(read_pickle(many, small), LimitError);
    small.max_objects = 1000;
    small.max_stack = 50;
    CHECK_THROWS_AS(read_pickle(many, small), LimitError);
    small.max_stack = 1000;
    small.max_string_bytes = 4;
    CHECK_THROWS_AS(read_pickle("\x80\x02X\x05\x00\x00\x00" "abcde."s, small), LimitError);
    // Calling one memoized 100-item tuple again and again is charged per call.
    std::string repeated = "\x80\x02" "csome\nThing\nq\x00" "0("s + std::string(100, 'N') + "tq\x01" "0";
    for (int i = 0; i < 50; ++i) repeated += "h\x00" "h\x01R0"s;
    repeated += "N.";
    CHECK_NOTHROW(read_pickle(repeated));
    pickle::Limits few_slots;
    few_slots.max_container_slots = 1000;
    CHECK_THROWS_AS(read_pickle(repeated, few_slots), LimitError);
    // A list that contains itself is read (a cycle through the memo) without recursing forever.
    pickle::Result cyclic = read_pickle("\x80\x02]q\x00h\x00" "a."s);
    CHECK(cyclic.root->items.at(0) == cyclic.root);
}
