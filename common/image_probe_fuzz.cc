// libFuzzer target for ProbeImage, which inspects every uploaded image before anything decodes it.
// The probe reads libFuzzer's own buffer (no copy), so ASan reports any read past the input. Invariants: an
// accepted image has a known format and positive dimensions; the slicing-by-8 CRC-32 agrees with the
// bitwise definition.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/fuzz_check.h"
#include "common/image_probe.h"

namespace tsdsr {
namespace {

// CRC-32 (ISO-HDLC) one bit at a time: the reference for Crc32's table-driven version.
std::uint32_t BitwiseCrc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return ~crc;
}

void FuzzOne(std::string_view input) {
  auto probe = ProbeImage(input);
  if (probe.ok()) {
    TSDSR_FUZZ_CHECK(probe->format != ImageFormat::kUnknown);
    TSDSR_FUZZ_CHECK(probe->width > 0 && probe->height > 0);
    TSDSR_FUZZ_CHECK(FormatName(probe->format) != "unknown");
    TSDSR_FUZZ_CHECK(ContentTypeOf(probe->format).substr(0, 6) == "image/");
  } else {
    TSDSR_FUZZ_CHECK(probe.status().code() == StatusCode::kInvalidArgument);
    TSDSR_FUZZ_CHECK(!probe.status().message().empty());
  }
  TSDSR_FUZZ_CHECK(Crc32(input) == BitwiseCrc32(input));
}

}  // namespace
}  // namespace tsdsr

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tsdsr::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
