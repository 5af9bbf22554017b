// JSON text from an untrusted file, parsed with its nesting depth bounded
// (limits::max_nesting_depth) so a hostile file cannot exhaust the stack.
// Shared by every reader whose format embeds JSON (Keras configs,
// SafeTensors headers).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace convscope {

// Throws LimitError past the depth limit and FormatError, "<where>:
// <failure>: <parser's reason>", when the text is not JSON.
nlohmann::ordered_json parse_json_text(const std::string& text, const std::string& where,
                                       const char* failure = "expected JSON");

}  // namespace convscope
