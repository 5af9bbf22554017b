// HDF5 reader, part 3 of 3: datatypes, dataspaces, layouts, chunk indexes,
// filters and element decoding (spec sections IV.A.2.b/d/i/l, III.A, VII).
//
// [SECTION] Datatypes and dataspaces
// [SECTION] Layouts and filter pipelines
// [SECTION] Element decoding
// [SECTION] Filters
// [SECTION] Chunk indexes
// [SECTION] Dataset assembly
#include <algorithm>
#include <cstring>

#include <stb_image.h>

#include "core/base/limits.h"
#include "core/formats/hdf5_internal.h"

namespace convscope::hdf5 {

// =============================================================================
// [SECTION] Datatypes and dataspaces
// =============================================================================

// IV.A.2.d Datatype message: class+version (1), class bit fields (3), size (4), properties.
Datatype parse_datatype(ByteReader& reader, const std::string& where, int depth) {
    if (depth > bounds::max_datatype_depth) throw_format_error(where, ": datatype nesting too deep");
    uint64_t at = reader.absolute_position();
    Datatype type;
    uint8_t class_and_version = reader.u8();
    unsigned version = class_and_version >> 4;
    unsigned type_class = class_and_version & 0x0f;
    // Three separate statements: the order of reads inside one expression is unspecified.
    uint32_t bits = reader.u8();
    bits |= static_cast<uint32_t>(reader.u8()) << 8;
    bits |= static_cast<uint32_t>(reader.u8()) << 16;
    type.size = reader.u32();
    if (version < 1 || version > 4) {
        throw_format_error(where, ": datatype version ", version, " at offset ", format_offset(at), " is not 1..4");
    }
    if (type_class > 10) {
        throw UnsupportedError(concat(where, ": unknown datatype class ", type_class, " at offset ", format_offset(at)));
    }
    type.type_class = static_cast<Datatype::Class>(type_class);
    switch (type.type_class) {
        case Datatype::Class::fixed_point:
        case Datatype::Class::bitfield:
            type.big_endian = bits & 0x01;
            type.is_signed = bits & 0x08;
            type.bit_offset = reader.u16();
            type.bit_precision = reader.u16();
            if (type.bit_precision == 0 || uint64_t(type.bit_offset) + type.bit_precision > 8ull * type.size) {
                throw_format_error(where, ": integer of ", type.size, " bytes with bit offset ", type.bit_offset,
                                   " and precision ", type.bit_precision, " at offset ", format_offset(at));
            }
            break;
        case Datatype::Class::floating_point:
            if (bits & 0x40) {
                throw UnsupportedError(concat(where, ": VAX-order floating point at offset ", format_offset(at)));
            }
            type.big_endian = bits & 0x01;
            type.is_signed = true;
            type.bit_offset = reader.u16();
            type.bit_precision = reader.u16();
            reader.skip(4 + 4);  // exponent/mantissa locations and sizes, exponent bias
            break;
        case Datatype::Class::time:
            reader.skip(2);
            break;
        case Datatype::Class::string:
            type.string_padding = bits & 0x0f;
            break;
        case Datatype::Class::enumeration: {
            ByteReader base_reader = reader;
            type.base = std::make_shared<Datatype>(parse_datatype(reader, where, depth + 1));
            (void)base_reader;
            unsigned members = bits & 0xffff;
            for (unsigned i = 0; i < members; ++i) {
                std::string name;
                // Names are null-terminated; versions 1 and 2 pad them to 8 bytes.
                for (uint64_t n = 0;; ++n) {
                    char c = static_cast<char>(reader.u8());
                    if (c == '\0') {
                        if (version < 3) reader.skip((8 - (n + 1) % 8) % 8);
                        break;
                    }
                    name.push_back(c);
                }
                type.enum_names.push_back(std::move(name));
            }
            for (unsigned i = 0; i < members; ++i) {
                ByteSpan value = reader.bytes(type.base->size);
                int64_t v = 0;
                for (size_t b = 0; b < value.size && b < 8; ++b) {
                    size_t index = type.base->big_endian ? value.size - 1 - b : b;
                    v |= static_cast<int64_t>(value.data[index]) << (8 * b);
                }
                type.enum_values.push_back(v);
            }
            break;
        }
        case Datatype::Class::variable_length:
            type.vlen_is_string = (bits & 0x0f) == 1;
            type.string_padding = (bits >> 4) & 0x0f;
            type.base = std::make_shared<Datatype>(parse_datatype(reader, where, depth + 1));
            break;
        case Datatype::Class::array: {
            unsigned rank = reader.u8();
            if (version < 3) reader.skip(3);
            for (unsigned i = 0; i < rank; ++i) type.array_dims.push_back(reader.u32());
            if (version < 3) reader.skip(4ull * rank);  // permutation indices
            type.base = std::make_shared<Datatype>(parse_datatype(reader, where, depth + 1));
            break;
        }
        case Datatype::Class::opaque:
        case Datatype::Class::compound:
        case Datatype::Class::reference:
            // Sizes come from the enclosing message; the properties are not needed.
            break;
    }
    return type;
}

std::string describe_datatype(const Datatype& type) {
    const char* order = type.big_endian ? " big-endian" : " little-endian";
    switch (type.type_class) {
        case Datatype::Class::fixed_point:
            return concat(type.is_signed ? "int" : "uint", type.size * 8, order);
        case Datatype::Class::floating_point:
            return concat("float", type.size * 8, order);
        case Datatype::Class::string:
            return concat("fixed string (", type.size, " bytes)");
        case Datatype::Class::variable_length:
            return type.vlen_is_string ? "vlen string" : "vlen sequence";
        case Datatype::Class::enumeration:
            return concat("enum of ", type.enum_names.size(), " over ", type.base ? describe_datatype(*type.base) : "?");
        case Datatype::Class::compound: return concat("compound (", type.size, " bytes)");
        case Datatype::Class::reference: return concat("reference (", type.size, " bytes)");
        case Datatype::Class::array: return concat("array (", type.size, " bytes)");
        case Datatype::Class::opaque: return concat("opaque (", type.size, " bytes)");
        case Datatype::Class::bitfield: return concat("bitfield (", type.size, " bytes)");
        case Datatype::Class::time: return concat("time (", type.size, " bytes)");
    }
    return "unknown";
}

bool is_string_type(const Datatype& type) {
    return type.type_class == Datatype::Class::string ||
           (type.type_class == Datatype::Class::variable_length && type.vlen_is_string);
}

namespace {
bool is_boolean_enum(const Datatype& type) {
    if (type.type_class != Datatype::Class::enumeration || !type.base || type.enum_names.size() != 2) return false;
    if (type.base->type_class != Datatype::Class::fixed_point || type.base->size != 1) return false;
    for (size_t i = 0; i < 2; ++i) {
        const std::string& name = type.enum_names[i];
        int64_t value = type.enum_values[i];
        if (!((name == "FALSE" && value == 0) || (name == "TRUE" && value == 1))) return false;
    }
    return true;
}

DType integer_dtype(unsigned size, bool is_signed) {
    if (size <= 1) return is_signed ? DType::i8 : DType::u8;
    if (size <= 2) return is_signed ? DType::i16 : DType::u16;
    if (size <= 4) return is_signed ? DType::i32 : DType::u32;
    return is_signed ? DType::i64 : DType::u64;
}
}  // namespace

DType numeric_dtype(const Datatype& type, const std::string& where) {
    switch (type.type_class) {
        case Datatype::Class::fixed_point:
            if (type.size < 1 || type.size > 8) {
                throw UnsupportedError(concat(where, ": integer of ", type.size, " bytes (expected 1..8)"));
            }
            return integer_dtype(type.size, type.is_signed);
        case Datatype::Class::floating_point:
            if (type.size == 2) return DType::f16;
            if (type.size == 4) return DType::f32;
            if (type.size == 8) return DType::f64;
            throw UnsupportedError(concat(where, ": floating point of ", type.size, " bytes (expected 2, 4 or 8)"));
        case Datatype::Class::enumeration:
            if (is_boolean_enum(type)) return DType::boolean;
            if (type.base && type.base->type_class == Datatype::Class::fixed_point) return numeric_dtype(*type.base, where);
            break;
        default:
            break;
    }
    throw UnsupportedError(concat(where, ": datatype ", describe_datatype(type), " is not numeric"));
}

// IV.A.2.b Dataspace message, versions 1 and 2.
Dataspace parse_dataspace(ByteReader& reader, FileImpl& file, const std::string& where) {
    uint64_t at = reader.absolute_position();
    Dataspace space;
    uint8_t version = reader.u8();
    uint8_t rank = reader.u8();
    uint8_t flags = reader.u8();
    if (version == 1) {
        reader.skip(5);
        space.kind = rank == 0 ? Dataspace::Kind::scalar : Dataspace::Kind::simple;
    } else if (version == 2) {
        uint8_t kind = reader.u8();
        if (kind > 2) throw_format_error(where, ": dataspace type ", int(kind), " at offset ", format_offset(at), " is not 0..2");
        space.kind = kind == 0 ? Dataspace::Kind::scalar : kind == 1 ? Dataspace::Kind::simple : Dataspace::Kind::null;
    } else {
        throw_format_error(where, ": dataspace version ", int(version), " at offset ", format_offset(at), " is not 1 or 2");
    }
    if (rank > limits::max_rank) {
        throw_limit_error(where, ": dataspace rank ", int(rank), " exceeds the limit of ", limits::max_rank);
    }
    for (unsigned i = 0; i < rank; ++i) {
        uint64_t dim = file.read_length(reader);
        if (dim > static_cast<uint64_t>(INT64_MAX)) throw_format_error(where, ": dimension ", dim, " is too large");
        space.dims.push_back(static_cast<int64_t>(dim));
    }
    if (flags & 0x01) {
        for (unsigned i = 0; i < rank; ++i) space.max_dims.push_back(file.read_length(reader));
    } else {
        for (int64_t d : space.dims) space.max_dims.push_back(static_cast<uint64_t>(d));
    }
    return space;
}

// =============================================================================
// [SECTION] Layouts and filter pipelines
// =============================================================================

// IV.A.2.i Data Layout message, versions 1-4.
Layout parse_layout(ByteReader& reader, FileImpl& file, const Dataspace& space, const std::string& where) {
    uint64_t at = reader.absolute_position();
    Layout layout;
    layout.version = reader.u8();
    size_t rank = space.dims.size();
    if (layout.version == 1 || layout.version == 2) {
        unsigned dimensionality = reader.u8();
        layout.layout_class = static_cast<Layout::Class>(reader.u8());
        reader.skip(5);
        if (layout.layout_class != Layout::Class::compact) layout.address = file.read_address(reader);
        std::vector<uint64_t> dims;
        for (unsigned i = 0; i < dimensionality; ++i) dims.push_back(reader.u32());
        if (layout.layout_class == Layout::Class::chunked) {
            layout.chunk_element_size = reader.u32();
            if (dims.empty()) throw_format_error(where, ": chunked layout without dimensions");
            dims.pop_back();
            layout.chunk_dims = dims;
        } else if (layout.layout_class == Layout::Class::compact) {
            uint32_t size = reader.u32();
            layout.compact_data = reader.bytes(size);
        } else if (layout.layout_class == Layout::Class::contiguous) {
            uint64_t size = 1;
            for (uint64_t d : dims) size *= d;  // element size is the last dimension
            layout.contiguous_size = size;
        }
        return layout;
    }
    if (layout.version != 3 && layout.version != 4) {
        throw_format_error(where, ": data layout version ", layout.version, " at offset ", format_offset(at),
                           " is not 1..4");
    }
    uint8_t layout_class = reader.u8();
    if (layout_class > 3) {
        throw UnsupportedError(concat(where, ": unknown layout class ", int(layout_class), " at offset ", format_offset(at)));
    }
    layout.layout_class = static_cast<Layout::Class>(layout_class);
    switch (layout.layout_class) {
        case Layout::Class::compact: {
            uint16_t size = reader.u16();
            layout.compact_data = reader.bytes(size);
            break;
        }
        case Layout::Class::contiguous:
            layout.address = file.read_address(reader);
            layout.contiguous_size = file.read_length(reader);
            break;
        case Layout::Class::chunked: {
            if (layout.version == 3) {
                unsigned dimensionality = reader.u8();
                layout.address = file.read_address(reader);
                std::vector<uint64_t> dims;
                for (unsigned i = 0; i < dimensionality; ++i) dims.push_back(reader.u32());
                if (dims.empty()) throw_format_error(where, ": chunked layout without dimensions");
                layout.chunk_element_size = static_cast<uint32_t>(dims.back());
                dims.pop_back();
                layout.chunk_dims = dims;
                layout.index = Layout::ChunkIndex::btree_v1;
                break;
            }
            layout.chunk_flags = reader.u8();
            unsigned dimensionality = reader.u8();
            unsigned encoded = reader.u8();
            std::vector<uint64_t> dims;
            for (unsigned i = 0; i < dimensionality; ++i) dims.push_back(reader.uint_of_size(encoded));
            if (dims.empty()) throw_format_error(where, ": chunked layout without dimensions");
            layout.chunk_element_size = static_cast<uint32_t>(dims.back());
            dims.pop_back();
            layout.chunk_dims = dims;
            uint8_t index = reader.u8();
            if (index < 1 || index > 5) {
                throw UnsupportedError(concat(where, ": unknown chunk index type ", int(index), " at offset ",
                                              format_offset(reader.absolute_position() - 1)));
            }
            layout.index = static_cast<Layout::ChunkIndex>(index);
            switch (layout.index) {
                case Layout::ChunkIndex::single_chunk:
                    if (layout.chunk_flags & 0x02) {
                        layout.single_chunk_filtered_size = file.read_length(reader);
                        layout.single_chunk_filter_mask = reader.u32();
                    }
                    break;
                case Layout::ChunkIndex::implicit: break;
                case Layout::ChunkIndex::fixed_array: layout.fixed_array_page_bits = reader.u8(); break;
                case Layout::ChunkIndex::extensible_array: reader.skip(5); break;
                case Layout::ChunkIndex::btree_v2: reader.skip(6); break;
                case Layout::ChunkIndex::btree_v1: break;
            }
            layout.address = file.read_address(reader);
            break;
        }
        case Layout::Class::virtual_storage:
            throw UnsupportedError(concat(where, ": virtual dataset layout is not supported"));
    }
    if (layout.layout_class == Layout::Class::chunked) {
        if (layout.chunk_dims.size() != rank) {
            throw_format_error(where, ": chunk rank ", layout.chunk_dims.size(), " differs from dataspace rank ", rank);
        }
        for (uint64_t d : layout.chunk_dims) {
            if (d == 0) throw_format_error(where, ": chunk dimension of 0 at offset ", format_offset(at));
        }
    }
    return layout;
}

// IV.A.2.l Filter Pipeline message, versions 1 and 2.
std::vector<Filter> parse_filter_pipeline(ByteReader& reader, const std::string& where) {
    uint64_t at = reader.absolute_position();
    uint8_t version = reader.u8();
    if (version != 1 && version != 2) {
        throw_format_error(where, ": filter pipeline version ", int(version), " at offset ", format_offset(at),
                           " is not 1 or 2");
    }
    unsigned count = reader.u8();
    if (version == 1) reader.skip(6);
    std::vector<Filter> filters;
    for (unsigned i = 0; i < count; ++i) {
        Filter filter;
        filter.id = reader.u16();
        uint16_t name_length = 0;
        if (version == 1 || filter.id >= 256) name_length = reader.u16();
        filter.flags = reader.u16();
        uint16_t values = reader.u16();
        if (name_length) {
            std::string name = reader.string(name_length);
            filter.name = name.substr(0, name.find('\0'));
            if (version == 1) reader.skip((8 - name_length % 8) % 8);
        }
        for (uint16_t v = 0; v < values; ++v) filter.client_data.push_back(reader.u32());
        if (version == 1 && values % 2) reader.skip(4);
        filters.push_back(std::move(filter));
    }
    return filters;
}

// =============================================================================
// [SECTION] Element decoding
// =============================================================================

namespace {

uint64_t load_unsigned(const uint8_t* p, unsigned size, bool big_endian) {
    uint64_t value = 0;
    for (unsigned b = 0; b < size; ++b) {
        unsigned index = big_endian ? size - 1 - b : b;
        value |= static_cast<uint64_t>(p[index]) << (8 * b);
    }
    return value;
}

template <typename T>
void store(uint8_t* dst, T value) {
    std::memcpy(dst, &value, sizeof value);
}

}  // namespace

Tensor decode_numeric(const Datatype& type, const Shape& shape, ByteSpan raw, const std::string& where) {
    DType dtype = numeric_dtype(type, where);
    uint64_t count = shape_element_count(shape);
    const Datatype& storage_type = type.type_class == Datatype::Class::enumeration ? *type.base : type;
    unsigned size = storage_type.size;
    if (size == 0 || (raw.size / size) < count) {
        throw_format_error(where, ": ", raw.size, " bytes of data for ", count, " elements of ", size, " bytes");
    }
    Tensor out = Tensor::zeros(dtype, shape);
    uint8_t* dst = out.mutable_raw();
    size_t out_size = dtype_size(dtype);
    bool is_float = storage_type.type_class == Datatype::Class::floating_point;
    unsigned precision = storage_type.bit_precision ? storage_type.bit_precision : size * 8;
    unsigned offset = storage_type.bit_offset;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t bits = load_unsigned(raw.data + i * size, size, storage_type.big_endian);
        if (is_float) {
            // Floats keep their bit pattern; only the byte order changes.
            if (out_size == 2) store<uint16_t>(dst + i * 2, static_cast<uint16_t>(bits));
            else if (out_size == 4) store<uint32_t>(dst + i * 4, static_cast<uint32_t>(bits));
            else store<uint64_t>(dst + i * 8, bits);
            continue;
        }
        // Integers: take `precision` bits starting at `offset`, sign-extend.
        if (offset) bits >>= offset;
        if (precision < 64) {
            bits &= (1ull << precision) - 1;
            if (storage_type.is_signed && precision > 0 && (bits >> (precision - 1)) & 1) bits |= ~0ull << precision;
        }
        if (dtype == DType::boolean) bits = bits ? 1 : 0;
        switch (out_size) {
            case 1: store<uint8_t>(dst + i, static_cast<uint8_t>(bits)); break;
            case 2: store<uint16_t>(dst + i * 2, static_cast<uint16_t>(bits)); break;
            case 4: store<uint32_t>(dst + i * 4, static_cast<uint32_t>(bits)); break;
            default: store<uint64_t>(dst + i * 8, bits); break;
        }
    }
    return out;
}

std::vector<std::string> decode_strings(FileImpl& file, const Datatype& type, uint64_t count, ByteSpan raw,
                                        const std::string& where) {
    std::vector<std::string> strings;
    if (type.type_class == Datatype::Class::string) {
        if (type.size == 0 && count > 0) throw_format_error(where, ": fixed-length string of size 0");
        if (type.size && raw.size / type.size < count) {
            throw_format_error(where, ": ", raw.size, " bytes of data for ", count, " strings of ", type.size, " bytes");
        }
        for (uint64_t i = 0; i < count; ++i) {
            std::string s(reinterpret_cast<const char*>(raw.data + i * type.size), type.size);
            if (type.string_padding == 2) {
                while (!s.empty() && s.back() == ' ') s.pop_back();
            } else {
                size_t nul = s.find('\0');
                if (nul != std::string::npos) s.resize(nul);
            }
            strings.push_back(std::move(s));
        }
        return strings;
    }
    if (type.type_class == Datatype::Class::variable_length && type.vlen_is_string) {
        // Each element: length (4), global heap collection address, object index (4).
        uint64_t element = 4 + file.offset_size + 4;
        if (raw.size / element < count) {
            throw_format_error(where, ": ", raw.size, " bytes of data for ", count, " variable-length strings");
        }
        for (uint64_t i = 0; i < count; ++i) {
            ByteReader r(raw.subspan(i * element, element, where), where);
            uint32_t length = r.u32();
            uint64_t collection = file.read_address(r);
            uint32_t index = r.u32();
            if (length == 0 || file.is_undefined(collection) || collection == 0) {
                strings.emplace_back();
                continue;
            }
            ByteSpan object = file.global_heap_object(collection, index, where);
            if (length > object.size) {
                throw_format_error(where, ": string of ", length, " bytes in a global heap object of ", object.size, " bytes");
            }
            std::string s(reinterpret_cast<const char*>(object.data), length);
            size_t nul = s.find('\0');
            if (nul != std::string::npos) s.resize(nul);
            strings.push_back(std::move(s));
        }
        return strings;
    }
    throw UnsupportedError(concat(where, ": datatype ", describe_datatype(type), " is not a string"));
}

// =============================================================================
// [SECTION] Filters
// =============================================================================

namespace {

// Undoes the pipeline on one chunk; `expected_size` is the unfiltered chunk size.
std::vector<uint8_t> unfilter_chunk(const std::vector<Filter>& filters, uint32_t filter_mask, ByteSpan stored,
                                    uint64_t expected_size, const std::string& where) {
    std::vector<uint8_t> data(stored.data, stored.data + stored.size);
    for (size_t i = filters.size(); i-- > 0;) {
        if (filter_mask & (1u << i)) continue;  // the writer skipped this filter for this chunk
        const Filter& filter = filters[i];
        switch (filter.id) {
            case 1: {  // deflate
                if (expected_size > limits::max_decompressed_bytes || expected_size > INT32_MAX) {
                    throw_limit_error(where, ": chunk of ", expected_size, " bytes exceeds the decompression limit");
                }
                std::vector<uint8_t> out(static_cast<size_t>(expected_size));
                int produced = stbi_zlib_decode_buffer(reinterpret_cast<char*>(out.data()), static_cast<int>(out.size()),
                                                       reinterpret_cast<const char*>(data.data()),
                                                       static_cast<int>(data.size()));
                if (produced < 0) {
                    throw_format_error(where, ": deflate stream of ", data.size(),
                                       " bytes is corrupt or inflates past the ", expected_size, "-byte chunk");
                }
                out.resize(static_cast<size_t>(produced));
                data = std::move(out);
                break;
            }
            case 2: {  // shuffle: byte k of every element was grouped together
                size_t element = filter.client_data.empty() ? 1 : filter.client_data[0];
                if (element > 1 && data.size() >= element) {
                    size_t elements = data.size() / element;
                    std::vector<uint8_t> out(data.size());
                    for (size_t b = 0; b < element; ++b) {
                        for (size_t e = 0; e < elements; ++e) out[e * element + b] = data[b * elements + e];
                    }
                    // Bytes past the last whole element are left in place by the writer.
                    std::copy(data.begin() + elements * element, data.end(), out.begin() + elements * element);
                    data = std::move(out);
                }
                break;
            }
            case 3: {  // fletcher32: checksum appended, little-endian
                if (data.size() < 4) throw_format_error(where, ": fletcher32 chunk of ", data.size(), " bytes");
                size_t body = data.size() - 4;
                uint32_t stored_sum = static_cast<uint32_t>(load_unsigned(data.data() + body, 4, false));
                uint32_t computed = fletcher32(data.data(), body);
                // Files from HDF5 1.6.2 and earlier store the halves byte-swapped.
                uint32_t swapped = ((computed & 0x00ff00ffu) << 8) | ((computed >> 8) & 0x00ff00ffu);
                if (stored_sum != computed && stored_sum != swapped) {
                    throw_format_error(where, ": fletcher32 checksum mismatch (stored 0x", std::hex, stored_sum,
                                       ", computed 0x", computed, std::dec, ")");
                }
                data.resize(body);
                break;
            }
            default:
                throw UnsupportedError(concat(where, ": filter ", filter.id,
                                              filter.name.empty() ? "" : concat(" ('", filter.name, "')"),
                                              " is not supported (deflate, shuffle and fletcher32 are)"));
        }
    }
    if (data.size() != expected_size) {
        throw_format_error(where, ": chunk unfilters to ", data.size(), " bytes, expected ", expected_size);
    }
    return data;
}

// =============================================================================
// [SECTION] Chunk indexes
// =============================================================================

struct ChunkRecord {
    std::vector<uint64_t> offset;  // element coordinates of the chunk's first element
    uint64_t address = 0;
    uint64_t stored_size = 0;
    uint32_t filter_mask = 0;
};

struct ChunkGeometry {
    std::vector<uint64_t> dims;        // dataset dims
    std::vector<uint64_t> chunk;       // chunk dims
    std::vector<uint64_t> grid;        // chunks per dimension over dims
    uint64_t chunk_bytes = 0;
    uint64_t chunk_count = 0;
};

std::vector<uint64_t> chunk_offset_from_linear(uint64_t index, const std::vector<uint64_t>& grid,
                                               const std::vector<uint64_t>& chunk) {
    std::vector<uint64_t> offset(grid.size());
    for (size_t d = grid.size(); d-- > 0;) {
        offset[d] = (index % grid[d]) * chunk[d];
        index /= grid[d];
    }
    return offset;
}

// Fixed array (VII.B-C): "FAHD" header -> "FADB" data block, paged when
// there are more than 2^page_bits entries.
void read_fixed_array(FileImpl& file, const Layout& layout, bool filtered, const std::vector<uint64_t>& grid,
                      const ChunkGeometry& geometry, std::vector<ChunkRecord>& records, const std::string& where) {
    std::string what = concat(where, ": fixed array header at ", format_offset(layout.address));
    ByteReader h = file.reader_at(layout.address, what);
    h.expect_magic("FAHD", "fixed array header");
    h.skip(1);
    uint8_t client = h.u8();
    uint8_t entry_size = h.u8();
    uint8_t page_bits = h.u8();
    uint64_t entries = file.read_length(h);
    uint64_t data_block = file.read_address(h);
    size_t covered = h.position();
    verify_checksum(h.span().subspan(0, covered, what), h.u32(), what);
    if (client != (filtered ? 1 : 0)) throw_format_error(what, ": client ID ", int(client), " does not match the filters");
    uint64_t grid_count = 1;
    for (uint64_t g : grid) grid_count *= g;
    if (entries < grid_count) throw_format_error(what, ": ", entries, " entries for ", grid_count, " chunks");
    uint64_t min_entry = file.offset_size + (filtered ? 1 + 4 : 0);
    if (entry_size < min_entry) throw_format_error(what, ": entry size ", int(entry_size), " is too small");
    if (file.is_undefined(data_block)) return;
    if (page_bits > 32) throw_format_error(what, ": page bits ", int(page_bits), " too large");

    std::string block_what = concat(where, ": fixed array data block at ", format_offset(data_block));
    ByteReader b = file.reader_at(data_block, block_what);
    b.expect_magic("FADB", "fixed array data block");
    b.skip(2);
    file.read_address(b);
    uint64_t page_entries = 1ull << page_bits;
    bool paged = entries > page_entries;
    uint64_t pages = paged ? (entries + page_entries - 1) / page_entries : 0;
    std::vector<uint8_t> page_init;
    if (paged) {
        ByteSpan bitmap = b.bytes((pages + 7) / 8);
        page_init.assign(bitmap.data, bitmap.data + bitmap.size);
        size_t prefix = b.position();
        verify_checksum(b.span().subspan(0, prefix, block_what), b.u32(), block_what);
    }
    auto read_entry = [&](ByteReader& r, uint64_t index) {
        ByteSpan e = r.bytes(entry_size);
        if (index >= grid_count) return;
        ByteReader er(e, block_what);
        ChunkRecord record;
        record.address = file.read_address(er);
        if (filtered) {
            record.stored_size = er.uint_of_size(entry_size - file.offset_size - 4);
            record.filter_mask = er.u32();
        }
        if (file.is_undefined(record.address)) return;
        record.offset = chunk_offset_from_linear(index, grid, geometry.chunk);
        records.push_back(std::move(record));
    };
    if (!paged) {
        for (uint64_t i = 0; i < entries; ++i) read_entry(b, i);
        size_t end = b.position();
        verify_checksum(b.span().subspan(0, end, block_what), b.u32(), block_what);
        return;
    }
    for (uint64_t p = 0; p < pages; ++p) {
        uint64_t in_page = std::min(page_entries, entries - p * page_entries);
        size_t page_start = b.position();
        if (!(page_init[p / 8] & (0x80 >> (p % 8)))) {
            b.skip(in_page * entry_size + 4);
            continue;
        }
        for (uint64_t i = 0; i < in_page; ++i) read_entry(b, p * page_entries + i);
        size_t end = b.position();
        verify_checksum(b.span().subspan(page_start, end - page_start, block_what), b.u32(), block_what);
    }
}

// Extensible array (VII.A): "EAHD" header, "EAIB" index block, "EASB"
// secondary blocks and "EADB" data blocks (paged when large).
void read_extensible_array(FileImpl& file, const Layout& layout, bool filtered, std::vector<uint64_t> grid,
                           const ChunkGeometry& geometry, unsigned unlimited_dim, std::vector<ChunkRecord>& records,
                           const std::string& where) {
    std::string what = concat(where, ": extensible array header at ", format_offset(layout.address));
    ByteReader h = file.reader_at(layout.address, what);
    h.expect_magic("EAHD", "extensible array header");
    h.skip(1);
    uint8_t client = h.u8();
    uint8_t element_size = h.u8();
    uint8_t max_elements_bits = h.u8();
    uint8_t index_block_elements = h.u8();
    uint8_t data_block_min_elements = h.u8();
    uint8_t secondary_min_pointers = h.u8();
    uint8_t page_bits = h.u8();
    for (int i = 0; i < 6; ++i) file.read_length(h);  // statistics
    uint64_t index_block = file.read_address(h);
    size_t covered = h.position();
    verify_checksum(h.span().subspan(0, covered, what), h.u32(), what);
    if (client != (filtered ? 1 : 0)) throw_format_error(what, ": client ID ", int(client), " does not match the filters");
    if (element_size < file.offset_size + (filtered ? 5u : 0u) || max_elements_bits == 0 || max_elements_bits > 64 ||
        data_block_min_elements == 0 || secondary_min_pointers == 0 || page_bits > 32 ||
        (data_block_min_elements & (data_block_min_elements - 1)) ||
        (secondary_min_pointers & (secondary_min_pointers - 1))) {
        throw_format_error(what, ": inconsistent parameters");
    }
    if (file.is_undefined(index_block)) return;

    // Linear chunk index: the unlimited dimension is the slowest-varying.
    std::vector<size_t> order;
    order.push_back(unlimited_dim);
    for (size_t d = 0; d < grid.size(); ++d) if (d != unlimited_dim) order.push_back(d);
    std::vector<uint64_t> swizzled_grid;
    for (size_t d : order) swizzled_grid.push_back(grid[d]);
    uint64_t grid_count = 1;
    for (uint64_t g : grid) grid_count *= g;
    auto add_element = [&](ByteSpan e, uint64_t index, const std::string& w) {
        if (index >= grid_count) return;
        ByteReader er(e, w);
        ChunkRecord record;
        record.address = file.read_address(er);
        if (filtered) {
            record.stored_size = er.uint_of_size(element_size - file.offset_size - 4);
            record.filter_mask = er.u32();
        }
        if (file.is_undefined(record.address)) return;
        std::vector<uint64_t> swizzled_chunk;
        for (size_t d : order) swizzled_chunk.push_back(geometry.chunk[d]);
        std::vector<uint64_t> swizzled = chunk_offset_from_linear(index, swizzled_grid, swizzled_chunk);
        record.offset.assign(grid.size(), 0);
        for (size_t k = 0; k < order.size(); ++k) record.offset[order[k]] = swizzled[k];
        records.push_back(std::move(record));
    };

    // Super block geometry: super block s holds 2^(s/2) data blocks of
    // 2^((s+1)/2) * min elements each.
    unsigned log2_min = 0;
    while ((1u << log2_min) < data_block_min_elements) ++log2_min;
    unsigned secondary_count = 1 + max_elements_bits - std::min<unsigned>(max_elements_bits, log2_min);
    unsigned log2_pointers = 0;
    while ((1u << log2_pointers) < secondary_min_pointers) ++log2_pointers;
    unsigned index_secondaries = 2 * log2_pointers;  // super blocks whose data blocks the index block lists
    uint64_t index_data_blocks = 2ull * (secondary_min_pointers - 1);
    unsigned array_offset_size = (max_elements_bits + 7) / 8;
    uint64_t page_elements = 1ull << page_bits;

    auto read_data_block = [&](uint64_t address, uint64_t first_index, uint64_t elements) {
        std::string w = concat(where, ": extensible array data block at ", format_offset(address));
        ByteReader d = file.reader_at(address, w);
        d.expect_magic("EADB", "extensible array data block");
        d.skip(2);
        file.read_address(d);
        d.uint_of_size(array_offset_size);
        if (elements <= page_elements) {
            for (uint64_t i = 0; i < elements; ++i) add_element(d.bytes(element_size), first_index + i, w);
            size_t end = d.position();
            verify_checksum(d.span().subspan(0, end, w), d.u32(), w);
            return;
        }
        size_t prefix = d.position();
        verify_checksum(d.span().subspan(0, prefix, w), d.u32(), w);
        // Pages follow, each with its own checksum; uninitialised pages are
        // tracked by the secondary block, but an all-undefined page reads the same.
        for (uint64_t p = 0; p * page_elements < elements; ++p) {
            uint64_t n = std::min(page_elements, elements - p * page_elements);
            size_t start = d.position();
            ByteSpan page = d.bytes(n * element_size);
            uint32_t stored = d.u32();
            bool all_ones = std::all_of(page.data, page.data + page.size, [](uint8_t v) { return v == 0xff; });
            bool all_zero = std::all_of(page.data, page.data + page.size, [](uint8_t v) { return v == 0; });
            if (all_zero) continue;  // never written
            if (!all_ones) verify_checksum(d.span().subspan(start, n * element_size, w), stored, w);
            for (uint64_t i = 0; i < n; ++i) {
                add_element(page.subspan(i * element_size, element_size, w), first_index + p * page_elements + i, w);
            }
        }
    };

    std::string iw = concat(where, ": extensible array index block at ", format_offset(index_block));
    ByteReader ib = file.reader_at(index_block, iw);
    ib.expect_magic("EAIB", "extensible array index block");
    ib.skip(2);
    file.read_address(ib);
    for (uint64_t i = 0; i < index_block_elements; ++i) add_element(ib.bytes(element_size), i, iw);
    std::vector<uint64_t> data_blocks, secondary_blocks;
    for (uint64_t i = 0; i < index_data_blocks; ++i) data_blocks.push_back(file.read_address(ib));
    unsigned index_secondary_pointers = secondary_count > index_secondaries ? secondary_count - index_secondaries : 0;
    for (unsigned i = 0; i < index_secondary_pointers; ++i) secondary_blocks.push_back(file.read_address(ib));
    size_t end = ib.position();
    verify_checksum(ib.span().subspan(0, end, iw), ib.u32(), iw);

    uint64_t next_index = index_block_elements;
    uint64_t block_cursor = 0;
    for (unsigned s = 0; s < secondary_count && next_index < grid_count; ++s) {
        uint64_t blocks = 1ull << (s / 2);
        uint64_t elements = (1ull << ((s + 1) / 2)) * data_block_min_elements;
        if (s < index_secondaries) {
            for (uint64_t k = 0; k < blocks; ++k, ++block_cursor) {
                if (block_cursor < data_blocks.size() && !file.is_undefined(data_blocks[block_cursor])) {
                    read_data_block(data_blocks[block_cursor], next_index, elements);
                }
                next_index += elements;
            }
            continue;
        }
        uint64_t secondary = secondary_blocks.at(s - index_secondaries);
        if (file.is_undefined(secondary)) {
            next_index += blocks * elements;
            continue;
        }
        std::string sw = concat(where, ": extensible array secondary block at ", format_offset(secondary));
        ByteReader sb = file.reader_at(secondary, sw);
        sb.expect_magic("EASB", "extensible array secondary block");
        sb.skip(2);
        file.read_address(sb);
        sb.uint_of_size(array_offset_size);
        if (elements > page_elements) {
            uint64_t pages_per_block = (elements + page_elements - 1) / page_elements;
            sb.skip((blocks * pages_per_block + 7) / 8);
        }
        std::vector<uint64_t> addresses;
        for (uint64_t k = 0; k < blocks; ++k) addresses.push_back(file.read_address(sb));
        size_t send = sb.position();
        verify_checksum(sb.span().subspan(0, send, sw), sb.u32(), sw);
        for (uint64_t a : addresses) {
            if (!file.is_undefined(a)) read_data_block(a, next_index, elements);
            next_index += elements;
        }
    }
}

std::vector<ChunkRecord> read_chunk_index(FileImpl& file, const DatasetMessages& dataset, const ChunkGeometry& geometry,
                                          const std::string& where) {
    const Layout& layout = dataset.layout;
    bool filtered = !dataset.filters.empty();
    std::vector<ChunkRecord> records;
    if (file.is_undefined(layout.address)) return records;
    size_t rank = geometry.dims.size();
    switch (layout.index) {
        case Layout::ChunkIndex::btree_v1:
            walk_chunk_btree_v1(file, layout.address, static_cast<unsigned>(rank + 1), [&](ByteReader& key, uint64_t address) {
                ChunkRecord record;
                record.stored_size = key.u32();
                record.filter_mask = key.u32();
                for (size_t d = 0; d < rank; ++d) record.offset.push_back(key.u64());
                record.address = address;
                if (records.size() >= geometry.chunk_count) {
                    throw_format_error(where, ": chunk B-tree lists more than the ", geometry.chunk_count, " chunks");
                }
                records.push_back(std::move(record));
            }, where);
            break;
        case Layout::ChunkIndex::single_chunk: {
            ChunkRecord record;
            record.offset.assign(rank, 0);
            record.address = layout.address;
            record.stored_size = filtered ? layout.single_chunk_filtered_size : geometry.chunk_bytes;
            record.filter_mask = layout.single_chunk_filter_mask;
            records.push_back(record);
            break;
        }
        case Layout::ChunkIndex::implicit:
            if (filtered) throw_format_error(where, ": implicit chunk index with filters");
            for (uint64_t i = 0; i < geometry.chunk_count; ++i) {
                ChunkRecord record;
                record.offset = chunk_offset_from_linear(i, geometry.grid, geometry.chunk);
                record.address = layout.address + i * geometry.chunk_bytes;
                record.stored_size = geometry.chunk_bytes;
                records.push_back(std::move(record));
            }
            break;
        case Layout::ChunkIndex::fixed_array: {
            // Entries follow the chunk grid over the maximum dimensions.
            std::vector<uint64_t> grid;
            for (size_t d = 0; d < rank; ++d) {
                uint64_t extent = std::max<uint64_t>(dataset.dataspace.max_dims[d], geometry.dims[d]);
                if (dataset.dataspace.max_dims[d] == ~0ull) extent = geometry.dims[d];
                grid.push_back((extent + geometry.chunk[d] - 1) / geometry.chunk[d]);
            }
            read_fixed_array(file, layout, filtered, grid, geometry, records, where);
            break;
        }
        case Layout::ChunkIndex::extensible_array: {
            unsigned unlimited = 0;
            std::vector<uint64_t> grid;
            for (size_t d = 0; d < rank; ++d) {
                uint64_t max = dataset.dataspace.max_dims[d];
                if (max == ~0ull) {
                    unlimited = static_cast<unsigned>(d);
                    grid.push_back(geometry.grid[d]);
                } else {
                    grid.push_back((std::max(max, geometry.dims[d]) + geometry.chunk[d] - 1) / geometry.chunk[d]);
                }
            }
            read_extensible_array(file, layout, filtered, grid, geometry, unlimited, records, where);
            break;
        }
        case Layout::ChunkIndex::btree_v2:
            walk_btree_v2(file, layout.address, [&](ByteSpan raw) {
                // Type 10: address, scaled offsets (8 each). Type 11: address,
                // chunk size (variable), filter mask (4), scaled offsets.
                ByteReader r(raw, where);
                ChunkRecord record;
                record.address = file.read_address(r);
                if (filtered) {
                    uint64_t size_bytes = raw.size - file.offset_size - 4 - 8 * rank;
                    if (raw.size < file.offset_size + 4 + 8 * rank || size_bytes > 8) {
                        throw_format_error(where, ": chunk record of ", raw.size, " bytes does not fit rank ", rank);
                    }
                    record.stored_size = r.uint_of_size(static_cast<unsigned>(size_bytes));
                    record.filter_mask = r.u32();
                } else {
                    record.stored_size = geometry.chunk_bytes;
                }
                for (size_t d = 0; d < rank; ++d) record.offset.push_back(r.u64() * geometry.chunk[d]);
                if (records.size() >= geometry.chunk_count) {
                    throw_format_error(where, ": chunk B-tree lists more than the ", geometry.chunk_count, " chunks");
                }
                records.push_back(std::move(record));
            }, concat(where, ": chunk index"));
            break;
    }
    return records;
}

// Copies the part of `chunk` (full chunk-shaped bytes) that lies inside the
// dataset into `out` (dataset-shaped bytes).
void copy_chunk(const ChunkGeometry& g, const std::vector<uint64_t>& offset, const uint8_t* chunk, uint8_t* out,
                size_t element_size) {
    size_t rank = g.dims.size();
    if (rank == 0) {
        std::memcpy(out, chunk, element_size);
        return;
    }
    std::vector<uint64_t> extent(rank);
    for (size_t d = 0; d < rank; ++d) {
        extent[d] = offset[d] >= g.dims[d] ? 0 : std::min(g.chunk[d], g.dims[d] - offset[d]);
        if (extent[d] == 0) return;
    }
    std::vector<uint64_t> index(rank, 0);  // position within the chunk, last dim iterated by memcpy
    uint64_t run = extent[rank - 1] * element_size;
    while (true) {
        uint64_t src = 0, dst = 0;
        for (size_t d = 0; d < rank; ++d) {
            src = src * g.chunk[d] + index[d];
            dst = dst * g.dims[d] + offset[d] + index[d];
        }
        std::memcpy(out + dst * element_size, chunk + src * element_size, run);
        size_t d = rank - 1;
        while (d-- > 0) {
            if (++index[d] < extent[d]) break;
            index[d] = 0;
        }
        if (d == static_cast<size_t>(-1)) break;
    }
}

}  // namespace

// =============================================================================
// [SECTION] Dataset assembly
// =============================================================================

void FileImpl::charge_materialized(uint64_t bytes, const std::string& where) {
    uint64_t before = materialized_bytes_.fetch_add(bytes);
    if (before + bytes > limits::max_decompressed_bytes || bytes > limits::max_decompressed_bytes) {
        materialized_bytes_.fetch_sub(bytes);
        throw_limit_error(where, ": building ", bytes, " bytes of dataset storage would take this file's total past ",
                          limits::max_decompressed_bytes, " bytes (", before, " already built)");
    }
}

ByteSpan read_dataset_bytes(FileImpl& file, const DatasetMessages& dataset, uint64_t element_count,
                            std::vector<uint8_t>& storage, const std::string& where) {
    const Layout& layout = dataset.layout;
    uint64_t element_size = dataset.datatype.size;
    if (element_size == 0) throw_format_error(where, ": datatype of size 0");
    if (element_count > limits::max_decompressed_bytes / element_size) {
        throw_limit_error(where, ": ", element_count, " elements of ", element_size, " bytes exceed the limit");
    }
    uint64_t total = element_count * element_size;
    auto fill = [&]() {
        file.charge_materialized(total, where);
        storage.assign(static_cast<size_t>(total), 0);
        if (dataset.fill_value) {
            for (uint64_t i = 0; i < element_count; ++i) {
                std::memcpy(storage.data() + i * element_size, dataset.fill_value->data(), element_size);
            }
        }
    };
    switch (layout.layout_class) {
        case Layout::Class::compact:
            if (layout.compact_data.size < total) {
                throw_format_error(where, ": compact data of ", layout.compact_data.size, " bytes, expected ", total);
            }
            return layout.compact_data.subspan(0, total, where);
        case Layout::Class::contiguous:
            if (!dataset.filters.empty()) {
                throw UnsupportedError(concat(where, ": filters on contiguous storage"));
            }
            if (file.is_undefined(layout.address)) {
                fill();
                return ByteSpan(storage.data(), storage.size());
            }
            if (layout.contiguous_size < total) {
                throw_format_error(where, ": contiguous storage of ", layout.contiguous_size, " bytes, expected ", total);
            }
            return file.bytes_at(layout.address, total, where + " data");
        case Layout::Class::chunked: {
            if (layout.chunk_element_size != element_size) {
                throw_format_error(where, ": chunk element size ", layout.chunk_element_size,
                                   " differs from the datatype size ", element_size);
            }
            ChunkGeometry g;
            for (int64_t d : dataset.dataspace.dims) g.dims.push_back(static_cast<uint64_t>(d));
            g.chunk = layout.chunk_dims;
            g.chunk_count = 1;
            uint64_t chunk_elements = 1;
            for (size_t d = 0; d < g.dims.size(); ++d) {
                g.grid.push_back((g.dims[d] + g.chunk[d] - 1) / g.chunk[d]);
                g.chunk_count *= g.grid.back();
                if (g.chunk[d] > limits::max_tensor_elements || chunk_elements > limits::max_tensor_elements / g.chunk[d]) {
                    throw_limit_error(where, ": chunk shape exceeds ", limits::max_tensor_elements, " elements");
                }
                chunk_elements *= g.chunk[d];
            }
            g.chunk_bytes = chunk_elements * element_size;
            fill();
            if (element_count == 0) return ByteSpan(storage.data(), 0);
            std::vector<ChunkRecord> records = read_chunk_index(file, dataset, g, where);
            uint64_t decompressed = 0;
            for (const ChunkRecord& record : records) {
                if (record.offset.size() != g.dims.size()) throw_format_error(where, ": chunk record rank mismatch");
                for (size_t d = 0; d < g.dims.size(); ++d) {
                    if (record.offset[d] % g.chunk[d] != 0) {
                        throw_format_error(where, ": chunk offset ", record.offset[d], " in dimension ", d,
                                           " is not a multiple of the chunk size ", g.chunk[d]);
                    }
                }
                std::string chunk_where = concat(where, " chunk at ", format_offset(record.address));
                std::vector<uint8_t> unfiltered;
                const uint8_t* chunk_bytes;
                if (dataset.filters.empty()) {
                    chunk_bytes = file.bytes_at(record.address, g.chunk_bytes, chunk_where).data;
                } else {
                    decompressed += g.chunk_bytes;
                    if (decompressed > limits::max_decompressed_bytes) {
                        throw_limit_error(where, ": decompressed chunks exceed ", limits::max_decompressed_bytes, " bytes");
                    }
                    ByteSpan stored = file.bytes_at(record.address, record.stored_size, chunk_where);
                    unfiltered = unfilter_chunk(dataset.filters, record.filter_mask, stored, g.chunk_bytes, chunk_where);
                    chunk_bytes = unfiltered.data();
                }
                copy_chunk(g, record.offset, chunk_bytes, storage.data(), static_cast<size_t>(element_size));
            }
            return ByteSpan(storage.data(), storage.size());
        }
        case Layout::Class::virtual_storage:
            break;
    }
    throw UnsupportedError(concat(where, ": unsupported layout"));
}

}  // namespace convscope::hdf5
