// Turns the parts of a POST /upscale, /jobs or /upscale_batch request into validated job parameters, or a Status
// that says what was wrong. Pure functions of strings: no Pistache, so every rule is unit-tested directly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/image_probe.h"
#include "common/status.h"
#include "dispatcher/jobs/job_record.h"

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

// An uploaded file inside a request body; `bytes` points into the body.
struct Upload {
  std::string_view bytes;
  std::string filename;      // as the client named it; empty for a raw body
  std::string content_type;  // the part's or the body's, as sent
};

// The upload inside a request body: the multipart field `file`, or the whole body for a raw image/*, video/* or
// application/octet-stream upload. InvalidArgument (empty body, no `file` field, bad multipart) or
// UnsupportedType (any other Content-Type).
Result<Upload> ExtractUpload(std::string_view content_type, std::string_view body);

// The files of a batch: every multipart part named `files` or `file`, in order (other fields are ignored).
// InvalidArgument when the body is not multipart or has no such part, TooLarge above `max_files` files.
Result<std::vector<Upload>> ExtractBatchUploads(std::string_view content_type, std::string_view body,
                                                size_t max_files);

// Checks that `image` is a whole, supported image within the pixel limit: InvalidArgument for anything a
// worker could not decode, TooLarge over `max_pixels`.
Result<ImageProbe> CheckImage(std::string_view image, std::int64_t max_pixels);

// A whole single-image request (POST /upscale), validated.
struct ImageRequest {
  UpscaleQuery query;
  std::string image;     // the upload's bytes: the request body, its multipart envelope cut away in place
  std::string filename;  // the upload's
  ImageProbe probe;
};

// ParseUpscaleQuery, ExtractUpload and CheckImage in that order; the first error. Takes `body` so that the image is
// the one copy of it.
Result<ImageRequest> ParseImageRequest(const QueryLookup& query, std::string_view content_type, std::string body,
                                       const UpscaleDefaults& defaults, const std::set<int>& scales);

// `body` cut down in place to `part`, a view into it (no second copy of the bytes is made).
std::string KeepOnly(std::string body, std::string_view part);

// What a job runs: the query's parameters, the probe's size and the upload's name.
JobSpec SpecOf(const UpscaleQuery& query, const ImageProbe& probe, const std::string& filename);

// The output settings of a video job from the query: codec (h264, hevc or av1; hevc by default), crf, preset and
// container (mp4 or mkv; mp4 by default), into `spec` (format = the container's FFmpeg name). InvalidArgument
// naming the parameter and what is allowed.
Status ParseVideoQuery(const QueryLookup& query, JobSpec* spec);

}  // namespace tsdsr::dispatcher
