// Turns the parts of a POST /upscale request into validated job parameters, or a Status that says what
// was wrong. Pure functions of strings: no Pistache, so every rule is unit-tested directly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/image_probe.h"
#include "common/status.h"
#include "dispatcher/job.h"

namespace tsdsr::dispatcher {

// Looks up one query parameter; nullopt when absent.
using QueryLookup = std::function<std::optional<std::string>(const std::string& name)>;

struct UpscaleDefaults {
  int scale = 2;
  int process_size = 128;
  std::int64_t max_timeout_ms = 300000;  // deadline when the request sets none, and the cap on timeout_ms
  std::int64_t max_pixels = 4096LL * 4096;
};

struct UpscaleQuery {
  int scale = 2;
  int process_size = 128;
  std::string format = "png";
  std::int64_t timeout_ms = 0;
  int priority = 0;  // 0..9, higher first
};

// Reads upscale, process_size, format, timeout_ms and priority. `scales` are the factors some worker serves (the
// service's supported scales when empty). InvalidArgument naming the parameter and the allowed values.
Result<UpscaleQuery> ParseUpscaleQuery(const QueryLookup& query, const UpscaleDefaults& defaults,
                                       const std::set<int>& scales);

// The uploaded image inside a request body: the multipart field `file`, or the whole body for a raw
// image/* or application/octet-stream upload. The view points into `body`. InvalidArgument (empty body,
// no `file` field, bad multipart) or UnsupportedType (any other Content-Type).
Result<std::string_view> ExtractUpload(std::string_view content_type, std::string_view body);

// Checks that `image` is a whole, supported image within the pixel limit: InvalidArgument for anything a
// worker could not decode, TooLarge over `max_pixels`.
Result<ImageProbe> CheckImage(std::string_view image, std::int64_t max_pixels);

}  // namespace tsdsr::dispatcher
