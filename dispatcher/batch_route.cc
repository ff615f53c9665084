#include "dispatcher/batch_route.h"

#include <atomic>
#include <cmath>
#include <memory>
#include <vector>

#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/jobs/job_view.h"

namespace tsdsr::dispatcher {
namespace {

using nlohmann::json;
using Pistache::Http::ResponseWriter;
using Pistache::Rest::Request;

constexpr std::string_view kBatch = "/upscale_batch";

json ErrorEntry(const std::string& filename, const Status& status) {
  return json{{"filename", filename}, {"error", status.message()}, {"code", StatusCodeName(status.code())}};
}

json OutputEntry(const std::string& filename, const JobRecord& record, const std::string& path) {
  const double mebibytes = std::round(double(record.result_bytes) / (1 << 20) * 10000) / 10000;
  return json{{"filename", filename},
              {"temp_path", path},
              {"output_size", std::to_string(record.output_width) + "x" + std::to_string(record.output_height)},
              {"file_size_mb", mebibytes},
              {"url", ResultUrl(record.id)},
              {"id", record.id}};
}

// One batch being answered: the entries of the files refused at once, and where the others' outcomes go.
struct PendingBatch {
  std::shared_ptr<ResponseWriter> writer;
  std::vector<json> entries;           // by file; the refused ones filled in already
  std::vector<size_t> run;             // index in `entries` of each file handed to the jobs layer
  std::vector<std::string> filenames;  // by file
  std::atomic<std::uint64_t> handle{0};
};

json Answer(const PendingBatch& batch) {
  int successful = 0;
  for (const json& entry : batch.entries) successful += entry.contains("url") ? 1 : 0;
  const int total = static_cast<int>(batch.entries.size());
  return json{{"results", batch.entries}, {"total", total}, {"successful", successful}, {"failed", total - successful}};
}

}  // namespace

void BatchRoute::Register(Pistache::Rest::Router& router) {
  Pistache::Rest::Routes::Post(router, std::string(kBatch), Pistache::Rest::Routes::bind(&BatchRoute::Upscale, this));
}

void BatchRoute::Upscale(const Request& request, ResponseWriter response) {
  if (context_.RefuseWhileDraining(kBatch, response)) return;
  auto query = ParseUpscaleQuery([&](const std::string& name) { return request.query().get(name); },
                                 context_.defaults(), context_.pool().Snapshot().scales);
  if (!query.ok()) return context_.Reject(kBatch, response, query.status());
  auto client = context_.AdmitClient(request);
  if (!client.ok()) return context_.Reject(kBatch, response, client.status());
  const std::string body = TakeBody(response);  // each file is copied out of it; it is freed when this returns
  auto uploads = ExtractBatchUploads(ContentTypeOf(request), body, max_files_);
  if (!uploads.ok()) return context_.Reject(kBatch, response, uploads.status());

  auto batch = std::make_shared<PendingBatch>();
  std::vector<BatchFile> files;
  for (const Upload& upload : *uploads) {
    batch->filenames.push_back(upload.filename);
    batch->entries.emplace_back();
    auto probe = CheckImage(upload.bytes, context_.defaults().max_pixels);
    if (!probe.ok()) {
      batch->entries.back() = ErrorEntry(upload.filename, probe.status());
      continue;
    }
    batch->run.push_back(batch->entries.size() - 1);
    files.push_back(BatchFile{SpecOf(*query, *probe, upload.filename), std::string(upload.bytes)});
    files.back().spec.client = *client;
  }
  const auto peer = response.peer();
  batch->writer = std::make_shared<ResponseWriter>(std::move(response));
  JobManager& jobs = context_.jobs();
  const std::uint64_t token = context_.Track(peer.get(), [batch, &jobs] { jobs.CancelBatch(batch->handle.load()); });
  batch->handle = jobs.RunBatch(
      std::move(files), [this, batch, key = peer.get(), token, &jobs](std::vector<BatchFileOutcome> outcomes) {
        context_.Untrack(key, token);
        for (size_t i = 0; i < outcomes.size(); ++i) {
          const size_t entry = batch->run[i];
          const std::string& name = batch->filenames[entry];
          batch->entries[entry] = outcomes[i].status.ok()
                                      ? OutputEntry(name, outcomes[i].record, jobs.OutputPath(outcomes[i].record.id))
                                      : ErrorEntry(name, outcomes[i].status);
        }
        context_.Count(kBatch, 200);
        SendJson(*batch->writer, Pistache::Http::Code::Ok, Answer(*batch));
      });
}

}  // namespace tsdsr::dispatcher
