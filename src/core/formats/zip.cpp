#include "core/formats/zip.h"

#include <atomic>
#include <climits>
#include <cstring>
#include <unordered_map>

#include <stb_image.h>

#include "core/base/crc32.h"
#include "core/base/error.h"
#include "core/base/limits.h"

namespace convscope {

// [SECTION] Records

namespace {

constexpr uint32_t local_header_signature = 0x04034b50;
constexpr uint32_t central_header_signature = 0x02014b50;
constexpr uint32_t end_record_signature = 0x06054b50;
constexpr uint32_t zip64_end_record_signature = 0x06064b50;
constexpr uint32_t zip64_locator_signature = 0x07064b50;
constexpr uint16_t zip64_extra_id = 0x0001;

constexpr size_t end_record_size = 22;
constexpr size_t zip64_locator_size = 20;
constexpr size_t zip64_end_record_size = 56;
constexpr size_t central_header_size = 46;
constexpr size_t local_header_size = 30;
constexpr size_t max_comment_size = 65535;

constexpr uint16_t method_stored = 0;
constexpr uint16_t method_deflated = 8;
constexpr uint16_t flag_data_descriptor = 1u << 3;

uint32_t load_u32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

const char* method_name(uint16_t method) {
    switch (method) {
        case 0: return "stored";
        case 1: return "shrunk";
        case 6: return "imploded";
        case 8: return "deflated";
        case 9: return "deflate64";
        case 12: return "bzip2";
        case 14: return "lzma";
        case 93: return "zstandard";
        case 95: return "xz";
        case 99: return "AES-encrypted";
        default: return "unknown";
    }
}

struct EndOfCentralDirectory {
    uint64_t entry_count = 0;
    uint64_t directory_size = 0;
    uint64_t directory_offset = 0;
    uint64_t record_offset = 0;
};

// Scans backwards for the end record; the last candidate whose comment
// length fits the file wins, as other readers do.
uint64_t find_end_record(ByteSpan file, const std::string& archive_name) {
    if (file.size < end_record_size) {
        throw_format_error(archive_name, ": ", file.size, " bytes is too short for a ZIP archive (the end of "
                           "central directory record alone is 22 bytes)");
    }
    uint64_t last_start = file.size - end_record_size;
    uint64_t first_start = last_start > max_comment_size ? last_start - max_comment_size : 0;
    for (uint64_t start = last_start + 1; start-- > first_start;) {
        const uint8_t* p = file.data + start;
        if (load_u32(p) != end_record_signature) continue;
        uint64_t comment_length = static_cast<uint64_t>(p[20]) | static_cast<uint64_t>(p[21]) << 8;
        if (start + end_record_size + comment_length <= file.size) return start;
    }
    throw_format_error(archive_name, ": no end of central directory record (signature PK\\x05\\x06) in the last ",
                       file.size - first_start, " bytes (from ", format_offset(first_start),
                       "); the file is not a ZIP archive or is truncated");
}

EndOfCentralDirectory read_end_records(ByteSpan file, const std::string& archive_name) {
    EndOfCentralDirectory end;
    end.record_offset = find_end_record(file, archive_name);
    ByteReader record(file.subspan(end.record_offset, end_record_size, archive_name), archive_name + " end record");
    record.skip(4);
    uint16_t disk = record.u16();
    uint16_t directory_disk = record.u16();
    uint16_t entries_on_disk = record.u16();
    uint16_t entries_total = record.u16();
    uint32_t directory_size = record.u32();
    uint32_t directory_offset = record.u32();
    end.entry_count = entries_total;
    end.directory_size = directory_size;
    end.directory_offset = directory_offset;

    bool has_locator = end.record_offset >= zip64_locator_size &&
                       load_u32(file.data + end.record_offset - zip64_locator_size) == zip64_locator_signature;
    if (has_locator) {
        uint64_t locator_offset = end.record_offset - zip64_locator_size;
        ByteReader locator(file.subspan(locator_offset, zip64_locator_size, archive_name),
                           archive_name + " zip64 end locator");
        locator.skip(4);
        uint32_t zip64_disk = locator.u32();
        uint64_t zip64_offset = locator.u64();
        uint32_t total_disks = locator.u32();
        if (zip64_disk != 0 || total_disks > 1) {
            throw_format_error(archive_name, ": zip64 locator at ", format_offset(locator_offset),
                               " describes a multi-disk archive (", total_disks,
                               " disks); only single-file archives are read");
        }
        if (zip64_offset > locator_offset || locator_offset - zip64_offset < zip64_end_record_size) {
            throw_format_error(archive_name, ": zip64 locator at ", format_offset(locator_offset),
                               " points to a zip64 end record at ", format_offset(zip64_offset),
                               ", which does not fit before the locator");
        }
        ByteReader zip64(file.subspan(zip64_offset, zip64_end_record_size, archive_name),
                         archive_name + " zip64 end record");
        uint32_t signature = zip64.u32();
        if (signature != zip64_end_record_signature) {
            throw_format_error(archive_name, ": expected the zip64 end of central directory signature 0x06064b50 at ",
                               format_offset(zip64_offset), ", found 0x", std::hex, signature);
        }
        zip64.skip(8 + 2 + 2);
        uint32_t disk64 = zip64.u32();
        uint32_t directory_disk64 = zip64.u32();
        uint64_t entries_on_disk64 = zip64.u64();
        uint64_t entries_total64 = zip64.u64();
        uint64_t directory_size64 = zip64.u64();
        uint64_t directory_offset64 = zip64.u64();
        if (disk64 != 0 || directory_disk64 != 0 || entries_on_disk64 != entries_total64) {
            throw_format_error(archive_name, ": zip64 end record at ", format_offset(zip64_offset),
                               " describes a multi-disk archive (disk ", disk64, ", directory on disk ",
                               directory_disk64, "); only single-file archives are read");
        }
        if (entries_total == 0xFFFF) end.entry_count = entries_total64;
        if (directory_size == 0xFFFFFFFFu) end.directory_size = directory_size64;
        if (directory_offset == 0xFFFFFFFFu) end.directory_offset = directory_offset64;
        // A writer may also fill the zip64 record while the classic fields are
        // not saturated; they must then agree.
        if (entries_total != 0xFFFF && entries_total64 != entries_total) {
            throw_format_error(archive_name, ": end record says ", entries_total, " entries, zip64 end record at ",
                               format_offset(zip64_offset), " says ", entries_total64);
        }
    } else if (disk != 0 || directory_disk != 0 || entries_on_disk != entries_total) {
        throw_format_error(archive_name, ": end record at ", format_offset(end.record_offset),
                           " describes a multi-disk archive (disk ", disk, ", directory on disk ", directory_disk,
                           "); only single-file archives are read");
    }
    uint64_t directory_limit = has_locator ? end.record_offset - zip64_locator_size : end.record_offset;
    if (end.directory_offset > directory_limit || end.directory_size > directory_limit - end.directory_offset) {
        throw_format_error(archive_name, ": central directory of ", end.directory_size, " bytes at ",
                           format_offset(end.directory_offset), " does not end before the end record at ",
                           format_offset(directory_limit), " (truncated or corrupt archive)");
    }
    if (end.entry_count > end.directory_size / central_header_size) {
        throw_format_error(archive_name, ": end record claims ", end.entry_count, " entries but the ",
                           end.directory_size, "-byte central directory can hold at most ",
                           end.directory_size / central_header_size);
    }
    return end;
}

// Applies the zip64 extended information extra field to the saturated values.
void apply_zip64_extra(ByteSpan extra, ZipEntry& entry, bool sizes_saturated_u, bool sizes_saturated_c,
                       bool offset_saturated, const std::string& where) {
    ByteReader reader(extra, where + " extra field");
    while (reader.remaining() >= 4) {
        uint16_t id = reader.u16();
        uint16_t size = reader.u16();
        ByteSpan body = reader.bytes(size);
        if (id != zip64_extra_id) continue;
        ByteReader values(body, where + " zip64 extra field");
        if (sizes_saturated_u) entry.uncompressed_size = values.u64();
        if (sizes_saturated_c) entry.compressed_size = values.u64();
        if (offset_saturated) entry.local_header_offset = values.u64();
        return;
    }
    if (sizes_saturated_u || sizes_saturated_c || offset_saturated) {
        throw_format_error(where, ": sizes or offset are 0xFFFFFFFF but there is no zip64 extra field (id 0x0001)");
    }
}

}  // namespace

// [SECTION] Archive

struct ZipArchive::State {
    FileBytes bytes;
    std::string archive_name;
    std::vector<ZipEntry> entries;
    std::unordered_map<std::string, size_t> index;
    // Total inflated so far, checked against limits::max_decompressed_bytes.
    mutable std::atomic<uint64_t> decompressed_bytes{0};
};

namespace {

void check_local_header(ByteSpan file, ZipEntry& entry, const std::string& archive_name) {
    std::string where = concat(archive_name, ": local header of '", entry.name, "' at ",
                               format_offset(entry.local_header_offset));
    if (entry.local_header_offset > file.size || file.size - entry.local_header_offset < local_header_size) {
        throw_format_error(where, " lies outside the ", file.size, "-byte file");
    }
    ByteReader header(file.subspan(entry.local_header_offset, file.size - entry.local_header_offset, where), where);
    uint32_t signature = header.u32();
    if (signature != local_header_signature) {
        throw_format_error(where, ": expected signature 0x04034b50 (PK\\x03\\x04), found 0x", std::hex, signature);
    }
    header.skip(2);
    uint16_t flags = header.u16();
    uint16_t method = header.u16();
    header.skip(4);
    uint32_t crc = header.u32();
    uint32_t compressed = header.u32();
    uint32_t uncompressed = header.u32();
    uint16_t name_length = header.u16();
    uint16_t extra_length = header.u16();
    std::string name = header.string(name_length);
    ByteSpan extra = header.bytes(extra_length);
    if (name != entry.name) {
        throw_format_error(where, ": names the member '", name, "', the central directory says '", entry.name, "'");
    }
    if (method != entry.method) {
        throw_format_error(where, ": method ", method, ", the central directory says ", entry.method);
    }
    if ((flags & 1) != (entry.flags & 1)) {
        throw_format_error(where, ": encryption flag disagrees with the central directory");
    }
    if ((flags & flag_data_descriptor) == 0) {
        ZipEntry local;
        local.compressed_size = compressed;
        local.uncompressed_size = uncompressed;
        apply_zip64_extra(extra, local, uncompressed == 0xFFFFFFFFu, compressed == 0xFFFFFFFFu, false, where);
        if (crc != entry.crc32 || local.compressed_size != entry.compressed_size ||
            local.uncompressed_size != entry.uncompressed_size) {
            throw_format_error(where, ": CRC/sizes 0x", std::hex, crc, std::dec, "/", local.compressed_size, "/",
                               local.uncompressed_size, " disagree with the central directory's 0x", std::hex,
                               entry.crc32, std::dec, "/", entry.compressed_size, "/", entry.uncompressed_size);
        }
    }
    entry.data_offset = entry.local_header_offset + header.position();
    if (entry.compressed_size > file.size - entry.data_offset) {
        throw_format_error(archive_name, ": data of '", entry.name, "' (", entry.compressed_size, " bytes at ",
                           format_offset(entry.data_offset), ") runs past the end of the ", file.size,
                           "-byte file (truncated archive?)");
    }
}

}  // namespace

ZipArchive ZipArchive::open(const FileBytes& bytes, const std::string& archive_name) {
    if (!bytes) throw Error("ZipArchive::open: no bytes");
    auto state = std::make_shared<State>();
    state->bytes = bytes;
    state->archive_name = archive_name;
    ByteSpan file(bytes->data(), bytes->size());
    EndOfCentralDirectory end = read_end_records(file, archive_name);

    ByteReader directory(file.subspan(end.directory_offset, end.directory_size, archive_name),
                         archive_name + " central directory");
    state->entries.reserve(static_cast<size_t>(end.entry_count));
    for (uint64_t i = 0; i < end.entry_count; ++i) {
        uint64_t header_offset = directory.absolute_position();
        uint32_t signature = directory.u32();
        if (signature != central_header_signature) {
            throw_format_error(archive_name, ": central directory entry ", i, " of ", end.entry_count, " at ",
                               format_offset(header_offset), ": expected signature 0x02014b50 (PK\\x01\\x02), found 0x",
                               std::hex, signature);
        }
        ZipEntry entry;
        directory.skip(4);  // versions made by / needed
        entry.flags = directory.u16();
        entry.method = directory.u16();
        directory.skip(4);  // time, date
        entry.crc32 = directory.u32();
        uint32_t compressed = directory.u32();
        uint32_t uncompressed = directory.u32();
        uint16_t name_length = directory.u16();
        uint16_t extra_length = directory.u16();
        uint16_t comment_length = directory.u16();
        uint16_t disk_start = directory.u16();
        directory.skip(2 + 4);  // attributes
        uint32_t local_offset = directory.u32();
        entry.name = directory.string(name_length);
        ByteSpan extra = directory.bytes(extra_length);
        directory.skip(comment_length);
        std::string where = concat(archive_name, ": central directory entry '", entry.name, "' at ",
                                   format_offset(header_offset));
        if (disk_start != 0 && disk_start != 0xFFFF) {
            throw_format_error(where, ": member starts on disk ", disk_start, "; only single-file archives are read");
        }
        entry.compressed_size = compressed;
        entry.uncompressed_size = uncompressed;
        entry.local_header_offset = local_offset;
        apply_zip64_extra(extra, entry, uncompressed == 0xFFFFFFFFu, compressed == 0xFFFFFFFFu,
                          local_offset == 0xFFFFFFFFu, where);
        if (entry.uncompressed_size > limits::max_decompressed_bytes) {
            throw_limit_error(where, ": declares ", entry.uncompressed_size, " uncompressed bytes; the limit is ",
                              limits::max_decompressed_bytes);
        }
        check_local_header(file, entry, archive_name);
        if (!state->index.emplace(entry.name, state->entries.size()).second) {
            throw_format_error(where, ": a second member named '", entry.name,
                               "'; an archive with duplicate names is ambiguous and is not read");
        }
        state->entries.push_back(std::move(entry));
    }
    ZipArchive archive;
    archive.state_ = std::move(state);
    return archive;
}

std::vector<std::string> ZipArchive::names() const {
    std::vector<std::string> out;
    out.reserve(state_->entries.size());
    for (const ZipEntry& entry : state_->entries) out.push_back(entry.name);
    return out;
}

const std::vector<ZipEntry>& ZipArchive::entries() const { return state_->entries; }

bool ZipArchive::contains(const std::string& name) const { return state_->index.count(name) != 0; }

const ZipEntry& ZipArchive::entry(const std::string& name) const {
    auto found = state_->index.find(name);
    if (found == state_->index.end()) {
        std::string listing;
        size_t shown = 0;
        for (const ZipEntry& entry : state_->entries) {
            if (shown == 10) {
                listing += ", ...";
                break;
            }
            listing += (shown++ ? ", " : "") + ("'" + entry.name + "'");
        }
        throw_format_error(state_->archive_name, ": no member named '", name, "'; the archive holds ",
                           state_->entries.size(), " members: ", listing.empty() ? "none" : listing);
    }
    return state_->entries[found->second];
}

ZipMemberBytes ZipArchive::view(const std::string& name) const {
    const ZipEntry& entry = this->entry(name);
    const std::string& archive_name = state_->archive_name;
    if (entry.is_encrypted()) {
        throw_format_error(archive_name, ": member '", name, "' is encrypted (method ", entry.method, ", ",
                           method_name(entry.method), "); encrypted members are not read");
    }
    ByteSpan file(state_->bytes->data(), state_->bytes->size());
    ByteSpan stored = file.subspan(entry.data_offset, entry.compressed_size, archive_name);
    ZipMemberBytes member;
    if (entry.method == method_stored) {
        if (entry.compressed_size != entry.uncompressed_size) {
            throw_format_error(archive_name, ": stored member '", name, "' at ", format_offset(entry.data_offset),
                               " has compressed size ", entry.compressed_size, " but uncompressed size ",
                               entry.uncompressed_size, "; they must be equal for method 0");
        }
        member.span = stored;
        member.owner = state_->bytes;
    } else if (entry.method == method_deflated) {
        // stb's inflater counts in int; the file limit keeps real members far below.
        if (entry.uncompressed_size >= static_cast<uint64_t>(INT_MAX) ||
            entry.compressed_size > static_cast<uint64_t>(INT_MAX) - 16) {
            throw_limit_error(archive_name, ": member '", name, "' declares ", entry.uncompressed_size,
                              " uncompressed bytes, more than one inflate call handles");
        }
        // Deflate cannot expand a stream more than 1032:1 (a 258-byte match
        // costs at least 2 bits), so a larger declared size is a lie, and
        // refusing it here keeps a tiny archive from allocating a gigabyte.
        constexpr uint64_t max_deflate_ratio = 1032;
        if (entry.uncompressed_size > entry.compressed_size * max_deflate_ratio + 64) {
            throw_format_error(archive_name, ": deflated member '", name, "' at ", format_offset(entry.data_offset),
                               " declares ", entry.uncompressed_size, " uncompressed bytes from ",
                               entry.compressed_size, " compressed; deflate expands at most ", max_deflate_ratio,
                               ":1");
        }
        uint64_t before = state_->decompressed_bytes.fetch_add(entry.uncompressed_size);
        if (before + entry.uncompressed_size > limits::max_decompressed_bytes) {
            state_->decompressed_bytes.fetch_sub(entry.uncompressed_size);
            throw_limit_error(archive_name, ": inflating '", name, "' (", entry.uncompressed_size,
                              " bytes) would take the total decompressed from this file past the limit of ",
                              limits::max_decompressed_bytes, " bytes");
        }
        // One spare byte tells "inflates to more than declared" from "fits".
        auto buffer = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(entry.uncompressed_size) + 1);
        // stb_image 2.27 refuses a Huffman code that ends within the last 16
        // bits of its input (a PNG stream always has the 4-byte Adler-32 there;
        // a ZIP member does not), so the stream gets zero padding. Bytes past
        // the final block are never decoded, so the padding cannot alter output.
        std::vector<uint8_t> padded(static_cast<size_t>(stored.size) + 8, 0);
        if (stored.size) std::memcpy(padded.data(), stored.data, stored.size);
        int produced = stbi_zlib_decode_noheader_buffer(
            reinterpret_cast<char*>(buffer->data()), static_cast<int>(buffer->size()),
            reinterpret_cast<const char*>(padded.data()), static_cast<int>(padded.size()));
        if (produced < 0) {
            throw_format_error(archive_name, ": deflated member '", name, "' (", entry.compressed_size,
                               " bytes at ", format_offset(entry.data_offset),
                               ") is not a valid deflate stream or inflates to more than the declared ",
                               entry.uncompressed_size, " bytes");
        }
        if (static_cast<uint64_t>(produced) != entry.uncompressed_size) {
            throw_format_error(archive_name, ": deflated member '", name, "' at ", format_offset(entry.data_offset),
                               " inflates to ", produced, " bytes, the central directory declares ",
                               entry.uncompressed_size);
        }
        buffer->resize(static_cast<size_t>(produced));
        member.span = ByteSpan(buffer->data(), buffer->size(), 0);
        member.owner = buffer;
    } else {
        throw_format_error(archive_name, ": member '", name, "' uses compression method ", entry.method, " (",
                           method_name(entry.method), "); only 0 (stored) and 8 (deflated) are read");
    }
    uint32_t actual_crc = crc32(member.span.data, member.span.size);
    if (actual_crc != entry.crc32) {
        throw_format_error(archive_name, ": member '", name, "' at ", format_offset(entry.data_offset),
                           " has CRC-32 0x", std::hex, actual_crc, ", the central directory declares 0x",
                           entry.crc32, std::dec, " (corrupt data)");
    }
    return member;
}

FileBytes ZipArchive::read(const std::string& name) const {
    ZipMemberBytes member = view(name);
    if (member.owner != state_->bytes) {
        // An inflated buffer is already ours alone.
        return std::static_pointer_cast<const std::vector<uint8_t>>(member.owner);
    }
    return std::make_shared<const std::vector<uint8_t>>(member.span.data, member.span.data + member.span.size);
}

std::string ZipArchive::read_text(const std::string& name) const {
    ZipMemberBytes member = view(name);
    return std::string(reinterpret_cast<const char*>(member.span.data), member.span.size);
}

bool looks_like_zip(ByteSpan bytes) {
    if (bytes.size < 4) return false;
    uint32_t signature = load_u32(bytes.data);
    return signature == local_header_signature || (signature == end_record_signature && bytes.size >= end_record_size);
}

}  // namespace convscope
