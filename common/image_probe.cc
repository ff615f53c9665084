#include "common/image_probe.h"

#include <array>
#include <climits>
#include <cstring>
#include <string>

namespace tsdsr {
namespace {

// ---- byte helpers: every caller checks bounds before reading -------------------------------------------

std::uint32_t Byte(std::string_view b, std::size_t pos) { return static_cast<unsigned char>(b[pos]); }
std::uint32_t Be16(std::string_view b, std::size_t pos) { return Byte(b, pos) << 8 | Byte(b, pos + 1); }
std::uint32_t Be32(std::string_view b, std::size_t pos) { return Be16(b, pos) << 16 | Be16(b, pos + 2); }
std::uint32_t Le16(std::string_view b, std::size_t pos) { return Byte(b, pos) | Byte(b, pos + 1) << 8; }
std::uint32_t Le24(std::string_view b, std::size_t pos) { return Le16(b, pos) | Byte(b, pos + 2) << 16; }
std::uint32_t Le32(std::string_view b, std::size_t pos) { return Le16(b, pos) | Le16(b, pos + 2) << 16; }

bool StartsWith(std::string_view b, std::string_view prefix) { return b.substr(0, prefix.size()) == prefix; }

Status Truncated(std::string_view format, const std::string& detail) {
  return Status::InvalidArgument("truncated " + std::string(format) + " (" + detail + ")");
}
Status Corrupt(std::string_view format, const std::string& detail) {
  return Status::InvalidArgument("corrupt " + std::string(format) + " (" + detail + ")");
}

// Refuses zero or out-of-range dimensions; on success stores them in `probe`.
Status SetDimensions(std::uint64_t width, std::uint64_t height, ImageProbe* probe) {
  if (width == 0) return Status::InvalidArgument("image has zero width");
  if (height == 0) return Status::InvalidArgument("image has zero height");
  if (width > INT_MAX || height > INT_MAX) {
    return Status::InvalidArgument("image dimensions out of range (" + std::to_string(width) + "x" +
                                   std::to_string(height) + ")");
  }
  probe->width = static_cast<int>(width);
  probe->height = static_cast<int>(height);
  return Status::Ok();
}

// ---- CRC-32, slicing-by-8 with tables built at compile time --------------------------------------------

struct CrcTables {
  std::uint32_t t[8][256];
};

constexpr CrcTables MakeCrcTables() {
  CrcTables tables{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    tables.t[0][i] = c;
  }
  for (int i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) {
      tables.t[s][i] = (tables.t[s - 1][i] >> 8) ^ tables.t[0][tables.t[s - 1][i] & 0xFF];
    }
  }
  return tables;
}

constexpr CrcTables kCrc = MakeCrcTables();

// ---- PNG ------------------------------------------------------------------------------------------------

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);

bool IsChunkType(std::string_view type) {
  for (char c : type) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

// Parses the 13-byte IHDR payload into `probe`; `color_type` receives the colour type.
Status ParsePngHeader(std::string_view data, ImageProbe* probe, std::uint32_t* color_type) {
  if (data.size() != 13) return Corrupt("PNG", "IHDR chunk has the wrong length");
  std::uint32_t width = Be32(data, 0);
  std::uint32_t height = Be32(data, 4);
  if (width > 0x7FFFFFFFu || height > 0x7FFFFFFFu) return Corrupt("PNG", "dimensions out of range");
  TSDSR_RETURN_IF_ERROR(SetDimensions(width, height, probe));
  std::uint32_t depth = Byte(data, 8);
  *color_type = Byte(data, 9);
  bool valid_depth = false;
  switch (*color_type) {
    case 0: valid_depth = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16; break;
    case 3: valid_depth = depth == 1 || depth == 2 || depth == 4 || depth == 8; break;
    case 2: case 4: case 6: valid_depth = depth == 8 || depth == 16; break;
    default: return Corrupt("PNG", "invalid colour type " + std::to_string(*color_type));
  }
  if (!valid_depth) return Corrupt("PNG", "invalid bit depth " + std::to_string(depth));
  if (Byte(data, 10) != 0 || Byte(data, 11) != 0 || Byte(data, 12) > 1) {
    return Corrupt("PNG", "invalid compression, filter or interlace method");
  }
  return Status::Ok();
}

Result<ImageProbe> ProbePng(std::string_view b) {
  ImageProbe probe;
  probe.format = ImageFormat::kPng;
  bool seen_ihdr = false, seen_plte = false, seen_idat = false;
  std::uint32_t color_type = 0;
  std::size_t pos = kPngSignature.size();
  while (true) {
    std::size_t left = b.size() - pos;
    if (left == 0) return Truncated("PNG", "no IEND chunk");
    if (left < 8) return Truncated("PNG", "chunk header cut short");
    std::uint32_t length = Be32(b, pos);
    std::string_view type = b.substr(pos + 4, 4);
    if (!IsChunkType(type)) return Corrupt("PNG", "invalid chunk type at byte " + std::to_string(pos + 4));
    std::string name(type);
    if (length > 0x7FFFFFFFu) return Corrupt("PNG", name + " chunk length out of range");
    if (length > left - 8 || left - 8 - length < 4) return Truncated("PNG", name + " chunk cut short");
    if (Crc32(b.substr(pos + 4, 4 + length)) != Be32(b, pos + 8 + length)) {
      return Corrupt("PNG", "CRC mismatch in " + name + " chunk");
    }
    std::string_view data = b.substr(pos + 8, length);
    if (!seen_ihdr && name != "IHDR") return Corrupt("PNG", "first chunk is " + name + ", not IHDR");
    if (name == "IHDR") {
      if (seen_ihdr) return Corrupt("PNG", "more than one IHDR chunk");
      TSDSR_RETURN_IF_ERROR(ParsePngHeader(data, &probe, &color_type));
      seen_ihdr = true;
    } else if (name == "PLTE") {
      seen_plte = true;
    } else if (name == "IDAT") {
      seen_idat = true;
    } else if (name == "IEND") {
      if (!seen_idat) return Corrupt("PNG", "no IDAT chunk");
      if (color_type == 3 && !seen_plte) return Corrupt("PNG", "palette image without PLTE chunk");
      return probe;  // bytes after IEND are ignored, as libpng does
    }
    pos += 12 + static_cast<std::size_t>(length);
  }
}

// ---- JPEG -----------------------------------------------------------------------------------------------

bool IsFrameMarker(std::uint32_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Reads the marker at `*pos` (after optional 0xFF fill bytes) and leaves `*pos` just after it.
Result<std::uint32_t> NextJpegMarker(std::string_view b, std::size_t* pos) {
  if (*pos >= b.size()) return Truncated("JPEG", "no end-of-image marker");
  if (Byte(b, *pos) != 0xFF) return Corrupt("JPEG", "expected a marker at byte " + std::to_string(*pos));
  while (*pos < b.size() && Byte(b, *pos) == 0xFF) ++*pos;
  if (*pos >= b.size()) return Truncated("JPEG", "no end-of-image marker");
  std::uint32_t marker = Byte(b, (*pos)++);
  if (marker == 0x00) return Corrupt("JPEG", "invalid marker at byte " + std::to_string(*pos - 2));
  return marker;
}

// Skips entropy-coded scan data starting at `*pos`; leaves `*pos` on the 0xFF of the next marker.
Status SkipJpegScanData(std::string_view b, std::size_t* pos) {
  while (true) {
    std::size_t ff = b.find('\xFF', *pos);
    if (ff == std::string_view::npos || ff + 1 >= b.size()) {
      return Truncated("JPEG", "image data cut short, no end-of-image marker");
    }
    std::uint32_t next = Byte(b, ff + 1);
    if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
      *pos = ff + 2;  // stuffed 0xFF byte or restart marker: still scan data
    } else if (next == 0xFF) {
      *pos = ff + 1;  // fill byte
    } else {
      *pos = ff;
      return Status::Ok();
    }
  }
}

Status ParseJpegFrame(std::string_view segment, ImageProbe* probe) {
  if (segment.size() < 6) return Corrupt("JPEG", "frame header too short");
  std::uint32_t components = Byte(segment, 5);
  if (components == 0 || segment.size() < 6 + 3 * static_cast<std::size_t>(components)) {
    return Corrupt("JPEG", "invalid component count in frame header");
  }
  return SetDimensions(Be16(segment, 3), Be16(segment, 1), probe);
}

// After the main image's EOI: allow zero padding, or further data that itself ends with EOI (e.g. the
// extra images of an MPF file from a phone camera).
Status CheckJpegTail(std::string_view b, std::size_t pos) {
  std::size_t end = b.size();
  while (end > pos && b[end - 1] == '\0') --end;
  if (end == pos) return Status::Ok();
  if (end - pos >= 2 && Byte(b, end - 2) == 0xFF && Byte(b, end - 1) == 0xD9) return Status::Ok();
  return Corrupt("JPEG", "data after the end-of-image marker");
}

Result<ImageProbe> ProbeJpeg(std::string_view b) {
  ImageProbe probe;
  probe.format = ImageFormat::kJpeg;
  bool have_frame = false, have_scan = false;
  std::size_t pos = 2;  // after SOI
  while (true) {
    TSDSR_ASSIGN_OR_RETURN(std::uint32_t marker, NextJpegMarker(b, &pos));
    if (marker == 0xD9) {
      if (!have_frame) return Corrupt("JPEG", "no frame header before end of image");
      if (!have_scan) return Corrupt("JPEG", "no image data before end of image");
      TSDSR_RETURN_IF_ERROR(CheckJpegTail(b, pos));
      return probe;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // markers without a length
    if (marker == 0xD8) return Corrupt("JPEG", "unexpected start-of-image marker");
    if (b.size() - pos < 2) return Truncated("JPEG", "segment header cut short");
    std::size_t length = Be16(b, pos);
    if (length < 2) return Corrupt("JPEG", "invalid segment length at byte " + std::to_string(pos));
    if (length > b.size() - pos) return Truncated("JPEG", "segment cut short");
    if (IsFrameMarker(marker) && !have_frame) {
      TSDSR_RETURN_IF_ERROR(ParseJpegFrame(b.substr(pos + 2, length - 2), &probe));
      have_frame = true;
    }
    pos += length;
    if (marker == 0xDA) {
      if (!have_frame) return Corrupt("JPEG", "scan before frame header");
      have_scan = true;
      TSDSR_RETURN_IF_ERROR(SkipJpegScanData(b, &pos));
    }
  }
}

// ---- WebP -----------------------------------------------------------------------------------------------

// Reads the size of a VP8 (lossy) or VP8L (lossless) bitstream from the start of its chunk payload.
Status ParseWebpBitstream(std::string_view fourcc, std::string_view data, ImageProbe* probe) {
  if (fourcc == "VP8 ") {
    if (data.size() < 10) return Truncated("WebP", "VP8 header cut short");
    if ((Byte(data, 0) & 1) != 0) return Corrupt("WebP", "VP8 data is not a key frame");
    if (data.substr(3, 3) != std::string_view("\x9d\x01\x2a", 3)) return Corrupt("WebP", "bad VP8 start code");
    return SetDimensions(Le16(data, 6) & 0x3FFF, Le16(data, 8) & 0x3FFF, probe);
  }
  if (data.size() < 5) return Truncated("WebP", "VP8L header cut short");
  if (Byte(data, 0) != 0x2F) return Corrupt("WebP", "bad VP8L signature");
  std::uint32_t bits = Le32(data, 1);
  if ((bits >> 29) != 0) return Corrupt("WebP", "unknown VP8L version");
  return SetDimensions((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, probe);
}

Result<ImageProbe> ProbeWebp(std::string_view b) {
  if (b.size() < 12) return Truncated("WebP", "RIFF header cut short");
  std::uint64_t riff_size = Le32(b, 4);
  if (riff_size < 12) return Corrupt("WebP", "RIFF size too small");
  if (riff_size > b.size() - 8) {
    return Truncated("WebP", "RIFF header says " + std::to_string(riff_size + 8) + " bytes, file has " +
                                 std::to_string(b.size()));
  }
  ImageProbe probe, canvas;
  probe.format = canvas.format = ImageFormat::kWebp;
  bool extended = false, have_bitstream = false;
  std::size_t end = 8 + riff_size, pos = 12;
  while (pos < end) {
    if (end - pos < 8) return Corrupt("WebP", "chunk header cut short");
    std::string_view fourcc = b.substr(pos, 4);
    std::size_t size = Le32(b, pos + 4);
    if (size > end - pos - 8) return Truncated("WebP", std::string(fourcc) + " chunk cut short");
    std::string_view data = b.substr(pos + 8, size);
    bool first = pos == 12;
    if (first && fourcc == "VP8X") {
      if (size < 10) return Corrupt("WebP", "VP8X chunk too short");
      if ((Byte(data, 0) & 0x02) != 0) return Status::InvalidArgument("animated WebP is not supported");
      TSDSR_RETURN_IF_ERROR(SetDimensions(Le24(data, 4) + 1, Le24(data, 7) + 1, &canvas));
      extended = true;
    } else if ((fourcc == "VP8 " || fourcc == "VP8L") && !have_bitstream) {
      TSDSR_RETURN_IF_ERROR(ParseWebpBitstream(fourcc, data, &probe));
      have_bitstream = true;
    } else if (first) {
      return Corrupt("WebP", "first chunk is not VP8, VP8L or VP8X");
    }
    pos += 8 + size + (size & 1);  // chunks are padded to even sizes; the last pad may be missing
  }
  if (!have_bitstream) return Corrupt("WebP", "no image data");
  if (extended && (canvas.width != probe.width || canvas.height != probe.height)) {
    return Corrupt("WebP", "image size differs from canvas size");
  }
  return probe;
}

// ---- BMP ------------------------------------------------------------------------------------------------

struct BmpInfo {
  std::int64_t width = 0, height = 0;
  std::uint32_t planes = 0, bits = 0, compression = 0;
};

Result<BmpInfo> ParseBmpInfo(std::string_view b, std::uint32_t header_size) {
  BmpInfo info;
  if (header_size == 12) {  // BITMAPCOREHEADER (OS/2 1.x)
    info.width = Le16(b, 18);
    info.height = Le16(b, 20);
    info.planes = Le16(b, 22);
    info.bits = Le16(b, 24);
    return info;
  }
  info.width = static_cast<std::int32_t>(Le32(b, 18));
  info.height = static_cast<std::int32_t>(Le32(b, 22));
  info.planes = Le16(b, 26);
  info.bits = Le16(b, 28);
  if (header_size >= 20) info.compression = Le32(b, 30);
  return info;
}

Result<ImageProbe> ProbeBmp(std::string_view b) {
  if (b.size() < 18) return Truncated("BMP", "file header cut short");
  std::uint32_t header_size = Le32(b, 14);
  bool known = header_size == 12 || header_size == 16 || header_size == 40 || header_size == 52 ||
               header_size == 56 || header_size == 64 || header_size == 108 || header_size == 124;
  if (!known) return Corrupt("BMP", "unknown header size " + std::to_string(header_size));
  if (b.size() - 14 < header_size) return Truncated("BMP", "info header cut short");
  TSDSR_ASSIGN_OR_RETURN(BmpInfo info, ParseBmpInfo(b, header_size));
  if (info.planes != 1) return Corrupt("BMP", "plane count is not 1");
  if (info.bits != 1 && info.bits != 2 && info.bits != 4 && info.bits != 8 && info.bits != 16 &&
      info.bits != 24 && info.bits != 32) {
    return Corrupt("BMP", "invalid bit count " + std::to_string(info.bits));
  }
  if (info.width < 0) return Corrupt("BMP", "negative width");
  ImageProbe probe;
  probe.format = ImageFormat::kBmp;
  std::uint64_t rows = static_cast<std::uint64_t>(info.height < 0 ? -info.height : info.height);
  TSDSR_RETURN_IF_ERROR(SetDimensions(static_cast<std::uint64_t>(info.width), rows, &probe));
  std::uint64_t file_size = Le32(b, 2), offset = Le32(b, 10);
  if (offset < 14 + static_cast<std::uint64_t>(header_size)) return Corrupt("BMP", "pixel data overlaps header");
  if (offset > b.size()) return Truncated("BMP", "pixel data missing");
  if (file_size > b.size()) {
    return Truncated("BMP", "header says " + std::to_string(file_size) + " bytes, file has " +
                                std::to_string(b.size()));
  }
  if (info.compression == 0 || info.compression == 3 || info.compression == 6) {  // uncompressed rows
    std::uint64_t stride = (static_cast<std::uint64_t>(info.width) * info.bits + 31) / 32 * 4;
    if (rows > (b.size() - offset) / stride) return Truncated("BMP", "pixel data cut short");
  } else if (info.compression != 1 && info.compression != 2) {  // RLE8/RLE4 are checked by size only
    return Status::InvalidArgument("unsupported BMP compression " + std::to_string(info.compression));
  }
  return probe;
}

// ---- TIFF (header and first directory only) -------------------------------------------------------------

Result<ImageProbe> ProbeTiff(std::string_view b) {
  if (b.size() < 8) return Truncated("TIFF", "header cut short");
  bool le = b[0] == 'I';
  auto u16 = [&](std::size_t pos) { return le ? Le16(b, pos) : Be16(b, pos); };
  auto u32 = [&](std::size_t pos) { return le ? Le32(b, pos) : Be32(b, pos); };
  if (u16(2) == 43) return Status::InvalidArgument("BigTIFF is not supported");
  std::uint64_t ifd = u32(4);
  if (ifd < 8) return Corrupt("TIFF", "invalid directory offset");
  if (ifd + 2 > b.size()) return Truncated("TIFF", "first directory outside the file");
  std::uint64_t count = u16(ifd);
  if (count == 0) return Corrupt("TIFF", "empty first directory");
  if (ifd + 2 + 12 * count > b.size()) return Truncated("TIFF", "first directory cut short");
  std::uint64_t width = 0, height = 0;
  bool have_width = false, have_height = false;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::size_t entry = ifd + 2 + 12 * i;
    std::uint32_t tag = u16(entry), type = u16(entry + 2), n = u32(entry + 4);
    if ((tag != 256 && tag != 257) || n < 1) continue;
    if (type != 3 && type != 4) return Corrupt("TIFF", "invalid type for image size tag");
    std::uint64_t value = type == 3 ? u16(entry + 8) : u32(entry + 8);
    (tag == 256 ? width : height) = value;
    (tag == 256 ? have_width : have_height) = true;
  }
  if (!have_width || !have_height) return Corrupt("TIFF", "no image size in first directory");
  ImageProbe probe;
  probe.format = ImageFormat::kTiff;
  TSDSR_RETURN_IF_ERROR(SetDimensions(width, height, &probe));
  return probe;
}

}  // namespace

std::uint32_t Crc32(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  std::uint32_t crc = 0xFFFFFFFFu;
  const auto& t = kCrc.t;
  while (n >= 8) {
    std::uint32_t lo = crc ^ (p[0] | p[1] << 8 | p[2] << 16 | static_cast<std::uint32_t>(p[3]) << 24);
    std::uint32_t hi = p[4] | p[5] << 8 | p[6] << 16 | static_cast<std::uint32_t>(p[7]) << 24;
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

Result<ImageProbe> ProbeImage(std::string_view bytes) {
  if (bytes.empty()) return Status::InvalidArgument("not an image (empty file)");
  if (StartsWith(bytes, kPngSignature)) return ProbePng(bytes);
  if (StartsWith(bytes, "\xFF\xD8")) return ProbeJpeg(bytes);
  if (StartsWith(bytes, "RIFF") && (bytes.size() < 12 || bytes.substr(8, 4) == "WEBP")) return ProbeWebp(bytes);
  if (StartsWith(bytes, "BM")) return ProbeBmp(bytes);
  if (StartsWith(bytes, std::string_view("II*\0", 4)) || StartsWith(bytes, std::string_view("MM\0*", 4)) ||
      StartsWith(bytes, std::string_view("II+\0", 4)) || StartsWith(bytes, std::string_view("MM\0+", 4))) {
    return ProbeTiff(bytes);
  }
  return Status::InvalidArgument("not an image (unrecognised file signature)");
}

std::string_view FormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng: return "png";
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kWebp: return "webp";
    case ImageFormat::kBmp: return "bmp";
    case ImageFormat::kTiff: return "tiff";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

std::string_view ContentTypeOf(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng: return "image/png";
    case ImageFormat::kJpeg: return "image/jpeg";
    case ImageFormat::kWebp: return "image/webp";
    case ImageFormat::kBmp: return "image/bmp";
    case ImageFormat::kTiff: return "image/tiff";
    case ImageFormat::kUnknown: break;
  }
  return "application/octet-stream";
}

}  // namespace tsdsr
