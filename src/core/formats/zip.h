// ZIP archive reader (Keras 3 .keras files are ZIP archives holding
// config.json, metadata.json and model.weights.h5). Read-only, from an
// untrusted byte span; members are stored (zero-copy) or deflated.
//
// On-disk layout read ("APPNOTE.TXT - .ZIP File Format Specification 6.3.10",
// section numbers in brackets), all integers little-endian:
//   1. [4.3.16] End of central directory record, found by scanning backwards
//      from the end of the file over at most 22 + 65535 bytes (the record
//      plus the longest comment): signature 0x06054b50, disk number (2),
//      disk holding the central directory (2), entries on this disk (2),
//      total entries (2), central directory size (4), central directory
//      offset (4), comment length (2), comment.
//   2. [4.3.15] Zip64 end of central directory locator, the 20 bytes right
//      before (1) when present: signature 0x07064b50, disk (4), offset of
//      the zip64 end record (8), total disks (4).
//   3. [4.3.14] Zip64 end of central directory record: signature 0x06064b50,
//      record size (8), versions (2+2), disk numbers (4+4), entries on this
//      disk (8), total entries (8), central directory size (8) and offset (8).
//      Its values replace those of (1) that are saturated (0xFFFF / 0xFFFFFFFF).
//   4. [4.3.12] Central directory file headers, one per member, 46 bytes
//      + name + extra + comment: signature 0x02014b50, versions (2+2),
//      flags (2; bit 0 encrypted, bit 3 sizes in a data descriptor, bit 11
//      UTF-8 name), method (2), time and date (2+2), CRC-32 (4), compressed
//      size (4), uncompressed size (4), name/extra/comment lengths (2+2+2),
//      disk start (2), internal/external attributes (2+4), local header offset (4).
//   5. [4.5.3] Zip64 extended information extra field (header id 0x0001),
//      holding, in this order and only for the header fields saturated at
//      0xFFFFFFFF: uncompressed size (8), compressed size (8), local header
//      offset (8), disk start (4).
//   6. [4.3.7] Local file header, 30 bytes + name + extra, then the member
//      data: signature 0x04034b50, version (2), flags (2), method (2), time
//      and date (2+2), CRC-32 (4), sizes (4+4), name and extra lengths (2+2).
//      Cross-checked against (4): name, method and encryption flag always;
//      CRC and sizes unless bit 3 defers them to a data descriptor.
//   7. [4.4.5] Methods read: 0 stored, 8 deflated (raw RFC 1951 stream,
//      inflated with stb_image's zlib decoder). Anything else, and encrypted
//      members, are rejected naming the member and the method number.
//   8. [4.4.7] CRC-32 (polynomial 0xEDB88320, reflected) of the uncompressed
//      bytes, verified on every read.
//
// Not read: multi-disk archives (rejected), central directory encryption,
// archive comments (skipped), data descriptors (not needed: sizes and CRC
// come from the central directory).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/formats/registry.h"

namespace convscope {

// True when the bytes start like a ZIP archive (a local file header, or the
// end record of an empty archive). Never throws.
bool looks_like_zip(ByteSpan bytes);

struct ZipEntry {
    std::string name;
    uint16_t method = 0;            // 0 stored, 8 deflated
    uint16_t flags = 0;
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint64_t local_header_offset = 0;
    uint64_t data_offset = 0;       // first byte of the member data in the archive

    bool is_encrypted() const { return (flags & 1) != 0; }
    bool is_directory() const { return !name.empty() && name.back() == '/'; }
};

// A member's bytes and whatever keeps them alive: the archive's bytes for a
// stored member (a zero-copy view; span.base_offset is the offset in the
// archive), or a freshly inflated buffer (span.base_offset is 0).
struct ZipMemberBytes {
    ByteSpan span;
    std::shared_ptr<const void> owner;
};

class ZipArchive {
public:
    // Reads the end record and the central directory, and cross-checks every
    // local header. `archive_name` prefixes error messages.
    static ZipArchive open(const FileBytes& bytes, const std::string& archive_name = "zip archive");

    // Member names in central directory order.
    std::vector<std::string> names() const;
    const std::vector<ZipEntry>& entries() const;
    bool contains(const std::string& name) const;
    // Throws FormatError listing the members when `name` is absent.
    const ZipEntry& entry(const std::string& name) const;

    // The member's uncompressed bytes, CRC-checked. view() does not copy
    // stored members; read() always returns an owned buffer (a copy for
    // stored members) for APIs that take FileBytes.
    ZipMemberBytes view(const std::string& name) const;
    FileBytes read(const std::string& name) const;
    std::string read_text(const std::string& name) const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace convscope
