#include "common/protocol.h"

#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

namespace tsdsr::proto {
namespace {

using nlohmann::json;

// Reads fields of one JSON object into a struct, remembering the first error.
class FieldReader {
 public:
  FieldReader(const json& j, std::string_view what) : j_(j), what_(what) {
    if (!j_.is_object()) Fail("", "must be a JSON object");
  }

  template <typename T>
  void Required(const char* key, T& out) { Read(key, out, /*required=*/true); }
  template <typename T>
  void Optional(const char* key, T& out) { Read(key, out, /*required=*/false); }

  void Memory(const char* key, MemoryStats& out) {
    if (!status_.ok() || !j_.contains(key)) return;
    auto parsed = ParseMemoryStats(j_.at(key));
    if (!parsed.ok()) return Fail(key, parsed.status().message());
    out = *parsed;
  }

  Status status() const { return status_; }

 private:
  template <typename T>
  void Read(const char* key, T& out, bool required) {
    if (!status_.ok()) return;
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) Fail(key, "is missing");
      return;
    }
    if (!FitsIn<T>(*it)) return Fail(key, "has the wrong type or is out of range");
    try {
      out = it->template get<T>();
    } catch (const json::exception&) {
      Fail(key, "has the wrong type");
    }
  }

  // Integers must be JSON integers within T's range: converting a float such as 1e30 to an integer type is
  // undefined behaviour, and a wrapped value would be a wrong job id or slot count.
  template <typename T>
  static bool FitsIn(const json& value) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (value.is_number_unsigned()) return value.get<std::uint64_t>() <= std::uint64_t(std::numeric_limits<T>::max());
      if (value.is_number_integer()) {
        const std::int64_t v = value.get<std::int64_t>();
        return std::is_signed_v<T> ? v >= std::int64_t(std::numeric_limits<T>::min()) &&
                                         v <= std::int64_t(std::numeric_limits<T>::max())
                                   : v >= 0;
      }
      return false;
    } else if constexpr (std::is_same_v<T, std::vector<int>>) {
      if (!value.is_array()) return false;
      for (const auto& element : value) {
        if (!FitsIn<int>(element)) return false;
      }
      return true;
    } else {
      return true;  // strings, doubles, bools: get<T>() throws a json::exception on a wrong type
    }
  }

  void Fail(std::string_view key, std::string_view why) {
    if (!status_.ok()) return;
    std::string message(what_);
    if (!key.empty()) message += std::string(" field '") + std::string(key) + "'";
    status_ = Status::InvalidArgument(message + " " + std::string(why));
  }

  const json& j_;
  std::string_view what_;
  Status status_;
};

template <typename T>
Result<T> Finish(const FieldReader& reader, T value) {
  if (!reader.status().ok()) return reader.status();
  return value;
}

bool IsKnownCommand(std::uint8_t byte) {
  return byte >= static_cast<std::uint8_t>(Command::kReady) &&
         byte <= static_cast<std::uint8_t>(Command::kDisconnect);
}

}  // namespace

std::string_view CommandName(Command command) {
  switch (command) {
    case Command::kReady: return "READY";
    case Command::kHeartbeat: return "HEARTBEAT";
    case Command::kJob: return "JOB";
    case Command::kProgress: return "PROGRESS";
    case Command::kResult: return "RESULT";
    case Command::kCancel: return "CANCEL";
    case Command::kDisconnect: return "DISCONNECT";
  }
  return "UNKNOWN";
}

std::vector<std::string> Encode(const Message& message) {
  std::vector<std::string> frames;
  frames.reserve(3 + message.payload.size());
  frames.emplace_back(kTag);
  frames.emplace_back(1, static_cast<char>(message.command));
  frames.push_back(message.header.dump());
  for (const auto& p : message.payload) frames.push_back(p);
  return frames;
}

Result<Message> Decode(std::vector<std::string> frames) {
  if (frames.size() < 3) {
    return Status::InvalidArgument("message has " + std::to_string(frames.size()) +
                                   " frames; at least 3 (tag, command, header) are required");
  }
  if (frames[0] != kTag) return Status::InvalidArgument("message does not start with the protocol tag TSR1");
  if (frames[1].size() != 1 || !IsKnownCommand(static_cast<std::uint8_t>(frames[1][0]))) {
    return Status::InvalidArgument("unknown command frame");
  }
  Message message;
  message.command = static_cast<Command>(frames[1][0]);
  message.header = json::parse(frames[2], nullptr, /*allow_exceptions=*/false);
  if (message.header.is_discarded() || !message.header.is_object()) {
    return Status::InvalidArgument(std::string(CommandName(message.command)) + " header is not a JSON object");
  }
  message.payload.assign(std::make_move_iterator(frames.begin() + 3), std::make_move_iterator(frames.end()));
  return message;
}

void to_json(json& j, const MemoryStats& v) {
  j = json{{"total", v.total}, {"reserved", v.reserved}, {"allocated", v.allocated}, {"free", v.free}};
}

void to_json(json& j, const WorkerDescription& v) {
  j = json{{"id", v.id},         {"pid", v.pid},           {"host", v.host},
           {"device", v.device}, {"device_name", v.device_name},
           {"model", v.model},   {"model_name", v.model_name},
           {"scales", v.scales}, {"split_margins", v.split_margins}, {"encoders", v.encoders}, {"dtype", v.dtype},
           {"slots", v.slots}, {"memory_budget", v.memory_budget},
           {"status", v.status}, {"error", v.error},       {"memory", v.memory},
           {"version", v.version}};
}

void to_json(json& j, const WorkerLiveStats& v) {
  j = json{{"busy", v.busy},
           {"queued", v.queued},
           {"jobs_done", v.jobs_done},
           {"jobs_failed", v.jobs_failed},
           {"progress", v.progress},
           {"utilization", v.utilization},
           {"power_watts", v.power_watts},
           {"energy_joules", v.energy_joules},
           {"temperature_celsius", v.temperature_celsius},
           {"memory", v.memory}};
}

void to_json(json& j, const JobHeader& v) {
  j = json{{"job_id", v.job_id}, {"scale", v.scale},           {"process_size", v.process_size},
           {"format", v.format}, {"timeout_ms", v.timeout_ms}, {"attempt", v.attempt}, {"kind", v.kind},
           {"input_width", v.input_width}, {"input_height", v.input_height}};
  if (v.kind == kVideoChunkJob) {
    j.update({{"first_pts", v.first_pts}, {"last_pts", v.last_pts}, {"frames", v.frames}, {"codec", v.codec},
              {"encoder", v.encoder}, {"crf", v.crf}, {"preset", v.preset}, {"container", v.container}, {"tb_num", v.tb_num},
              {"tb_den", v.tb_den}, {"rate_num", v.rate_num}, {"rate_den", v.rate_den}, {"sar_num", v.sar_num},
              {"sar_den", v.sar_den}, {"color_range", v.color_range}, {"color_space", v.color_space},
              {"color_primaries", v.color_primaries}, {"color_transfer", v.color_transfer}});
  }
}

void to_json(json& j, const ProgressHeader& v) {
  j = json{{"job_id", v.job_id}, {"done", v.done}, {"total", v.total}};
}

void to_json(json& j, const ResultHeader& v) {
  j = json{{"job_id", v.job_id},
           {"status", v.status},
           {"error", v.error},
           {"input_width", v.input_width},
           {"input_height", v.input_height},
           {"output_width", v.output_width},
           {"output_height", v.output_height},
           {"content_type", v.content_type},
           {"decode_ms", v.decode_ms},
           {"compute_ms", v.compute_ms},
           {"encode_ms", v.encode_ms},
           {"frames", v.frames}};
}

void to_json(json& j, const CancelHeader& v) { j = json{{"job_id", v.job_id}}; }
void to_json(json& j, const DisconnectHeader& v) { j = json{{"reason", v.reason}}; }

Result<MemoryStats> ParseMemoryStats(const json& j) {
  MemoryStats v;
  FieldReader r(j, "memory");
  r.Optional("total", v.total);
  r.Optional("reserved", v.reserved);
  r.Optional("allocated", v.allocated);
  r.Optional("free", v.free);
  return Finish(r, v);
}

Result<WorkerDescription> ParseWorkerDescription(const json& j) {
  WorkerDescription v;
  FieldReader r(j, "READY");
  r.Required("id", v.id);
  r.Required("device", v.device);
  r.Required("scales", v.scales);
  r.Required("slots", v.slots);
  r.Optional("pid", v.pid);
  r.Optional("host", v.host);
  r.Optional("device_name", v.device_name);
  r.Optional("model", v.model);
  r.Optional("model_name", v.model_name);
  r.Optional("dtype", v.dtype);
  r.Optional("split_margins", v.split_margins);
  r.Optional("encoders", v.encoders);
  r.Optional("memory_budget", v.memory_budget);
  r.Optional("status", v.status);
  r.Optional("error", v.error);
  r.Optional("version", v.version);
  r.Memory("memory", v.memory);
  if (r.status().ok() && (v.slots < 1 || v.slots > 64)) {
    return Status::InvalidArgument("READY field 'slots' must be within 1..64");
  }
  if (r.status().ok() && !v.split_margins.empty() && v.split_margins.size() != v.scales.size()) {
    return Status::InvalidArgument("READY field 'split_margins' must have one entry per scale");
  }
  return Finish(r, v);
}

Result<WorkerLiveStats> ParseWorkerLiveStats(const json& j) {
  WorkerLiveStats v;
  FieldReader r(j, "HEARTBEAT");
  r.Optional("busy", v.busy);
  r.Optional("queued", v.queued);
  r.Optional("jobs_done", v.jobs_done);
  r.Optional("jobs_failed", v.jobs_failed);
  r.Optional("progress", v.progress);
  r.Optional("utilization", v.utilization);
  r.Optional("power_watts", v.power_watts);
  r.Optional("energy_joules", v.energy_joules);
  r.Optional("temperature_celsius", v.temperature_celsius);
  r.Memory("memory", v.memory);
  return Finish(r, v);
}

Result<JobHeader> ParseJobHeader(const json& j) {
  JobHeader v;
  FieldReader r(j, "JOB");
  r.Required("job_id", v.job_id);
  r.Required("scale", v.scale);
  r.Required("process_size", v.process_size);
  r.Optional("format", v.format);
  r.Optional("timeout_ms", v.timeout_ms);
  r.Optional("attempt", v.attempt);
  r.Optional("kind", v.kind);
  r.Optional("input_width", v.input_width);
  r.Optional("input_height", v.input_height);
  if (v.kind == kVideoChunkJob) {
    r.Required("first_pts", v.first_pts);
    r.Required("last_pts", v.last_pts);
    r.Required("frames", v.frames);
    r.Required("codec", v.codec);
    r.Optional("encoder", v.encoder);
    r.Optional("crf", v.crf);
    r.Optional("preset", v.preset);
    r.Optional("container", v.container);
    r.Required("tb_num", v.tb_num);
    r.Required("tb_den", v.tb_den);
    r.Required("rate_num", v.rate_num);
    r.Required("rate_den", v.rate_den);
    r.Optional("sar_num", v.sar_num);
    r.Optional("sar_den", v.sar_den);
    r.Optional("color_range", v.color_range);
    r.Optional("color_space", v.color_space);
    r.Optional("color_primaries", v.color_primaries);
    r.Optional("color_transfer", v.color_transfer);
    if (r.status().ok() && (v.tb_num <= 0 || v.tb_den <= 0 || v.rate_num <= 0 || v.rate_den <= 0 ||
                            v.sar_num <= 0 || v.sar_den <= 0 || v.frames <= 0 || v.last_pts < v.first_pts)) {
      return Status::InvalidArgument("JOB video chunk has a non-positive rate, time base, aspect or frame count");
    }
  } else if (r.status().ok() && v.kind != kImageJob) {
    return Status::InvalidArgument("JOB field 'kind' must be image or video_chunk");
  }
  return Finish(r, v);
}

Result<ProgressHeader> ParseProgressHeader(const json& j) {
  ProgressHeader v;
  FieldReader r(j, "PROGRESS");
  r.Required("job_id", v.job_id);
  r.Required("done", v.done);
  r.Required("total", v.total);
  return Finish(r, v);
}

Result<ResultHeader> ParseResultHeader(const json& j) {
  ResultHeader v;
  FieldReader r(j, "RESULT");
  r.Required("job_id", v.job_id);
  r.Required("status", v.status);
  r.Optional("error", v.error);
  r.Optional("input_width", v.input_width);
  r.Optional("input_height", v.input_height);
  r.Optional("output_width", v.output_width);
  r.Optional("output_height", v.output_height);
  r.Optional("content_type", v.content_type);
  r.Optional("decode_ms", v.decode_ms);
  r.Optional("compute_ms", v.compute_ms);
  r.Optional("encode_ms", v.encode_ms);
  r.Optional("frames", v.frames);
  if (r.status().ok() && !StatusCodeFromName(v.status)) {
    return Status::InvalidArgument("RESULT field 'status' is not a known status code");
  }
  return Finish(r, v);
}

Result<CancelHeader> ParseCancelHeader(const json& j) {
  CancelHeader v;
  FieldReader r(j, "CANCEL");
  r.Required("job_id", v.job_id);
  return Finish(r, v);
}

Result<DisconnectHeader> ParseDisconnectHeader(const json& j) {
  DisconnectHeader v;
  FieldReader r(j, "DISCONNECT");
  r.Optional("reason", v.reason);
  return Finish(r, v);
}

}  // namespace tsdsr::proto
