// Identifies an encoded image by its magic bytes and checks its structure cheaply (headers, chunk/segment
// walks, PNG CRCs) without decoding pixels, so that truncated or corrupt uploads are refused before they
// reach a worker. Pure byte parsing, no OpenCV: safe on hostile input.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace tsdsr {

enum class ImageFormat { kUnknown, kPng, kJpeg, kWebp, kBmp, kTiff };

struct ImageProbe {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;   // pixels, > 0 when probed successfully
  int height = 0;  // pixels, > 0 when probed successfully
};

// Identifies `bytes` by signature (never by a content type) and reads the dimensions from the header.
// PNG: every chunk bounds- and CRC-checked, IHDR first, >= 1 IDAT, ends with IEND (bytes after IEND are
// ignored, as libpng does). JPEG: marker walk incl. entropy-coded data to EOI; the file must end with EOI
// (zero padding allowed). WebP: RIFF size and chunk walk. BMP: header sizes vs byte count, pixel array
// present. TIFF: header and IFD0 only. Returns InvalidArgument with a user-readable message otherwise.
// Reads only inside `bytes`; thread-safe.
Result<ImageProbe> ProbeImage(std::string_view bytes);

// Short lower-case name: "png", "jpeg", "webp", "bmp", "tiff", "unknown". Thread-safe.
std::string_view FormatName(ImageFormat format);

// MIME type: "image/png", "image/jpeg", ...; "application/octet-stream" for kUnknown. Thread-safe.
std::string_view ContentTypeOf(ImageFormat format);

// CRC-32 (ISO-HDLC, the one PNG and zlib use) of `bytes`; exposed for tests that build PNG chunks.
std::uint32_t Crc32(std::string_view bytes);

}  // namespace tsdsr
