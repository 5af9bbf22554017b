// The shared link's query string: what format_view_state writes,
// parse_view_state reads back unchanged, and a hand-edited or truncated
// link degrades field by field instead of failing.
#include <catch2/catch.hpp>

#include "ui/view_state.h"

using namespace convscope::ui;

TEST_CASE("view state: format then parse gives the same view", "[ui][view-state]") {
    ViewState empty;
    CHECK(format_view_state(empty).empty());
    CHECK(parse_view_state("") == empty);

    ViewState view;
    view.model_url = "https://example.org/nets/my net (v2).onnx?x=1&y=2#frag";
    view.layer = "sequential_1/model1/Conv1";
    view.kernel = 3;
    view.channel = 0;
    view.image = "sample 900 (Ankle boot) \xC3\xA9";  // UTF-8 survives the escapes
    view.panel = "Kernel response";
    const std::string query = format_view_state(view);
    INFO(query);
    // Every reserved character is escaped: no raw separators inside values.
    CHECK(query.find(' ') == std::string::npos);
    CHECK(query.find('#') == std::string::npos);
    CHECK(query.find('?') == std::string::npos);
    CHECK(parse_view_state(query) == view);
    CHECK(parse_view_state("?" + query) == view);
    CHECK(parse_view_state("#" + query) == view);

    // Only the fields that are set are written.
    ViewState partial;
    partial.layer = "conv2d_1";
    partial.kernel = 0;
    CHECK(format_view_state(partial) == "layer=conv2d_1&kernel=0");
    CHECK(parse_view_state(format_view_state(partial)) == partial);
}

TEST_CASE("view state: hand-edited links are read field by field", "[ui][view-state]") {
    // Any order, '+' for space, the last repeated key wins, unknown keys skipped.
    ViewState v = parse_view_state("?panel=Weights&colour=red&layer=a+b&layer=conv2d_1&kernel=7");
    CHECK(v.layer == "conv2d_1");
    CHECK(v.kernel == 7);
    CHECK(v.panel == "Weights");
    CHECK(v.channel == -1);
    CHECK(v.model_url.empty());
    CHECK(parse_view_state("layer=a+b").layer == "a b");

    // Bad numbers leave the field unset; a broken escape stays literal.
    ViewState bad = parse_view_state("kernel=seven&channel=-5x&layer=conv%2");
    CHECK(bad.kernel == -1);
    CHECK(bad.channel == -1);
    CHECK(bad.layer == "conv%2");

    // Past the size limit the rest of the query is ignored, not an error.
    const std::string huge = "layer=x&panel=" + std::string(max_view_query_bytes + 10, 'a') + "&kernel=2";
    ViewState truncated = parse_view_state(huge);
    CHECK(truncated.kernel == -1);
}
