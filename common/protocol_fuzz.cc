// libFuzzer target for the dispatcher ⇄ worker protocol decoder, which reads whatever a peer on the worker
// socket sends. The input is cut into frames (see SplitFrames), decoded, and the header is given to every
// typed parser. Invariants: a decoded message encodes and decodes back to itself; a header that a parser
// accepts serialises and parses back to the same value; headers that are not objects are always refused.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fuzz_check.h"
#include "common/protocol.h"

namespace tsdsr::proto {
namespace {

constexpr size_t kMaxFrames = 64;

// Frames as length-prefixed records: a byte L < 0x80 is the length; otherwise the length is
// (L & 0x7F) << 8 | the next byte. The last frame is cut short when the input ends.
std::vector<std::string> SplitFrames(std::string_view input) {
  std::vector<std::string> frames;
  size_t pos = 0;
  while (pos < input.size() && frames.size() < kMaxFrames) {
    size_t length = static_cast<unsigned char>(input[pos++]);
    if (length >= 0x80) {
      if (pos == input.size()) break;
      length = (length & 0x7F) << 8 | static_cast<unsigned char>(input[pos++]);
    }
    frames.emplace_back(input.substr(pos, length));
    pos += std::min(length, input.size() - pos);
  }
  return frames;
}

// A header that `parse` accepts must survive to_json and a second parse unchanged.
template <typename Parse>
void CheckParser(const nlohmann::json& header, Parse parse) {
  auto parsed = parse(header);
  if (!header.is_object()) {
    TSDSR_FUZZ_CHECK(!parsed.ok());
    return;
  }
  if (!parsed.ok()) {
    TSDSR_FUZZ_CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    TSDSR_FUZZ_CHECK(!parsed.status().message().empty());
    return;
  }
  const nlohmann::json written = *parsed;
  auto again = parse(written);
  TSDSR_FUZZ_CHECK(again.ok());
  TSDSR_FUZZ_CHECK(nlohmann::json(*again) == written);
}

void CheckAllParsers(const nlohmann::json& header) {
  CheckParser(header, ParseMemoryStats);
  CheckParser(header, ParseWorkerDescription);
  CheckParser(header, ParseWorkerLiveStats);
  CheckParser(header, ParseJobHeader);
  CheckParser(header, ParseProgressHeader);
  CheckParser(header, ParseResultHeader);
  CheckParser(header, ParseCancelHeader);
  CheckParser(header, ParseDisconnectHeader);
}

void FuzzOne(std::string_view input) {
  std::vector<std::string> frames = SplitFrames(input);
  if (frames.size() >= 3) {
    // Every parser also sees headers that Decode refuses (arrays, numbers, ...); they must refuse them too.
    const auto any_json = nlohmann::json::parse(frames[2], nullptr, /*allow_exceptions=*/false);
    if (!any_json.is_discarded()) CheckAllParsers(any_json);
  }
  const size_t frame_count = frames.size();
  auto decoded = Decode(frames);
  if (!decoded.ok()) {
    TSDSR_FUZZ_CHECK(decoded.status().code() == StatusCode::kInvalidArgument);
    return;
  }
  TSDSR_FUZZ_CHECK(frame_count >= 3 && frames[0] == kTag);
  TSDSR_FUZZ_CHECK(decoded->header.is_object());
  TSDSR_FUZZ_CHECK(decoded->payload.size() == frame_count - 3);
  TSDSR_FUZZ_CHECK(CommandName(decoded->command) != "UNKNOWN");
  for (size_t i = 0; i < decoded->payload.size(); ++i) TSDSR_FUZZ_CHECK(decoded->payload[i] == frames[3 + i]);

  auto again = Decode(Encode(*decoded));
  TSDSR_FUZZ_CHECK(again.ok());
  TSDSR_FUZZ_CHECK(again->command == decoded->command);
  TSDSR_FUZZ_CHECK(again->header == decoded->header);
  TSDSR_FUZZ_CHECK(again->payload == decoded->payload);
}

}  // namespace
}  // namespace tsdsr::proto

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tsdsr::proto::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
