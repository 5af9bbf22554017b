// HDF5 reader, part 1 of 3: superblock, object headers, links, attributes
// and the public File/Object API. See hdf5.h for the on-disk layout read.
//
// [SECTION] FileImpl helpers
// [SECTION] Superblock
// [SECTION] Object headers
// [SECTION] Links (groups)
// [SECTION] Attributes
// [SECTION] Public API
#include "core/formats/hdf5.h"

#include <algorithm>
#include <cstring>

#include "core/base/limits.h"
#include "core/formats/hdf5_internal.h"

namespace convscope::hdf5 {

// =============================================================================
// [SECTION] FileImpl helpers
// =============================================================================

ByteReader FileImpl::reader_at(uint64_t address, const std::string& what) const {
    if (is_undefined(address) || address > span.size || base_address > span.size - address) {
        throw_format_error(what, ": address ", format_offset(address), " (base ",
                           format_offset(base_address), ") lies outside the ", span.size, "-byte file");
    }
    uint64_t absolute = base_address + address;
    return ByteReader(span.subspan(absolute, span.size - absolute, what), what);
}

ByteSpan FileImpl::bytes_at(uint64_t address, uint64_t length, const std::string& what) const {
    ByteReader reader = reader_at(address, what);
    return reader.bytes(length);
}

ByteSpan FileImpl::global_heap_object(uint64_t collection_address, uint32_t index, const std::string& where) {
    std::lock_guard<std::mutex> lock(heap_mutex_);
    auto found = global_heaps_.find(collection_address);
    if (found == global_heaps_.end()) {
        // III.E Global Heap: "GCOL", version 1, 3 reserved, collection size,
        // then objects (index, refcount, reserved, size, data padded to 8).
        std::string what = concat(where, ": global heap collection at ", format_offset(collection_address));
        ByteReader reader = reader_at(collection_address, what);
        uint64_t start = reader.absolute_position();
        reader.expect_magic("GCOL", "global heap collection");
        uint8_t version = reader.u8();
        if (version != 1) throw_format_error(what, ": expected global heap version 1, found ", int(version));
        reader.skip(3);
        uint64_t collection_size = read_length(reader);
        uint64_t header_size = reader.position();
        if (collection_size < header_size || collection_size > reader.size()) {
            throw_format_error(what, ": collection size ", collection_size, " is not within the file (",
                               reader.size(), " bytes left)");
        }
        ByteReader body(reader.span().subspan(header_size, collection_size - header_size, what), what);
        std::map<uint32_t, ByteSpan> objects;
        // Each object needs at least 16 bytes, so this loop is bounded by the collection size.
        while (body.remaining() >= 8 + length_size) {
            uint16_t object_index = body.u16();
            if (object_index == 0) break;  // free space runs to the end
            body.skip(2 + 4);
            uint64_t object_size = read_length(body);
            ByteSpan data = body.bytes(object_size);
            uint64_t padded = (object_size + 7) / 8 * 8;
            body.skip(std::min<uint64_t>(padded - object_size, body.remaining()));
            objects[object_index] = data;
        }
        (void)start;
        found = global_heaps_.emplace(collection_address, std::move(objects)).first;
    }
    auto object = found->second.find(index);
    if (object == found->second.end()) {
        throw_format_error(where, ": global heap collection at ", format_offset(collection_address),
                           " has no object with index ", index);
    }
    return object->second;
}

namespace {

// =============================================================================
// [SECTION] Superblock
// =============================================================================

// II.A: the signature is at 0 or at 512 * 2^k.
constexpr uint8_t hdf5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

std::optional<uint64_t> find_signature(ByteSpan bytes) {
    for (uint64_t offset = 0; offset + 8 <= bytes.size; offset = offset == 0 ? 512 : offset * 2) {
        if (std::memcmp(bytes.data + offset, hdf5_signature, 8) == 0) return offset;
    }
    return std::nullopt;
}

void read_superblock(FileImpl& file) {
    std::optional<uint64_t> signature_at = find_signature(file.span);
    if (!signature_at) {
        throw_format_error("HDF5: expected the signature \\x89HDF\\r\\n\\x1a\\n at offset 0 or 512*2^k, found none in ",
                           file.span.size, " bytes");
    }
    ByteReader reader(file.span.subspan(*signature_at, file.span.size - *signature_at, "HDF5 superblock"),
                      "HDF5 superblock");
    reader.skip(8);
    uint8_t version = reader.u8();
    file.superblock_version = version;
    if (version == 0 || version == 1) {
        // II.A.1 (versions 0 and 1).
        reader.skip(4);  // free-space, root symbol table, reserved, shared header versions
        file.offset_size = reader.u8();
        file.length_size = reader.u8();
        reader.skip(1);
        for (unsigned size : {file.offset_size, file.length_size}) {
            if (size != 2 && size != 4 && size != 8) {
                throw_format_error("HDF5 superblock: expected size of offsets/lengths 2, 4 or 8, found ", size,
                                   " at offset ", format_offset(*signature_at + 13));
            }
        }
        reader.skip(2 + 2 + 4);  // group leaf K, group internal K, consistency flags
        if (version == 1) reader.skip(2 + 2);  // indexed storage internal K, reserved
        file.base_address = file.read_address(reader);
        reader.skip(3 * file.offset_size);  // free space, end of file, driver info addresses
        // Root group symbol table entry: link name offset, object header address, ...
        file.read_length(reader);
        file.root_address = file.read_address(reader);
    } else if (version == 2 || version == 3) {
        // II.A.2 (versions 2 and 3).
        file.offset_size = reader.u8();
        file.length_size = reader.u8();
        for (unsigned size : {file.offset_size, file.length_size}) {
            if (size != 2 && size != 4 && size != 8) {
                throw_format_error("HDF5 superblock: expected size of offsets/lengths 2, 4 or 8, found ", size,
                                   " at offset ", format_offset(*signature_at + 9));
            }
        }
        reader.skip(1);  // consistency flags
        file.base_address = file.read_address(reader);
        file.read_address(reader);  // superblock extension: only shared-message and free-space info
        file.read_address(reader);  // end of file
        file.root_address = file.read_address(reader);
        size_t covered = reader.position();
        uint32_t stored = reader.u32();
        verify_checksum(reader.span().subspan(0, covered, "HDF5 superblock"), stored, "HDF5 superblock");
    } else {
        throw_format_error("HDF5 superblock: unsupported version ", int(version), " at offset ",
                           format_offset(*signature_at + 8), " (expected 0, 1, 2 or 3)");
    }
    if (file.base_address > file.span.size) {
        throw_format_error("HDF5 superblock: base address ", format_offset(file.base_address),
                           " is beyond the ", file.span.size, "-byte file");
    }
}

// =============================================================================
// [SECTION] Object headers
// =============================================================================

struct ObjectHeader {
    std::vector<Message> messages;
    int version = 0;
    bool attribute_creation_order_tracked = false;
};

struct HeaderBlock {
    uint64_t address;
    uint64_t length;
};

// Version 1 messages (IV.A.1.a): type(2) size(2) flags(1) reserved(3) body, 8-aligned.
void read_v1_messages(FileImpl& file, ByteSpan block, ObjectHeader& header,
                      std::vector<HeaderBlock>& continuations, const std::string& where) {
    ByteReader reader(block, where);
    while (reader.remaining() >= 8) {
        if (header.messages.size() >= bounds::max_header_messages) {
            throw_limit_error(where, ": more than ", bounds::max_header_messages, " header messages");
        }
        uint16_t type = reader.u16();
        uint16_t size = reader.u16();
        uint8_t flags = reader.u8();
        reader.skip(3);
        ByteSpan body = reader.bytes(size);
        if (type == msg_continuation) {
            ByteReader c(body, where);
            uint64_t address = file.read_address(c);
            uint64_t length = file.read_length(c);
            continuations.push_back({address, length});
        } else {
            header.messages.push_back({type, flags, body});
        }
    }
}

// Version 2 messages (IV.A.1.b): type(1) size(2) flags(1) [creation order(2)] body.
void read_v2_messages(FileImpl& file, ByteSpan block, bool has_creation_order, ObjectHeader& header,
                      std::vector<HeaderBlock>& continuations, const std::string& where) {
    ByteReader reader(block, where);
    size_t prefix = 4 + (has_creation_order ? 2 : 0);
    // Fewer bytes than a message prefix left over is the gap the spec allows.
    while (reader.remaining() >= prefix) {
        if (header.messages.size() >= bounds::max_header_messages) {
            throw_limit_error(where, ": more than ", bounds::max_header_messages, " header messages");
        }
        uint8_t type = reader.u8();
        uint16_t size = reader.u16();
        uint8_t flags = reader.u8();
        if (has_creation_order) reader.skip(2);
        ByteSpan body = reader.bytes(size);
        if (type == msg_continuation) {
            ByteReader c(body, where);
            uint64_t address = file.read_address(c);
            uint64_t length = file.read_length(c);
            continuations.push_back({address, length});
        } else {
            header.messages.push_back({type, flags, body});
        }
    }
}

ObjectHeader read_object_header(FileImpl& file, uint64_t address, const std::string& where) {
    ObjectHeader header;
    std::string what = concat(where, ": object header at ", format_offset(address));
    ByteReader reader = file.reader_at(address, what);
    std::vector<HeaderBlock> continuations;
    std::set<uint64_t> visited{address};
    bool v2_creation_order = false;

    if (reader.remaining() >= 4 && reader.span().starts_with("OHDR")) {
        // IV.A.1.b Version 2 object header.
        reader.skip(4);
        header.version = reader.u8();
        if (header.version != 2) {
            throw_format_error(what, ": expected OHDR version 2, found ", header.version);
        }
        uint8_t flags = reader.u8();
        if (flags & 0x20) reader.skip(16);  // access, modification, change, birth times
        if (flags & 0x10) reader.skip(4);   // attribute phase change values
        v2_creation_order = (flags & 0x04) != 0;
        header.attribute_creation_order_tracked = v2_creation_order;
        uint64_t chunk_size = reader.uint_of_size(1u << (flags & 0x03));
        ByteSpan chunk = reader.bytes(chunk_size);
        size_t covered = reader.position();
        uint32_t stored = reader.u32();
        verify_checksum(reader.span().subspan(0, covered, what), stored, what);
        read_v2_messages(file, chunk, v2_creation_order, header, continuations, what);
    } else {
        // IV.A.1.a Version 1 object header.
        header.version = reader.u8();
        if (header.version != 1) {
            throw_format_error(what, ": expected object header version 1 or an OHDR signature, found version byte ",
                               header.version);
        }
        reader.skip(1);
        reader.u16();  // message count (includes continuation blocks; not needed to parse)
        reader.u32();  // reference count
        uint32_t header_size = reader.u32();
        reader.skip(4);  // alignment padding to 16 bytes
        ByteSpan chunk = reader.bytes(header_size);
        read_v1_messages(file, chunk, header, continuations, what);
    }

    for (size_t i = 0; i < continuations.size(); ++i) {
        if (i >= bounds::max_continuation_blocks) {
            throw_limit_error(what, ": more than ", bounds::max_continuation_blocks, " continuation blocks");
        }
        HeaderBlock block = continuations[i];
        if (!visited.insert(block.address).second) {
            throw_format_error(what, ": continuation block at ", format_offset(block.address),
                               " is referenced twice (a cycle)");
        }
        std::string block_what = concat(what, ", continuation block at ", format_offset(block.address));
        ByteSpan bytes = file.bytes_at(block.address, block.length, block_what);
        if (header.version == 1) {
            read_v1_messages(file, bytes, header, continuations, block_what);
        } else {
            ByteReader r(bytes, block_what);
            r.expect_magic("OCHK", "object header continuation");
            if (block.length < 8) throw_format_error(block_what, ": block of ", block.length, " bytes is too short");
            ByteSpan body = bytes.subspan(4, block.length - 8, block_what);
            r.seek(block.length - 4);
            uint32_t stored = r.u32();
            verify_checksum(bytes.subspan(0, block.length - 4, block_what), stored, block_what);
            read_v2_messages(file, body, v2_creation_order, header, continuations, block_what);
        }
    }

    for (const Message& message : header.messages) {
        // Flag bit 7: "fail if unknown" (any access). We know every message
        // type up to 0x18 well enough to ignore the ones we do not need.
        if ((message.flags & 0x80) && message.type > msg_reference_count + 2) {
            throw UnsupportedError(concat(what, ": message type ", message.type,
                                          " is marked must-understand and is not supported"));
        }
    }
    return header;
}

const Message* find_message(const ObjectHeader& header, uint16_t type) {
    for (const Message& m : header.messages) {
        if (m.type == type) return &m;
    }
    return nullptr;
}

// Shared messages (IV.A.2.*, "shared message" encoding) point to another
// object header that holds the real message; only committed datatypes use
// this in files h5py and Keras write.
ByteSpan resolve_shared(FileImpl& file, const Message& message, const std::string& where, int depth);

// =============================================================================
// [SECTION] Links (groups)
// =============================================================================

// IV.A.2.g Link message (also the encoding of links in dense storage).
Link parse_link(FileImpl& file, ByteSpan body, const std::string& where) {
    ByteReader reader(body, where);
    uint8_t version = reader.u8();
    if (version != 1) throw_format_error(where, ": expected link message version 1, found ", int(version));
    uint8_t flags = reader.u8();
    Link link;
    uint8_t link_type = 0;
    if (flags & 0x08) link_type = reader.u8();
    if (flags & 0x04) {
        link.has_creation_order = true;
        link.creation_order = reader.i64();
    }
    if (flags & 0x10) reader.u8();  // character set
    uint64_t name_length = reader.uint_of_size(1u << (flags & 0x03));
    link.name = reader.string(name_length);
    if (link_type == 0) {
        link.kind = Link::Kind::hard;
        link.address = file.read_address(reader);
    } else if (link_type == 1) {
        link.kind = Link::Kind::soft;
        link.target = reader.string(reader.u16());
    } else if (link_type == 64) {
        link.kind = Link::Kind::external;
        uint16_t length = reader.u16();
        ByteSpan info = reader.bytes(length);
        // version/flags byte, then two null-terminated strings: file, object path.
        std::string text(reinterpret_cast<const char*>(info.data), info.size);
        if (!text.empty()) text.erase(0, 1);
        size_t nul = text.find('\0');
        link.target = nul == std::string::npos ? text : text.substr(0, nul) + ":" + text.substr(nul + 1);
        while (!link.target.empty() && link.target.back() == '\0') link.target.pop_back();
    } else {
        throw UnsupportedError(concat(where, ": link '", link.name, "' has unsupported link type ", int(link_type)));
    }
    return link;
}

struct LinkInfo {
    bool creation_order_tracked = false;
    uint64_t fractal_heap = ~0ull;
    uint64_t name_index = ~0ull;
};

// IV.A.2.c Link Info message.
LinkInfo parse_link_info(FileImpl& file, ByteSpan body, const std::string& where) {
    ByteReader reader(body, where);
    uint8_t version = reader.u8();
    if (version != 0) throw_format_error(where, ": expected link info version 0, found ", int(version));
    uint8_t flags = reader.u8();
    LinkInfo info;
    info.creation_order_tracked = (flags & 0x01) != 0;
    if (flags & 0x01) reader.skip(8);
    info.fractal_heap = file.read_address(reader);
    info.name_index = file.read_address(reader);
    return info;
}

void sort_links(std::vector<Link>& links, bool by_creation_order) {
    if (by_creation_order) {
        std::stable_sort(links.begin(), links.end(), [](const Link& a, const Link& b) {
            return a.creation_order < b.creation_order;
        });
    } else {
        std::sort(links.begin(), links.end(), [](const Link& a, const Link& b) { return a.name < b.name; });
    }
}

bool header_is_group(const ObjectHeader& header) {
    return find_message(header, msg_symbol_table) || find_message(header, msg_link_info) ||
           find_message(header, msg_link);
}

std::vector<Link> read_links(FileImpl& file, const ObjectHeader& header, const std::string& where) {
    std::vector<Link> links;
    if (const Message* symbols = find_message(header, msg_symbol_table)) {
        // IV.A.2.r Symbol Table message: v1 B-tree address, local heap address.
        ByteReader reader(symbols->body, where);
        uint64_t btree = file.read_address(reader);
        uint64_t heap = file.read_address(reader);
        links = read_symbol_table_group(file, btree, heap, where);
        sort_links(links, false);
        return links;
    }
    bool tracked = false;
    if (const Message* info_message = find_message(header, msg_link_info)) {
        LinkInfo info = parse_link_info(file, info_message->body, where);
        tracked = info.creation_order_tracked;
        if (!file.is_undefined(info.fractal_heap)) {
            FractalHeap heap(file, info.fractal_heap, concat(where, ": link heap"));
            walk_btree_v2(file, info.name_index, [&](ByteSpan record) {
                // Type 5 record: name hash (4), heap ID.
                if (record.size < 4) throw_format_error(where, ": link name index record too short");
                if (links.size() >= bounds::max_links) {
                    throw_limit_error(where, ": more than ", bounds::max_links, " links");
                }
                ByteSpan id = record.subspan(4, record.size - 4, where);
                links.push_back(parse_link(file, heap.object(id), where));
            }, concat(where, ": link name index"));
        }
    }
    for (const Message& m : header.messages) {
        if (m.type == msg_link) links.push_back(parse_link(file, m.body, where));
    }
    sort_links(links, tracked);
    return links;
}

// =============================================================================
// [SECTION] Attributes
// =============================================================================

// IV.A.2.m Attribute message, versions 1, 2 and 3.
AttributeRecord parse_attribute(FileImpl& file, ByteSpan body, const std::string& where) {
    ByteReader reader(body, where);
    uint8_t version = reader.u8();
    if (version < 1 || version > 3) {
        throw_format_error(where, ": expected attribute message version 1, 2 or 3, found ", int(version),
                           " at offset ", format_offset(body.base_offset));
    }
    uint8_t flags = reader.u8();
    if (version >= 2 && (flags & 0x03)) {
        throw UnsupportedError(concat(where, ": attribute with a shared datatype or dataspace (flags ",
                                      int(flags), ") is not supported"));
    }
    uint16_t name_size = reader.u16();
    uint16_t datatype_size = reader.u16();
    uint16_t dataspace_size = reader.u16();
    if (version == 3) reader.u8();  // name character set
    auto padded = [version](uint64_t n) { return version == 1 ? (n + 7) / 8 * 8 : n; };
    AttributeRecord attribute;
    std::string name = reader.string(name_size);
    size_t nul = name.find('\0');
    attribute.name = nul == std::string::npos ? name : name.substr(0, nul);
    reader.skip(padded(name_size) - name_size);
    std::string attribute_where = concat(where, " attribute '", attribute.name, "'");
    ByteReader type_reader(reader.bytes(datatype_size), attribute_where);
    attribute.datatype = parse_datatype(type_reader, attribute_where);
    reader.skip(padded(datatype_size) - datatype_size);
    ByteReader space_reader(reader.bytes(dataspace_size), attribute_where);
    attribute.dataspace = parse_dataspace(space_reader, file, attribute_where);
    reader.skip(std::min<uint64_t>(padded(dataspace_size) - dataspace_size, reader.remaining()));
    attribute.data = reader.bytes(reader.remaining());
    return attribute;
}

struct AttributeInfo {
    bool creation_order_tracked = false;
    uint64_t fractal_heap = ~0ull;
    uint64_t name_index = ~0ull;
};

// IV.A.2.v Attribute Info message.
AttributeInfo parse_attribute_info(FileImpl& file, ByteSpan body, const std::string& where) {
    ByteReader reader(body, where);
    uint8_t version = reader.u8();
    if (version != 0) throw_format_error(where, ": expected attribute info version 0, found ", int(version));
    uint8_t flags = reader.u8();
    AttributeInfo info;
    info.creation_order_tracked = (flags & 0x01) != 0;
    if (flags & 0x01) reader.skip(2);
    info.fractal_heap = file.read_address(reader);
    info.name_index = file.read_address(reader);
    return info;
}

std::vector<AttributeRecord> read_attributes(FileImpl& file, const ObjectHeader& header, const std::string& where) {
    std::vector<AttributeRecord> attributes;
    // Creation order of compact attributes is the message order in the header.
    int64_t message_order = 0;
    for (const Message& m : header.messages) {
        if (m.type != msg_attribute) continue;
        AttributeRecord record = parse_attribute(file, m.body, where);
        record.has_creation_order = true;
        record.creation_order = message_order++;
        attributes.push_back(std::move(record));
    }
    bool tracked = false;
    if (const Message* info_message = find_message(header, msg_attribute_info)) {
        AttributeInfo info = parse_attribute_info(file, info_message->body, where);
        tracked = info.creation_order_tracked;
        if (!file.is_undefined(info.fractal_heap)) {
            FractalHeap heap(file, info.fractal_heap, concat(where, ": attribute heap"));
            walk_btree_v2(file, info.name_index, [&](ByteSpan record) {
                // Type 8 record: heap ID (8), message flags (1), creation order (4), name hash (4).
                ByteReader r(record, where);
                ByteSpan id = r.bytes(8);
                uint8_t message_flags = r.u8();
                uint32_t order = r.u32();
                if (message_flags & 0x02) {
                    throw UnsupportedError(concat(where, ": shared (SOHM) attributes are not supported"));
                }
                if (attributes.size() >= bounds::max_links) {
                    throw_limit_error(where, ": more than ", bounds::max_links, " attributes");
                }
                AttributeRecord attribute = parse_attribute(file, heap.object(id), where);
                attribute.has_creation_order = true;
                attribute.creation_order = order;
                attributes.push_back(std::move(attribute));
            }, concat(where, ": attribute name index"));
        }
    }
    if (tracked) {
        std::stable_sort(attributes.begin(), attributes.end(), [](const AttributeRecord& a, const AttributeRecord& b) {
            return a.creation_order < b.creation_order;
        });
    } else {
        std::sort(attributes.begin(), attributes.end(),
                  [](const AttributeRecord& a, const AttributeRecord& b) { return a.name < b.name; });
    }
    return attributes;
}

AttributeValue decode_attribute(FileImpl& file, const AttributeRecord& attribute, const std::string& where) {
    std::string attribute_where = concat(where, " attribute '", attribute.name, "'");
    const Dataspace& space = attribute.dataspace;
    Shape shape = space.kind == Dataspace::Kind::simple ? space.dims : Shape{};
    uint64_t count = space.kind == Dataspace::Kind::null ? 0 : shape_element_count(shape);
    if (is_string_type(attribute.datatype)) {
        std::vector<std::string> strings = decode_strings(file, attribute.datatype, count, attribute.data, attribute_where);
        if (space.kind == Dataspace::Kind::scalar) return strings.at(0);
        return strings;
    }
    if (space.kind == Dataspace::Kind::null) {
        return Tensor::zeros(numeric_dtype(attribute.datatype, attribute_where), Shape{0});
    }
    return decode_numeric(attribute.datatype, shape, attribute.data, attribute_where);
}

ByteSpan resolve_shared(FileImpl& file, const Message& message, const std::string& where, int depth) {
    if (!(message.flags & 0x02)) return message.body;
    if (depth > 4) throw_format_error(where, ": shared message chain is too deep");
    ByteReader reader(message.body, where);
    uint8_t version = reader.u8();
    uint8_t type = reader.u8();
    if (version == 1) reader.skip(6);
    if (version == 3 && type == 1) {
        throw UnsupportedError(concat(where, ": message stored in the shared object header message heap is not supported"));
    }
    if (version < 1 || version > 3) throw_format_error(where, ": unknown shared message version ", int(version));
    uint64_t address = file.read_address(reader);
    ObjectHeader target = read_object_header(file, address, concat(where, " (shared message target)"));
    const Message* real = find_message(target, message.type);
    if (!real) {
        throw_format_error(where, ": shared message target at ", format_offset(address), " has no message of type ",
                           message.type);
    }
    return resolve_shared(file, *real, where, depth + 1);
}

}  // namespace

// =============================================================================
// [SECTION] Public API
// =============================================================================

struct Object::State {
    std::shared_ptr<FileImpl> file;
    std::string path;
    uint64_t address = 0;
    int depth = 0;
    ObjectHeader header;
    // Links parsed once per object: child() by child() lookups over a large
    // group would otherwise re-read the whole group each time.
    mutable std::once_flag links_once;
    mutable std::vector<Link> links;

    State() = default;
    State(const State& other)
        : file(other.file), path(other.path), address(other.address), depth(other.depth), header(other.header) {}

    const std::vector<Link>& cached_links() const {
        std::call_once(links_once, [this] { links = read_links(*file, header, concat("HDF5 ", path)); });
        return links;
    }
};

namespace {

std::shared_ptr<const Object::State> open_object(const std::shared_ptr<FileImpl>& file, uint64_t address,
                                                 std::string path, int depth) {
    if (depth > limits::max_nesting_depth) {
        throw_limit_error("HDF5 ", path, ": group nesting deeper than ", limits::max_nesting_depth);
    }
    auto state = std::make_shared<Object::State>();
    state->file = file;
    state->address = address;
    state->depth = depth;
    state->header = read_object_header(*file, address, concat("HDF5 ", path));
    state->path = std::move(path);
    return state;
}

std::string join_path(const std::string& parent, const std::string& name) {
    return parent == "/" ? "/" + name : parent + "/" + name;
}

DatasetMessages dataset_messages(FileImpl& file, const ObjectHeader& header, const std::string& where) {
    DatasetMessages dataset;
    const Message* type = find_message(header, msg_datatype);
    const Message* space = find_message(header, msg_dataspace);
    const Message* layout = find_message(header, msg_layout);
    if (!type || !space || !layout) {
        throw_format_error(where, ": not a dataset (expected datatype, dataspace and layout messages; found ",
                           type ? "" : "no ", "datatype, ", space ? "" : "no ", "dataspace, ",
                           layout ? "" : "no ", "layout)");
    }
    ByteReader type_reader(resolve_shared(file, *type, where, 0), where);
    dataset.datatype = parse_datatype(type_reader, where);
    ByteReader space_reader(resolve_shared(file, *space, where, 0), where);
    dataset.dataspace = parse_dataspace(space_reader, file, where);
    ByteReader layout_reader(layout->body, where);
    dataset.layout = parse_layout(layout_reader, file, dataset.dataspace, where);
    if (const Message* pipeline = find_message(header, msg_filter_pipeline)) {
        ByteReader pipeline_reader(resolve_shared(file, *pipeline, where, 0), where);
        dataset.filters = parse_filter_pipeline(pipeline_reader, where);
    }
    // IV.A.2.f Fill Value message: unallocated chunks read as this value.
    if (const Message* fill = find_message(header, msg_fill_value)) {
        ByteReader r(resolve_shared(file, *fill, where, 0), where);
        uint8_t version = r.u8();
        bool defined = false;
        if (version == 1 || version == 2) {
            r.skip(2);  // allocation time, fill write time
            defined = r.u8() != 0;
            if (version == 1 || defined) {
                uint32_t size = r.u32();
                ByteSpan value = r.bytes(size);
                if (size > 0) dataset.fill_value = std::vector<uint8_t>(value.data, value.data + value.size);
            }
        } else if (version == 3) {
            uint8_t flags = r.u8();
            if (flags & 0x20) {
                uint32_t size = r.u32();
                ByteSpan value = r.bytes(size);
                if (size > 0) dataset.fill_value = std::vector<uint8_t>(value.data, value.data + value.size);
            }
        }
        if (dataset.fill_value && dataset.fill_value->size() != dataset.datatype.size) dataset.fill_value.reset();
    }
    return dataset;
}

}  // namespace

bool is_hdf5(ByteSpan bytes) { return find_signature(bytes).has_value(); }

File File::open(const FileBytes& bytes) {
    if (!bytes) throw Error("HDF5: no file bytes");
    if (bytes->size() > limits::max_file_bytes) {
        throw_limit_error("HDF5: file of ", bytes->size(), " bytes exceeds the limit of ", limits::max_file_bytes);
    }
    File file;
    file.impl_ = std::make_shared<FileImpl>();
    file.impl_->bytes = bytes;
    file.impl_->span = ByteSpan(bytes->data(), bytes->size());
    read_superblock(*file.impl_);
    // Parse the root now so a broken file fails at open, not at first use.
    file.root();
    return file;
}

Object File::root() const {
    return Object(open_object(impl_, impl_->root_address, "/", 0));
}

int File::superblock_version() const { return impl_->superblock_version; }

const std::string& Object::path() const { return state_->path; }
uint64_t Object::address() const { return state_->address; }

bool Object::is_group() const { return header_is_group(state_->header); }

bool Object::is_dataset() const { return find_message(state_->header, msg_layout) != nullptr; }

std::vector<std::string> Object::children() const {
    std::vector<std::string> names;
    if (!is_group()) return names;
    for (const Link& link : state_->cached_links()) names.push_back(link.name);
    return names;
}

namespace {

std::optional<Object> resolve_relative(const Object::State& from, const std::string& relative_path, int hops);

std::optional<Object> resolve_link(const Object::State& parent, const std::string& name, int hops) {
    std::string where = concat("HDF5 ", parent.path);
    if (!header_is_group(parent.header)) return std::nullopt;
    for (const Link& link : parent.cached_links()) {
        if (link.name != name) continue;
        std::string path = join_path(parent.path, name);
        if (link.kind == Link::Kind::hard) {
            return Object(open_object(parent.file, link.address, path, parent.depth + 1));
        }
        if (link.kind == Link::Kind::external) {
            throw UnsupportedError(concat("HDF5 ", path, ": external link to '", link.target, "' is not supported"));
        }
        if (hops >= limits::max_nesting_depth) {
            throw_limit_error("HDF5 ", path, ": more than ", limits::max_nesting_depth, " soft link hops");
        }
        std::optional<Object> target;
        if (!link.target.empty() && link.target[0] == '/') {
            auto root = open_object(parent.file, parent.file->root_address, "/", 0);
            target = resolve_relative(*root, link.target.substr(1), hops + 1);
        } else {
            target = resolve_relative(parent, link.target, hops + 1);
        }
        if (!target) return std::nullopt;
        // The object is known by the path it was reached through.
        auto renamed = std::make_shared<Object::State>(*target->state());
        renamed->path = path;
        renamed->depth = parent.depth + 1;
        return Object(renamed);
    }
    return std::nullopt;
}

std::optional<Object> resolve_relative(const Object::State& from, const std::string& relative_path, int hops) {
    std::shared_ptr<const Object::State> current;
    size_t start = 0;
    const Object::State* at = &from;
    std::optional<Object> result;
    while (start <= relative_path.size()) {
        size_t slash = relative_path.find('/', start);
        std::string part = relative_path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        start = slash == std::string::npos ? relative_path.size() + 1 : slash + 1;
        if (part.empty() || part == ".") continue;
        result = resolve_link(*at, part, hops);
        if (!result) return std::nullopt;
        current = result->state();
        at = current.get();
    }
    if (!result) return Object(std::make_shared<Object::State>(from));
    return result;
}

}  // namespace



std::optional<std::string> Object::soft_link_target(const std::string& name) const {
    if (!is_group()) return std::nullopt;
    for (const Link& link : state_->cached_links()) {
        if (link.name == name && link.kind == Link::Kind::soft) return link.target;
    }
    return std::nullopt;
}

Object Object::child(const std::string& name) const {
    std::optional<Object> found = resolve_link(*state_, name, 0);
    if (!found) {
        if (std::optional<std::string> target = soft_link_target(name)) {
            throw_format_error("HDF5 ", state_->path, ": soft link '", name, "' points to '", *target,
                               "', which does not exist");
        }
        throw_format_error("HDF5 ", state_->path, ": expected a child named '", name, "', found ",
                           is_group() ? "none" : "a non-group object");
    }
    return *found;
}

std::optional<Object> Object::find(const std::string& relative_path) const {
    if (!relative_path.empty() && relative_path[0] == '/') {
        auto root = open_object(state_->file, state_->file->root_address, "/", 0);
        return resolve_relative(*root, relative_path.substr(1), 0);
    }
    return resolve_relative(*state_, relative_path, 0);
}

std::vector<std::string> Object::attribute_names() const {
    std::vector<std::string> names;
    for (AttributeRecord& a : read_attributes(*state_->file, state_->header, concat("HDF5 ", state_->path))) {
        names.push_back(std::move(a.name));
    }
    return names;
}

bool Object::has_attribute(const std::string& name) const {
    for (const AttributeRecord& a : read_attributes(*state_->file, state_->header, concat("HDF5 ", state_->path))) {
        if (a.name == name) return true;
    }
    return false;
}

AttributeValue Object::attribute(const std::string& name) const {
    std::string where = concat("HDF5 ", state_->path);
    for (const AttributeRecord& a : read_attributes(*state_->file, state_->header, where)) {
        if (a.name == name) return decode_attribute(*state_->file, a, where);
    }
    throw_format_error(where, ": expected an attribute named '", name, "', found none");
}

Shape Object::shape() const {
    std::string where = concat("HDF5 ", state_->path);
    DatasetMessages dataset = dataset_messages(*state_->file, state_->header, where);
    return dataset.dataspace.kind == Dataspace::Kind::simple ? dataset.dataspace.dims : Shape{};
}

DType Object::dtype() const {
    std::string where = concat("HDF5 ", state_->path);
    DatasetMessages dataset = dataset_messages(*state_->file, state_->header, where);
    return numeric_dtype(dataset.datatype, where);
}

bool Object::is_string_dataset() const {
    if (!is_dataset()) return false;
    std::string where = concat("HDF5 ", state_->path);
    return is_string_type(dataset_messages(*state_->file, state_->header, where).datatype);
}

std::string Object::datatype_description() const {
    std::string where = concat("HDF5 ", state_->path);
    return describe_datatype(dataset_messages(*state_->file, state_->header, where).datatype);
}

std::string Object::storage_description() const {
    std::string where = concat("HDF5 ", state_->path);
    DatasetMessages dataset = dataset_messages(*state_->file, state_->header, where);
    const Layout& layout = dataset.layout;
    std::string text;
    switch (layout.layout_class) {
        case Layout::Class::compact: text = "compact"; break;
        case Layout::Class::contiguous: text = "contiguous"; break;
        case Layout::Class::virtual_storage: text = "virtual"; break;
        case Layout::Class::chunked: {
            static const char* const index_names[] = {"v1 B-tree", "single chunk", "implicit",
                                                      "fixed array", "extensible array", "v2 B-tree"};
            text = concat("chunked (", index_names[static_cast<int>(layout.index)], " index");
            for (size_t i = 0; i < dataset.filters.size(); ++i) {
                uint16_t id = dataset.filters[i].id;
                text += i == 0 ? "; " : ", ";
                text += id == 1 ? "deflate" : id == 2 ? "shuffle" : id == 3 ? "fletcher32" : concat("filter ", id);
            }
            text += ")";
            break;
        }
    }
    return text;
}

Tensor Object::read() const {
    std::string where = concat("HDF5 ", state_->path);
    FileImpl& file = *state_->file;
    DatasetMessages dataset = dataset_messages(file, state_->header, where);
    DType dtype = numeric_dtype(dataset.datatype, where);
    Shape shape = dataset.dataspace.kind == Dataspace::Kind::simple ? dataset.dataspace.dims : Shape{};
    if (dataset.dataspace.kind == Dataspace::Kind::null) return Tensor::zeros(dtype, Shape{0});
    uint64_t count = shape_element_count(shape);
    std::vector<uint8_t> storage;
    ByteSpan raw = read_dataset_bytes(file, dataset, count, storage, where);
    const Datatype& type = dataset.datatype;
    bool native_layout = !type.big_endian && type.size == dtype_size(dtype) &&
                         type.type_class != Datatype::Class::enumeration &&
                         type.bit_offset == 0 && type.bit_precision == 8 * type.size;
    if (native_layout && storage.empty()) {
        // Zero-copy: the tensor views the file bytes and keeps them alive.
        return Tensor::view(dtype, shape, raw.data, file.bytes);
    }
    return decode_numeric(type, shape, raw, where);
}

std::vector<std::string> Object::read_strings() const {
    std::string where = concat("HDF5 ", state_->path);
    FileImpl& file = *state_->file;
    DatasetMessages dataset = dataset_messages(file, state_->header, where);
    Shape shape = dataset.dataspace.kind == Dataspace::Kind::simple ? dataset.dataspace.dims : Shape{};
    uint64_t count = dataset.dataspace.kind == Dataspace::Kind::null ? 0 : shape_element_count(shape);
    std::vector<uint8_t> storage;
    ByteSpan raw = read_dataset_bytes(file, dataset, count, storage, where);
    return decode_strings(file, dataset.datatype, count, raw, where);
}

}  // namespace convscope::hdf5
