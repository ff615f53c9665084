#include "dispatcher/upscale_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/text.h"
#include "dispatcher/http/multipart.h"
#include "dispatcher/options.h"
#include "video/segment_encoder.h"

namespace tsdsr::dispatcher {
namespace {

// The media type without parameters, lower-cased: "Multipart/Form-Data; boundary=x" -> "multipart/form-data".
std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.remove_suffix(1);
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) type.remove_prefix(1);
  return AsciiLower(type);
}

Result<std::int64_t> ParseInteger(const std::string& name, const std::string& text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument(name + " must be an integer (got '" + text + "')");
  }
  return value;
}

// Other form fields a batch may carry besides its files (they are ignored).
constexpr size_t kMaxOtherFields = 16;

// " (fields sent: 'a', 'b')", or "" for a form without fields.
std::string FieldsSent(const std::vector<MultipartPart>& parts) {
  std::string names;
  for (const auto& part : parts) names += (names.empty() ? "'" : ", '") + part.name + "'";
  return names.empty() ? std::string() : " (fields sent: " + names + ")";
}

}  // namespace

Result<UpscaleQuery> ParseUpscaleQuery(const QueryLookup& query, const UpscaleDefaults& defaults,
                                       const std::set<int>& scales) {
  UpscaleQuery q;
  q.scale = defaults.scale;
  q.process_size = defaults.process_size;
  q.timeout_ms = defaults.max_timeout_ms;
  std::set<int> allowed = scales;
  if (allowed.empty()) allowed.insert(SupportedScales().begin(), SupportedScales().end());
  if (auto text = query("upscale")) {
    TSDSR_ASSIGN_OR_RETURN(std::int64_t v, ParseInteger("upscale", *text));
    if (allowed.count(static_cast<int>(v)) == 0 || v != static_cast<int>(v)) {
      return Status::InvalidArgument("upscale must be one of " + JoinNumbers(allowed) + " (got " + *text + ")");
    }
    q.scale = static_cast<int>(v);
  } else if (allowed.count(q.scale) == 0) {
    return Status::InvalidArgument("the model does not serve the default upscale " + std::to_string(q.scale) +
                                   "; pass upscale, one of " + JoinNumbers(allowed));
  }
  if (auto text = query("process_size")) {
    TSDSR_ASSIGN_OR_RETURN(std::int64_t v, ParseInteger("process_size", *text));
    if (v < 64 || v > 256) {
      return Status::InvalidArgument("process_size must be between 64 and 256 (got " + *text + ")");
    }
    q.process_size = static_cast<int>(v);
  }
  if (auto text = query("format")) {
    std::string f = AsciiLower(*text);
    if (f == "jpg") f = "jpeg";
    if (f != "png" && f != "jpeg" && f != "webp") {
      return Status::InvalidArgument("format must be png, jpeg or webp (got '" + *text + "')");
    }
    q.format = f;
  }
  if (auto text = query("timeout_ms")) {
    TSDSR_ASSIGN_OR_RETURN(std::int64_t v, ParseInteger("timeout_ms", *text));
    if (v < 1) return Status::InvalidArgument("timeout_ms must be a positive number of milliseconds");
    q.timeout_ms = std::min(v, defaults.max_timeout_ms);
  }
  if (auto text = query("priority")) {
    TSDSR_ASSIGN_OR_RETURN(std::int64_t v, ParseInteger("priority", *text));
    if (v < 0 || v > 9) return Status::InvalidArgument("priority must be between 0 and 9 (got " + *text + ")");
    q.priority = static_cast<int>(v);
  }
  return q;
}

Result<Upload> ExtractUpload(std::string_view content_type, std::string_view body) {
  if (body.empty()) {
    return Status::InvalidArgument(
        "request body is empty; send the image as multipart field 'file' or as a raw image/* body");
  }
  const std::string type = MediaType(content_type);
  if (type == "multipart/form-data") {
    TSDSR_ASSIGN_OR_RETURN(std::string boundary, MultipartBoundary(content_type));
    TSDSR_ASSIGN_OR_RETURN(auto parts, ParseMultipart(body, boundary));
    for (const auto& part : parts) {
      if (part.name != "file") continue;
      if (part.body.empty()) return Status::InvalidArgument("multipart field 'file' is empty");
      return Upload{part.body, part.filename, part.content_type};
    }
    return Status::InvalidArgument("multipart field 'file' is missing" + FieldsSent(parts));
  }
  if (type.rfind("image/", 0) == 0 || type.rfind("video/", 0) == 0 || type == "application/octet-stream") {
    return Upload{body, "", type};
  }
  return Status::UnsupportedType("unsupported Content-Type '" + std::string(content_type) +
                                 "'; send multipart/form-data with field 'file', or an image/* or video/* body");
}

Result<std::vector<Upload>> ExtractBatchUploads(std::string_view content_type, std::string_view body,
                                                size_t max_files) {
  if (MediaType(content_type) != "multipart/form-data") {
    return Status::UnsupportedType("a batch is a multipart/form-data body with one field 'files' per image (got "
                                   "Content-Type '" + std::string(content_type) + "')");
  }
  TSDSR_ASSIGN_OR_RETURN(std::string boundary, MultipartBoundary(content_type));
  TSDSR_ASSIGN_OR_RETURN(auto parts, ParseMultipart(body, boundary, std::max(max_files, size_t{1}) + kMaxOtherFields));
  std::vector<Upload> files;
  for (const auto& part : parts) {
    if (part.name == "files" || part.name == "file") files.push_back(Upload{part.body, part.filename, part.content_type});
  }
  if (files.empty()) return Status::InvalidArgument("multipart field 'files' is missing" + FieldsSent(parts));
  if (files.size() > max_files) {
    return Status::TooLarge("a batch of " + std::to_string(files.size()) + " files is over the limit of " +
                            std::to_string(max_files) + " (--max-batch-files); send it in smaller batches");
  }
  return files;
}

Result<ImageProbe> CheckImage(std::string_view image, std::int64_t max_pixels) {
  TSDSR_ASSIGN_OR_RETURN(ImageProbe probe, ProbeImage(image));
  const std::int64_t pixels = std::int64_t{probe.width} * probe.height;
  if (pixels > max_pixels) {
    return Status::TooLarge("image is " + std::to_string(probe.width) + "x" + std::to_string(probe.height) + " (" +
                            std::to_string(pixels) + " pixels); the limit is " + std::to_string(max_pixels));
  }
  return probe;
}

std::string KeepOnly(std::string body, std::string_view part) {
  const size_t offset = static_cast<size_t>(part.data() - body.data());
  body.erase(offset + part.size());
  body.erase(0, offset);
  return body;
}

Result<ImageRequest> ParseImageRequest(const QueryLookup& query, std::string_view content_type, std::string body,
                                       const UpscaleDefaults& defaults, const std::set<int>& scales) {
  ImageRequest request;
  TSDSR_ASSIGN_OR_RETURN(request.query, ParseUpscaleQuery(query, defaults, scales));
  TSDSR_ASSIGN_OR_RETURN(Upload upload, ExtractUpload(content_type, body));
  request.filename = upload.filename;
  request.image = KeepOnly(std::move(body), upload.bytes);
  TSDSR_ASSIGN_OR_RETURN(request.probe, CheckImage(request.image, defaults.max_pixels));
  return request;
}

JobSpec SpecOf(const UpscaleQuery& query, const ImageProbe& probe, const std::string& filename) {
  JobSpec spec;
  spec.scale = query.scale;
  spec.process_size = query.process_size;
  spec.format = query.format;
  spec.priority = query.priority;
  spec.input_width = probe.width;
  spec.input_height = probe.height;
  spec.filename = filename;
  return spec;
}

Status ParseVideoQuery(const QueryLookup& query, JobSpec* spec) {
  video::EncodeOptions options;  // checked as the worker will be asked to encode, the container aside
  spec->format = "mp4";
  if (auto codec = query("codec")) {
    options.codec = AsciiLower(*codec);
    if (options.codec == "h265") options.codec = "hevc";
  }
  spec->encoder = "auto";
  if (auto encoder = query("encoder")) spec->encoder = AsciiLower(*encoder);
  // "auto" is the dispatcher's choice between the families (JobManager): the software bounds hold for both.
  options.encoder = spec->encoder == "auto" ? "software" : spec->encoder;
  if (auto container = query("container")) {
    const std::string c = AsciiLower(*container);
    if (c != "mp4" && c != "mkv" && c != "matroska") {
      return Status::InvalidArgument("container must be mp4 or mkv (got '" + *container + "')");
    }
    spec->format = c == "mp4" ? "mp4" : "matroska";
  }
  if (auto crf = query("crf")) {
    TSDSR_ASSIGN_OR_RETURN(std::int64_t v, ParseInteger("crf", *crf));
    options.crf = v < 0 ? -2 : static_cast<int>(std::min<std::int64_t>(v, 1000));
  }
  if (auto preset = query("preset")) {
    if (preset->empty()) return Status::InvalidArgument("preset must be a word such as fast or medium");
    options.preset = *preset;
  }
  TSDSR_RETURN_IF_ERROR(video::ValidateEncodeOptions(options));
  spec->codec = options.codec;
  spec->crf = options.crf;
  spec->preset = options.preset;
  return Status::Ok();
}

}  // namespace tsdsr::dispatcher
