// HDF5 reader, part 2 of 3: checksums, local heaps, v1 and v2 B-trees and
// fractal heaps (spec sections III.A-III.G). See hdf5.h for the overview.
//
// [SECTION] Checksums
// [SECTION] v1 B-trees and old-style groups
// [SECTION] v2 B-trees
// [SECTION] Fractal heaps
#include <algorithm>
#include <cstring>

#include "core/formats/hdf5_internal.h"

namespace convscope::hdf5 {

// =============================================================================
// [SECTION] Checksums
// =============================================================================

namespace {
inline uint32_t rotate_left(uint32_t value, int bits) { return (value << bits) | (value >> (32 - bits)); }
}  // namespace

// Bob Jenkins' lookup3 "hashlittle", which the spec names for all metadata
// checksums (I.B, "Checksums"). Reads bytes one at a time so alignment and
// host byte order do not matter.
uint32_t jenkins_lookup3(const uint8_t* data, size_t length, uint32_t initial) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + static_cast<uint32_t>(length) + initial;
    auto word = [](const uint8_t* p, size_t n) {
        uint32_t w = 0;
        for (size_t i = 0; i < n; ++i) w |= static_cast<uint32_t>(p[i]) << (8 * i);
        return w;
    };
    while (length > 12) {
        a += word(data, 4);
        b += word(data + 4, 4);
        c += word(data + 8, 4);
        a -= c; a ^= rotate_left(c, 4);  c += b;
        b -= a; b ^= rotate_left(a, 6);  a += c;
        c -= b; c ^= rotate_left(b, 8);  b += a;
        a -= c; a ^= rotate_left(c, 16); c += b;
        b -= a; b ^= rotate_left(a, 19); a += c;
        c -= b; c ^= rotate_left(b, 4);  b += a;
        length -= 12;
        data += 12;
    }
    if (length == 0) return c;
    a += word(data, std::min<size_t>(length, 4));
    if (length > 4) b += word(data + 4, std::min<size_t>(length - 4, 4));
    if (length > 8) c += word(data + 8, length - 8);
    c ^= b; c -= rotate_left(b, 14);
    a ^= c; a -= rotate_left(c, 11);
    b ^= a; b -= rotate_left(a, 25);
    c ^= b; c -= rotate_left(b, 16);
    a ^= c; a -= rotate_left(c, 4);
    b ^= a; b -= rotate_left(a, 14);
    c ^= b; c -= rotate_left(b, 24);
    return c;
}

void verify_checksum(ByteSpan covered, uint32_t stored, const std::string& what) {
    uint32_t computed = jenkins_lookup3(covered.data, covered.size);
    if (computed != stored) {
        throw_format_error(what, ": checksum mismatch at offset ", format_offset(covered.base_offset + covered.size),
                           ": stored 0x", std::hex, stored, ", computed 0x", computed, std::dec);
    }
}

// Fletcher-32 as the HDF5 filter computes it: big-endian 16-bit words, an odd
// trailing byte as the high half of a word.
uint32_t fletcher32(const uint8_t* data, size_t length) {
    uint32_t sum1 = 0, sum2 = 0;
    size_t words = length / 2;
    while (words) {
        size_t block = std::min<size_t>(words, 360);  // keeps the sums below 2^32
        words -= block;
        for (size_t i = 0; i < block; ++i) {
            sum1 += (static_cast<uint32_t>(data[0]) << 8) | data[1];
            sum2 += sum1;
            data += 2;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if (length % 2) {
        sum1 += static_cast<uint32_t>(*data) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    return (sum2 << 16) | sum1;
}

// =============================================================================
// [SECTION] v1 B-trees and old-style groups
// =============================================================================

namespace {

// III.A.1: "TREE", type, level, entries used, left, right, then keys and
// children interleaved (key 0, child 0, ..., key N). Calls visit(level,
// key reader positioned at key i, child address) for every child of every
// node, depth first, left to right.
void walk_btree_v1(FileImpl& file, uint64_t address, uint8_t expected_type, size_t key_size,
                   const std::function<void(int level, ByteSpan key, uint64_t child)>& visit_leaf_child,
                   const std::string& where) {
    std::set<uint64_t> visited;
    uint64_t nodes = 0;
    std::function<void(uint64_t, int)> walk = [&](uint64_t node_address, int expected_level) {
        if (!visited.insert(node_address).second) {
            throw_format_error(where, ": v1 B-tree node at ", format_offset(node_address), " is reached twice (a loop)");
        }
        if (++nodes > bounds::max_btree_nodes) throw_limit_error(where, ": v1 B-tree has too many nodes");
        std::string what = concat(where, ": v1 B-tree node at ", format_offset(node_address));
        ByteReader reader = file.reader_at(node_address, what);
        reader.expect_magic("TREE", "v1 B-tree node");
        uint8_t type = reader.u8();
        if (type != expected_type) {
            throw_format_error(what, ": expected node type ", int(expected_type), ", found ", int(type));
        }
        int level = reader.u8();
        if (expected_level >= 0 && level != expected_level) {
            throw_format_error(what, ": expected level ", expected_level, ", found ", level);
        }
        if (level > bounds::max_btree_depth) throw_format_error(what, ": level ", level, " is implausibly deep");
        uint16_t entries = reader.u16();
        file.read_address(reader);  // left sibling
        file.read_address(reader);  // right sibling
        for (uint16_t i = 0; i < entries; ++i) {
            ByteSpan key = reader.bytes(key_size);
            uint64_t child = file.read_address(reader);
            if (level > 0) {
                walk(child, level - 1);
            } else {
                visit_leaf_child(level, key, child);
            }
        }
    };
    walk(address, -1);
}

}  // namespace

std::vector<Link> read_symbol_table_group(FileImpl& file, uint64_t btree_address, uint64_t heap_address,
                                          const std::string& where) {
    // III.D Local heap: "HEAP", version 0, reserved(3), data segment size,
    // free list offset, data segment address.
    std::string heap_what = concat(where, ": local heap at ", format_offset(heap_address));
    ByteReader heap = file.reader_at(heap_address, heap_what);
    heap.expect_magic("HEAP", "local heap");
    uint8_t heap_version = heap.u8();
    if (heap_version != 0) throw_format_error(heap_what, ": expected version 0, found ", int(heap_version));
    heap.skip(3);
    uint64_t data_size = file.read_length(heap);
    file.read_length(heap);  // free list head
    uint64_t data_address = file.read_address(heap);
    ByteSpan heap_data = file.bytes_at(data_address, data_size, heap_what + " data segment");

    auto heap_string = [&](uint64_t offset) {
        if (offset >= heap_data.size) {
            throw_format_error(heap_what, ": name offset ", offset, " is past the ", heap_data.size, "-byte data segment");
        }
        const char* start = reinterpret_cast<const char*>(heap_data.data + offset);
        const void* nul = std::memchr(start, 0, heap_data.size - offset);
        if (!nul) throw_format_error(heap_what, ": name at offset ", offset, " is not null-terminated");
        return std::string(start, static_cast<const char*>(nul));
    };

    std::vector<Link> links;
    walk_btree_v1(file, btree_address, 0, file.length_size, [&](int, ByteSpan, uint64_t snod_address) {
        // III.B Symbol table node: "SNOD", version 1, reserved, symbol count, entries.
        std::string what = concat(where, ": symbol table node at ", format_offset(snod_address));
        ByteReader node = file.reader_at(snod_address, what);
        node.expect_magic("SNOD", "symbol table node");
        uint8_t version = node.u8();
        if (version != 1) throw_format_error(what, ": expected version 1, found ", int(version));
        node.skip(1);
        uint16_t symbols = node.u16();
        for (uint16_t i = 0; i < symbols; ++i) {
            // III.C Symbol table entry: name offset, header address, cache type, reserved, scratch (16).
            uint64_t name_offset = file.read_length(node);
            uint64_t header_address = file.read_address(node);
            uint32_t cache_type = node.u32();
            node.skip(4);
            ByteSpan scratch = node.bytes(16);
            if (links.size() >= bounds::max_links) throw_limit_error(where, ": more than ", bounds::max_links, " links");
            Link link;
            link.name = heap_string(name_offset);
            link.address = header_address;
            if (cache_type == 2) {
                // Soft link: the scratch pad holds the offset of its target path in the heap.
                ByteReader pad(scratch, what);
                link.kind = Link::Kind::soft;
                link.target = heap_string(pad.u32());
            }
            links.push_back(std::move(link));
        }
    }, where);
    return links;
}

void walk_chunk_btree_v1(FileImpl& file, uint64_t address, unsigned key_dims,
                         const std::function<void(ByteReader& key, uint64_t chunk_address)>& visit,
                         const std::string& where) {
    // Type 1 keys: chunk size (4), filter mask (4), key_dims offsets of 8 bytes.
    size_t key_size = 8 + 8ull * key_dims;
    walk_btree_v1(file, address, 1, key_size, [&](int, ByteSpan key, uint64_t child) {
        ByteReader key_reader(key, where);
        visit(key_reader, child);
    }, where);
}

// =============================================================================
// [SECTION] v2 B-trees
// =============================================================================

namespace {

// Bytes needed to store the number `value` (H5VM "limit_enc_size").
unsigned bytes_for_count(uint64_t value) {
    unsigned bits = 0;
    while (value >> bits && bits < 64) ++bits;  // floor(log2(value)) + 1 for value > 0
    unsigned log2_floor = bits == 0 ? 0 : bits - 1;
    return log2_floor / 8 + 1;
}

}  // namespace

unsigned walk_btree_v2(FileImpl& file, uint64_t header_address, const std::function<void(ByteSpan record)>& visit,
                       const std::string& where) {
    // III.A.2 header: "BTHD", version 0, type, node size (4), record size (2),
    // depth (2), split %, merge %, root address, root record count (2),
    // total records (L), checksum.
    std::string what = concat(where, ": v2 B-tree header at ", format_offset(header_address));
    ByteReader header = file.reader_at(header_address, what);
    header.expect_magic("BTHD", "v2 B-tree header");
    uint8_t version = header.u8();
    if (version != 0) throw_format_error(what, ": expected version 0, found ", int(version));
    uint8_t type = header.u8();
    uint32_t node_size = header.u32();
    uint16_t record_size = header.u16();
    uint16_t depth = header.u16();
    header.skip(2);
    uint64_t root = file.read_address(header);
    uint16_t root_records = header.u16();
    file.read_length(header);  // total records
    size_t covered = header.position();
    verify_checksum(header.span().subspan(0, covered, what), header.u32(), what);
    if (depth > bounds::max_btree_depth) throw_format_error(what, ": depth ", depth, " is implausibly deep");
    if (record_size == 0 || node_size < 10u + record_size) {
        throw_format_error(what, ": node size ", node_size, " cannot hold records of ", record_size, " bytes");
    }
    if (file.is_undefined(root) || root_records == 0) return type;

    // Field widths of internal nodes follow from the node and record sizes.
    std::vector<uint64_t> max_records(depth + 1), cumulative_max(depth + 1);
    std::vector<unsigned> cumulative_size(depth + 1);
    max_records[0] = (node_size - 10) / record_size;
    cumulative_max[0] = max_records[0];
    cumulative_size[0] = 0;
    unsigned records_size = bytes_for_count(max_records[0]);
    for (unsigned level = 1; level <= depth; ++level) {
        uint64_t pointer_size = file.offset_size + records_size + (level > 1 ? cumulative_size[level - 1] : 0);
        if (node_size < 10 + pointer_size) throw_format_error(what, ": node size ", node_size, " is too small");
        max_records[level] = (node_size - (10 + pointer_size)) / (record_size + pointer_size);
        uint64_t cum = cumulative_max[level - 1];
        // Saturate: only the byte width derived from it matters.
        uint64_t product = (max_records[level] + 1) > (~0ull / std::max<uint64_t>(cum, 1)) ? ~0ull
                                                                                          : (max_records[level] + 1) * cum;
        cumulative_max[level] = product > ~0ull - max_records[level] ? ~0ull : product + max_records[level];
        cumulative_size[level] = std::min(8u, bytes_for_count(cumulative_max[level]));
    }

    std::set<uint64_t> visited;
    uint64_t nodes = 0;
    std::function<void(uint64_t, uint64_t, unsigned)> walk = [&](uint64_t address, uint64_t records, unsigned level) {
        if (!visited.insert(address).second) {
            throw_format_error(what, ": node at ", format_offset(address), " is reached twice (a loop)");
        }
        if (++nodes > bounds::max_btree_nodes) throw_limit_error(what, ": too many nodes");
        std::string node_what = concat(what, ", node at ", format_offset(address));
        if (records > max_records[level]) {
            throw_format_error(node_what, ": ", records, " records exceed the node capacity of ", max_records[level]);
        }
        ByteSpan node = file.bytes_at(address, node_size, node_what);
        ByteReader reader(node, node_what);
        reader.expect_magic(level == 0 ? "BTLF" : "BTIN", level == 0 ? "v2 B-tree leaf" : "v2 B-tree internal node");
        reader.skip(1);
        uint8_t node_type = reader.u8();
        if (node_type != type) throw_format_error(node_what, ": expected record type ", int(type), ", found ", int(node_type));
        std::vector<ByteSpan> node_records;
        for (uint64_t i = 0; i < records; ++i) node_records.push_back(reader.bytes(record_size));
        if (level == 0) {
            size_t covered_bytes = reader.position();
            verify_checksum(node.subspan(0, covered_bytes, node_what), reader.u32(), node_what);
            for (ByteSpan r : node_records) visit(r);
            return;
        }
        std::vector<std::pair<uint64_t, uint64_t>> children;
        for (uint64_t i = 0; i <= records; ++i) {
            uint64_t child = file.read_address(reader);
            uint64_t child_records = reader.uint_of_size(records_size);
            if (level > 1) reader.uint_of_size(cumulative_size[level - 1]);
            children.emplace_back(child, child_records);
        }
        size_t covered_bytes = reader.position();
        verify_checksum(node.subspan(0, covered_bytes, node_what), reader.u32(), node_what);
        // In-order: child 0, record 0, child 1, ..., child N.
        for (uint64_t i = 0; i <= records; ++i) {
            walk(children[i].first, children[i].second, level - 1);
            if (i < records) visit(node_records[i]);
        }
    };
    walk(root, root_records, depth);
    return type;
}

// =============================================================================
// [SECTION] Fractal heaps
// =============================================================================

namespace {
unsigned log2_floor(uint64_t value) {
    unsigned result = 0;
    while (value > 1) {
        value >>= 1;
        ++result;
    }
    return result;
}
bool is_power_of_two(uint64_t value) { return value && !(value & (value - 1)); }
}  // namespace

FractalHeap::FractalHeap(FileImpl& file, uint64_t header_address, std::string where)
    : file_(file), where_(std::move(where)), header_address_(header_address) {
    // III.G header ("FRHP").
    std::string what = concat(where_, ": fractal heap header at ", format_offset(header_address));
    ByteReader r = file.reader_at(header_address, what);
    r.expect_magic("FRHP", "fractal heap header");
    uint8_t version = r.u8();
    if (version != 0) throw_format_error(what, ": expected version 0, found ", int(version));
    heap_id_length_ = r.u16();
    io_filter_length_ = r.u16();
    flags_ = r.u8();
    max_managed_size_ = r.u32();
    file.read_length(r);   // next huge object ID
    huge_btree_address_ = file.read_address(r);
    file.read_length(r);   // free space in managed blocks
    file.read_address(r);  // free space manager
    file.read_length(r);   // managed space
    file.read_length(r);   // allocated managed space
    file.read_length(r);   // direct block allocation iterator offset
    file.read_length(r);   // managed objects
    file.read_length(r);   // huge objects size
    file.read_length(r);   // huge objects count
    file.read_length(r);   // tiny objects size
    file.read_length(r);   // tiny objects count
    table_width_ = r.u16();
    starting_block_size_ = file.read_length(r);
    max_direct_block_size_ = file.read_length(r);
    max_heap_size_bits_ = r.u16();
    r.u16();  // starting rows in root indirect block
    root_block_address_ = file.read_address(r);
    root_rows_ = r.u16();
    if (io_filter_length_ > 0) {
        throw UnsupportedError(concat(what, ": filtered fractal heaps (I/O filter length ", io_filter_length_,
                                      ") are not supported"));
    }
    size_t covered = r.position();
    verify_checksum(r.span().subspan(0, covered, what), r.u32(), what);

    if (table_width_ == 0 || !is_power_of_two(table_width_) || !is_power_of_two(starting_block_size_) ||
        !is_power_of_two(max_direct_block_size_) || max_direct_block_size_ < starting_block_size_ ||
        max_heap_size_bits_ == 0 || max_heap_size_bits_ > 64) {
        throw_format_error(what, ": inconsistent doubling table (width ", table_width_, ", starting block ",
                           starting_block_size_, ", max direct block ", max_direct_block_size_, ", max heap bits ",
                           max_heap_size_bits_, ")");
    }
    heap_offset_size_ = (max_heap_size_bits_ + 7) / 8;
    unsigned direct_offset_size = (log2_floor(max_direct_block_size_) + 7) / 8;
    // Bytes to encode max_managed_size_ (H5VM limit_enc_size).
    unsigned managed_length_size = log2_floor(std::max<uint32_t>(max_managed_size_, 1)) / 8 + 1;
    heap_length_size_ = std::min(direct_offset_size, managed_length_size);
    max_direct_rows_ = log2_floor(max_direct_block_size_) - log2_floor(starting_block_size_) + 2;
}

ByteSpan FractalHeap::object(ByteSpan heap_id) const {
    ByteReader id(heap_id, where_ + ": heap ID");
    uint8_t first = id.u8();
    unsigned version = first >> 6;
    unsigned type = (first >> 4) & 0x03;
    if (version != 0) throw_format_error(where_, ": heap ID version ", version, " is not 0");
    if (type == 0) {
        uint64_t offset = id.uint_of_size(heap_offset_size_);
        uint64_t length = id.uint_of_size(heap_length_size_);
        return managed_object(offset, length);
    }
    if (type == 2) {
        // Tiny object stored in the ID itself; length - 1 in the low 4 bits
        // (extended form with a second length byte for long IDs).
        uint64_t length = (first & 0x0f) + 1;
        if (heap_id_length_ > 18) length = (((first & 0x0f) << 8) | id.u8()) + 1;
        return id.bytes(length);
    }
    if (type == 1) return huge_object(id);
    throw_format_error(where_, ": heap ID type ", type, " is not 0 (managed), 1 (huge) or 2 (tiny)");
}

// Objects above the heap's managed-size limit (4 KB for attribute heaps)
// are stored on their own; the ID holds their address and length when it
// is long enough, else a key into the huge-object v2 B-tree (record type 1:
// address, length, key).
ByteSpan FractalHeap::huge_object(ByteReader& id) const {
    uint64_t address, length;
    if (heap_id_length_ >= 1u + file_.offset_size + file_.length_size) {
        address = file_.read_address(id);
        length = file_.read_length(id);
    } else {
        unsigned key_size = std::min<unsigned>(heap_id_length_ - 1u, 8u);
        uint64_t key = id.uint_of_size(key_size);
        std::optional<std::pair<uint64_t, uint64_t>> found;
        walk_btree_v2(file_, huge_btree_address_, [&](ByteSpan raw) {
            ByteReader r(raw, where_);
            uint64_t record_address = file_.read_address(r);
            uint64_t record_length = file_.read_length(r);
            uint64_t record_key = file_.read_length(r);
            if (record_key == key) found = std::make_pair(record_address, record_length);
        }, where_ + ": huge object index");
        if (!found) throw_format_error(where_, ": huge object ", key, " is not in the huge object index");
        address = found->first;
        length = found->second;
    }
    return file_.bytes_at(address, length, concat(where_, ": huge object at ", format_offset(address)));
}

ByteSpan FractalHeap::managed_object(uint64_t offset, uint64_t length) const {
    std::string what = concat(where_, ": managed object at heap offset ", offset);
    uint64_t width = table_width_;
    uint64_t block_address = root_block_address_;
    uint64_t block_offset = 0;  // heap offset of the current block's start
    unsigned rows = root_rows_;
    uint64_t block_size = starting_block_size_;  // size of a direct root block
    // Descend through indirect blocks; each level strictly narrows the range,
    // and the depth is bounded by the number of rows.
    for (int depth = 0; depth < 64; ++depth) {
        if (file_.is_undefined(block_address)) {
            throw_format_error(what, ": the heap has no block covering it");
        }
        if (rows == 0) {
            // Direct block (III.G "FHDB"): signature, version, heap header
            // address, block offset, [checksum], data.
            std::string block_what = concat(what, ", direct block at ", format_offset(block_address));
            ByteSpan block = file_.bytes_at(block_address, block_size, block_what);
            ByteReader r(block, block_what);
            r.expect_magic("FHDB", "fractal heap direct block");
            uint64_t relative = offset - block_offset;
            uint64_t prefix = 5 + file_.offset_size + heap_offset_size_ + ((flags_ & 0x02) ? 4 : 0);
            if (relative < prefix || relative > block_size || length > block_size - relative) {
                throw_format_error(block_what, ": object of ", length, " bytes at block offset ", relative,
                                   " does not fit the ", block_size, "-byte block");
            }
            return block.subspan(relative, length, block_what);
        }
        // Indirect block (III.G "FHIB").
        std::string block_what = concat(what, ", indirect block at ", format_offset(block_address));
        ByteReader r = file_.reader_at(block_address, block_what);
        r.expect_magic("FHIB", "fractal heap indirect block");
        r.skip(1);
        file_.read_address(r);
        r.uint_of_size(heap_offset_size_);
        unsigned direct_rows = std::min(rows, max_direct_rows_);
        uint64_t relative = offset - block_offset;
        // Row r holds blocks of size start * 2^(r-1) (r >= 1), row 0 of size start.
        unsigned row = 0;
        uint64_t row_start = 0;
        uint64_t row_block = starting_block_size_;
        for (; row < rows; ++row) {
            row_block = row <= 1 ? starting_block_size_ : starting_block_size_ << (row - 1);
            uint64_t row_span = row_block * width;
            if (relative < row_start + row_span) break;
            row_start += row_span;
        }
        if (row >= rows) throw_format_error(block_what, ": heap offset ", offset, " is beyond its ", rows, " rows");
        uint64_t column = (relative - row_start) / row_block;
        uint64_t entry = row * width + column;
        uint64_t child_address;
        if (row < direct_rows) {
            r.skip(entry * file_.offset_size);
            child_address = file_.read_address(r);
            rows = 0;
            block_size = row_block;
        } else {
            r.skip(direct_rows * width * file_.offset_size + (entry - direct_rows * width) * file_.offset_size);
            child_address = file_.read_address(r);
            // A child indirect block spanning row_block bytes has this many rows.
            rows = log2_floor(row_block) - log2_floor(starting_block_size_ * width) + 1;
        }
        block_offset += row_start + column * row_block;
        block_address = child_address;
    }
    throw_format_error(what, ": indirect blocks nest too deeply");
}

}  // namespace convscope::hdf5
