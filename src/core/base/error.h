// Errors raised by the core.
//
// Every failure that comes from a file carries three things a user needs to
// find the broken part: what was expected, what was found, and where (a byte
// offset, an HDF5 object path, a JSON path). Readers throw FormatError; the
// UI and CLI catch it at the top and show `what()`.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace convscope {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A file that does not say what a reader needs it to say.
class FormatError : public Error {
public:
    using Error::Error;
};

// A request the file itself may be fine with but that exceeds a limit the
// core sets (see limits.h) or that the engine cannot honour.
class LimitError : public Error {
public:
    using Error::Error;
};

class UnsupportedError : public Error {
public:
    using Error::Error;
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <typename First, typename... Rest>
void append_all(std::ostringstream& out, const First& first, const Rest&... rest) {
    out << first;
    append_all(out, rest...);
}
}  // namespace detail

// Builds a message from pieces: concat("offset ", 12, ": bad magic").
template <typename... Parts>
std::string concat(const Parts&... parts) {
    std::ostringstream out;
    detail::append_all(out, parts...);
    return out.str();
}

template <typename... Parts>
[[noreturn]] void throw_format_error(const Parts&... parts) {
    throw FormatError(concat(parts...));
}

template <typename... Parts>
[[noreturn]] void throw_limit_error(const Parts&... parts) {
    throw LimitError(concat(parts...));
}

// Formats a byte offset as "0x1a2b (6699)" so users can find it in a hex viewer.
std::string format_offset(uint64_t offset);

}  // namespace convscope
