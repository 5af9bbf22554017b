#include "core/formats/json_text.h"

#include "core/base/error.h"
#include "core/base/limits.h"

namespace convscope {

nlohmann::ordered_json parse_json_text(const std::string& text, const std::string& where, const char* failure) {
    nlohmann::ordered_json::parser_callback_t limit_depth = [&where](int depth, nlohmann::json::parse_event_t,
                                                                     nlohmann::ordered_json&) {
        if (depth > limits::max_nesting_depth) {
            throw_limit_error(where, ": JSON nested deeper than ", limits::max_nesting_depth, " levels");
        }
        return true;
    };
    try {
        return nlohmann::ordered_json::parse(text, limit_depth);
    } catch (const nlohmann::json::exception& error) {
        throw_format_error(where, ": ", failure, ": ", error.what());
    }
}

}  // namespace convscope
