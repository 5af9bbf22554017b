#include "core/formats/npy.h"

#include <cctype>
#include <cstring>
#include <fstream>

#include "core/base/error.h"
#include "core/base/limits.h"

namespace convscope::npy {

namespace {

constexpr char magic[] = "\x93NUMPY";
constexpr size_t magic_size = 6;
// numpy aligns the data to 64 bytes since 1.14 (format.ARRAY_ALIGN).
constexpr size_t data_alignment = 64;

struct DescrEntry {
    DType dtype;
    const char* descr;
};

const DescrEntry descr_table[] = {
    {DType::f16, "<f2"}, {DType::f32, "<f4"}, {DType::f64, "<f8"},
    {DType::i8, "|i1"},  {DType::u8, "|u1"},  {DType::i16, "<i2"},
    {DType::u16, "<u2"}, {DType::i32, "<i4"}, {DType::u32, "<u4"},
    {DType::i64, "<i8"}, {DType::u64, "<u8"}, {DType::boolean, "|b1"},
};

// A tiny parser for the one dict literal numpy writes. It accepts what
// numpy's own reader (ast.literal_eval) accepts for these three keys:
// quoted strings, True/False, and tuples of non-negative integers.
class HeaderParser {
public:
    HeaderParser(const std::string& text, uint64_t at) : text_(text), at_(at) {}

    Header parse() {
        Header header;
        bool seen_descr = false, seen_order = false, seen_shape = false;
        expect('{');
        for (int entry = 0; entry < 16; ++entry) {
            skip_space();
            if (peek() == '}') break;
            std::string key = quoted();
            expect(':');
            if (key == "descr") {
                header.descr = quoted();
                seen_descr = true;
            } else if (key == "fortran_order") {
                header.fortran_order = boolean();
                seen_order = true;
            } else if (key == "shape") {
                header.shape = tuple();
                seen_shape = true;
            } else {
                fail(concat("unexpected key '", key, "' (numpy writes only descr, fortran_order, shape)"));
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip_space();
            if (peek() != '}') fail("expected ',' or '}'");
        }
        expect('}');
        if (!seen_descr || !seen_order || !seen_shape) {
            fail("expected the keys 'descr', 'fortran_order' and 'shape'");
        }
        return header;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw_format_error(".npy header at ", format_offset(at_), ": ", what, " at character ", pos_,
                           " of '", text_.substr(0, 200), "'");
    }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    void expect(char c) {
        skip_space();
        if (peek() != c) fail(concat("expected '", c, "'"));
        ++pos_;
    }
    std::string quoted() {
        skip_space();
        char quote = peek();
        if (quote != '\'' && quote != '"') fail("expected a quoted string");
        size_t end = text_.find(quote, pos_ + 1);
        if (end == std::string::npos) fail("unterminated string");
        std::string value = text_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return value;
    }
    bool boolean() {
        skip_space();
        if (text_.compare(pos_, 4, "True") == 0) { pos_ += 4; return true; }
        if (text_.compare(pos_, 5, "False") == 0) { pos_ += 5; return false; }
        fail("expected True or False");
    }
    Shape tuple() {
        expect('(');
        Shape shape;
        for (;;) {
            skip_space();
            if (peek() == ')') break;
            if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a dimension");
            uint64_t dim = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                dim = dim * 10 + static_cast<uint64_t>(peek() - '0');
                if (dim > limits::max_tensor_elements) fail("dimension exceeds the tensor limit");
                ++pos_;
            }
            shape.push_back(static_cast<int64_t>(dim));
            if (shape.size() > static_cast<size_t>(limits::max_rank)) {
                fail(concat("rank exceeds the limit of ", limits::max_rank));
            }
            skip_space();
            if (peek() == ',') ++pos_;
            else if (peek() != ')') fail("expected ',' or ')' in the shape");
        }
        ++pos_;
        return shape;
    }

    const std::string& text_;
    uint64_t at_;
    size_t pos_ = 0;
};

}  // namespace

std::string descr_for(DType dtype) {
    for (const DescrEntry& entry : descr_table) {
        if (entry.dtype == dtype) return entry.descr;
    }
    throw Error(concat("no .npy descr for dtype ", dtype_name(dtype)));
}

Header parse_header(ByteSpan bytes) {
    ByteReader reader(bytes, ".npy file");
    reader.expect_magic(std::string_view(magic, magic_size), ".npy");
    Header header;
    uint64_t version_at = reader.absolute_position();
    int major = reader.u8();
    int minor = reader.u8();
    if (major < 1 || major > 3 || minor != 0) {
        throw_format_error(".npy file: expected format version 1.0, 2.0 or 3.0 at offset ",
                           format_offset(version_at), ", found ", major, ".", minor);
    }
    uint64_t header_length = major == 1 ? reader.u16() : reader.u32();
    uint64_t header_at = reader.absolute_position();
    std::string text = reader.string(header_length);
    HeaderParser parser(text, header_at);
    Header parsed = parser.parse();
    parsed.major_version = major;
    parsed.minor_version = minor;
    parsed.data_offset = reader.position();

    // '=' is native order; every platform ConvScope runs on is little-endian.
    std::string normalized = parsed.descr;
    if (normalized.size() == 3 && normalized[0] == '=') normalized[0] = '<';
    if (normalized.size() == 3 && (normalized[1] == 'i' || normalized[1] == 'u' || normalized[1] == 'b') &&
        normalized[2] == '1') {
        normalized[0] = '|';
    }
    bool known = false;
    for (const DescrEntry& entry : descr_table) {
        if (normalized == entry.descr) {
            parsed.dtype = entry.dtype;
            known = true;
        }
    }
    if (!known) {
        throw_format_error(".npy header at ", format_offset(header_at), ": dtype descr '", parsed.descr,
                           "' is not supported (expected little-endian bool, int, uint or float such as '<f4')");
    }
    if (parsed.fortran_order && parsed.shape.size() > 1) {
        throw_format_error(".npy header at ", format_offset(header_at), ": fortran_order True with shape ",
                           shape_to_string(parsed.shape), " is not supported (expected C order)");
    }
    uint64_t data_bytes = shape_element_count(parsed.shape) * dtype_size(parsed.dtype);
    if (data_bytes > reader.remaining()) {
        throw_format_error(".npy file: shape ", shape_to_string(parsed.shape), " of ", parsed.descr, " needs ",
                           data_bytes, " data bytes at offset ", format_offset(reader.absolute_position()),
                           ", only ", reader.remaining(), " present");
    }
    return parsed;
}

Tensor read(const FileBytes& bytes) {
    if (!bytes) throw Error("npy::read: no bytes");
    ByteSpan span(bytes->data(), bytes->size());
    Header header = parse_header(span);
    return Tensor::view(header.dtype, header.shape, bytes->data() + header.data_offset, bytes);
}

Tensor read_file(const std::string& path) {
    FileBytes bytes = read_file_bytes(path);
    try {
        return read(bytes);
    } catch (const FormatError& error) {
        throw_format_error(path, ": ", error.what());
    }
}

std::vector<uint8_t> write(const Tensor& tensor) {
    std::string dict = "{'descr': '" + descr_for(tensor.dtype()) + "', 'fortran_order': False, 'shape': (";
    const Shape& shape = tensor.shape();
    for (size_t i = 0; i < shape.size(); ++i) {
        dict += std::to_string(shape[i]);
        if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
        if (i + 1 < shape.size()) dict += " ";
    }
    dict += "), }";
    int major = 1;
    size_t prefix = magic_size + 2 + 2;
    if (prefix + dict.size() + 1 > 65535) {
        major = 2;
        prefix = magic_size + 2 + 4;
    }
    size_t unpadded = prefix + dict.size() + 1;
    size_t padding = (data_alignment - unpadded % data_alignment) % data_alignment;
    std::string header_text = dict + std::string(padding, ' ') + "\n";

    std::vector<uint8_t> out;
    out.reserve(prefix + header_text.size() + tensor.byte_size());
    out.insert(out.end(), magic, magic + magic_size);
    out.push_back(static_cast<uint8_t>(major));
    out.push_back(0);
    uint64_t length = header_text.size();
    for (int i = 0; i < (major == 1 ? 2 : 4); ++i) out.push_back(static_cast<uint8_t>(length >> (8 * i)));
    out.insert(out.end(), header_text.begin(), header_text.end());
    if (tensor.byte_size()) out.insert(out.end(), tensor.raw(), tensor.raw() + tensor.byte_size());
    return out;
}

void write_file(const std::string& path, const Tensor& tensor) {
    std::vector<uint8_t> bytes = write(tensor);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(concat(path, ": cannot open for writing"));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw Error(concat(path, ": write failed"));
}

}  // namespace convscope::npy
