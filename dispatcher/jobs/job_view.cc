#include "dispatcher/jobs/job_view.h"

#include "common/time_text.h"

namespace tsdsr::dispatcher {
namespace {

using nlohmann::json;

json TimeOrNull(std::int64_t unix_ms) { return unix_ms > 0 ? json(FormatUtc(unix_ms)) : json(nullptr); }
json TextOrNull(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }
json SizeOrNull(int width, int height) {
  return width > 0 ? json(std::to_string(width) + "x" + std::to_string(height)) : json(nullptr);
}

}  // namespace

std::string JobUrl(const std::string& id) { return "/jobs/" + id; }
std::string ResultUrl(const std::string& id) { return JobUrl(id) + "/result"; }

json JobViewJson(const JobView& view, std::int64_t result_ttl_ms) {
  const JobRecord& r = view.record;
  const bool stored = r.result == ResultState::kStored;
  const std::int64_t total = r.state == JobState::kSucceeded && view.total == 0 ? 1 : view.total;
  const std::int64_t done = r.state == JobState::kSucceeded ? total : view.done;
  json out{{"id", r.id},
              {"kind", JobKindName(r.kind)},
              {"status", JobStateName(r.state)},
              {"position", view.position ? json(*view.position) : json(nullptr)},
              {"progress", {{"done", done}, {"total", total}}},
              {"created", TimeOrNull(r.created_ms)},
              {"started", TimeOrNull(r.started_ms)},
              {"finished", TimeOrNull(r.finished_ms)},
              {"filename", r.spec.filename},
              {"params",
               {{"upscale", r.spec.scale},
                {"process_size", r.spec.process_size},
                {"format", r.spec.format},
                {"priority", r.spec.priority},
                {"timeout_ms", r.spec.timeout_ms > 0 ? json(r.spec.timeout_ms) : json(nullptr)}}},
              {"input_size", SizeOrNull(r.spec.input_width, r.spec.input_height)},
              {"output_size", SizeOrNull(r.output_width, r.output_height)},
              {"worker", TextOrNull(r.worker)},
              {"attempts", r.attempts},
              {"error", TextOrNull(r.error)},
              {"error_code", TextOrNull(r.error_code)},
              {"result_url", stored ? json(ResultUrl(r.id)) : json(nullptr)},
              {"result", r.state == JobState::kSucceeded ? json(ResultStateName(r.result)) : json(nullptr)},
              {"expires", stored && result_ttl_ms > 0 ? TimeOrNull(r.finished_ms + result_ttl_ms) : json(nullptr)},
              {"url", JobUrl(r.id)}};
  if (r.kind == JobKind::kVideo) {
    out["frames_per_s"] = view.frames_per_second > 0 ? json(view.frames_per_second) : json(nullptr);
    out["eta_s"] = view.eta_seconds > 0 ? json(view.eta_seconds) : json(nullptr);
    out["chunks"] = view.chunks > 0 ? json{{"total", view.chunks}, {"stored", view.chunks_stored}} : json(nullptr);
    out["video"] = r.details.empty() ? json(nullptr) : json::parse(r.details, nullptr, false);
    out["params"]["codec"] = r.spec.codec;
    out["params"]["encoder"] = r.spec.encoder.empty() ? "software" : r.spec.encoder;
    out["params"]["crf"] = r.spec.crf >= 0 ? json(r.spec.crf) : json(nullptr);
    out["params"]["preset"] = TextOrNull(r.spec.preset);
    out["params"]["container"] = r.spec.format;
    out["params"].erase("format");
  }
  return out;
}

}  // namespace tsdsr::dispatcher
