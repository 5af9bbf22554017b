#include "ui/view_state.h"

#include <cstddef>

namespace convscope::ui {
namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

std::string percent_encode(const std::string& text) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (is_unreserved(c)) {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A broken escape ("%4", "%zz") is kept literally, as browsers do.
std::string percent_decode(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            out += char(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

// Non-negative decimal integers up to a billion; anything else is "none".
int parse_index(const std::string& text) {
    if (text.empty() || text.size() > 9) return -1;
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return -1;
        value = value * 10 + (c - '0');
    }
    return value;
}

void append_field(std::string& out, const char* key, const std::string& value) {
    if (value.empty()) return;
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += percent_encode(value);
}

}  // namespace

bool ViewState::operator==(const ViewState& other) const {
    return model_url == other.model_url && layer == other.layer && kernel == other.kernel &&
           channel == other.channel && image == other.image && panel == other.panel;
}

std::string format_view_state(const ViewState& view) {
    std::string out;
    append_field(out, "model", view.model_url);
    append_field(out, "layer", view.layer);
    if (view.kernel >= 0) append_field(out, "kernel", std::to_string(view.kernel));
    if (view.channel >= 0) append_field(out, "channel", std::to_string(view.channel));
    append_field(out, "image", view.image);
    append_field(out, "panel", view.panel);
    return out;
}

ViewState parse_view_state(const std::string& query) {
    ViewState view;
    const std::string text = query.substr(0, max_view_query_bytes);
    size_t start = (!text.empty() && (text[0] == '?' || text[0] == '#')) ? 1 : 0;
    while (start <= text.size()) {
        size_t end = text.find('&', start);
        if (end == std::string::npos) end = text.size();
        const std::string pair = text.substr(start, end - start);
        const size_t equals = pair.find('=');
        const std::string key = percent_decode(pair.substr(0, equals));
        const std::string value = equals == std::string::npos ? std::string() : percent_decode(pair.substr(equals + 1));
        if (key == "model") view.model_url = value;
        else if (key == "layer") view.layer = value;
        else if (key == "kernel") view.kernel = parse_index(value);
        else if (key == "channel") view.channel = parse_index(value);
        else if (key == "image") view.image = value;
        else if (key == "panel") view.panel = value;
        start = end + 1;
    }
    return view;
}

}  // namespace convscope::ui
