#include "client/batch_runner.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/batch_plan.h"
#include "client/file_job.h"
#include "client/job_state.h"
#include "client/progress.h"
#include "client/request_pool.h"

namespace tsdsr::client {
namespace {

namespace fs = std::filesystem;

// Creates the output folder and refuses one that is the input folder (outputs would become inputs).
Status PrepareOutputFolder(const std::string& input_dir, const std::string& output_dir) {
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec) return Status::InvalidArgument("cannot create output folder '" + output_dir + "': " + ec.message());
  if (fs::equivalent(input_dir, output_dir, ec)) {
    return Status::InvalidArgument("--output must be another folder than '" + input_dir + "'");
  }
  return Status::Ok();
}

// Runs `plan` on a pool of `threads`; the outcomes in plan order.
Result<std::vector<FileOutcome>> RunPlan(const std::vector<PlannedFile>& plan, const JobSettings& settings, int threads,
                                         HttpClient& http, ProgressReporter& progress) {
  std::vector<FileOutcome> outcomes(plan.size());
  int needed = std::max(1, std::min<int>(threads, static_cast<int>(plan.size())));
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<RequestPool> pool, RequestPool::Create(needed, http));
  for (std::size_t i = 0; i < plan.size(); ++i) {
    pool->Submit([&, i](HttpClient& thread_http) {
      outcomes[i] = ProcessFile(thread_http, settings, plan[i]);  // each task writes its own element
      progress.OnFinished(outcomes[i]);
    });
  }
  pool->Finish();
  return outcomes;
}

}  // namespace

int DefaultConcurrency(HttpClient& http, bool* answered) {
  Result<HttpResponse> response = http.Get("/info");
  if (!response.ok()) return kFallbackConcurrency;
  *answered = true;
  nlohmann::json info = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!response->success() || !info.is_object() || !info.contains("workers") || !info["workers"].is_array()) {
    return kFallbackConcurrency;
  }
  long long slots = 0;
  for (const nlohmann::json& worker : info["workers"]) {
    if (!worker.is_object() || worker.value("status", "") != "ok") continue;
    auto it = worker.find("slots");
    if (it != worker.end() && it->is_number_integer() && it->get<long long>() > 0) slots += it->get<long long>();
  }
  constexpr long long kMaxConcurrency = 256;  // more threads than that only cost memory
  return static_cast<int>(std::clamp(slots, 1LL, kMaxConcurrency));
}

int RunBatch(const ClientOptions& options, HttpClient& http, const ClientTuning& tuning, std::ostream& out,
             std::ostream& err) {
  auto start = std::chrono::steady_clock::now();
  Result<std::vector<PlannedFile>> plan = PlanBatch(options.batch, options.output, MakeFileFilter(options.pattern),
                                                    options.recursive,
                                                    {OutputExtension(options.format), VideoOutputExtension(options.container)});
  if (plan.ok()) {
    Status prepared = PrepareOutputFolder(options.batch, options.output);
    if (!prepared.ok()) plan = prepared;
  }
  if (!plan.ok()) {
    err << "error: " << plan.status().message() << "\n";
    return kExitUsage;
  }
  if (plan->empty()) err << "warning: no matching image files in '" << options.batch << "'\n";
  std::unique_ptr<JobStateFile> state;
  if (options.async_jobs) {
    std::string warning;
    state = OpenStateOrStartEmpty(BatchStatePath(options.output), &warning);
    if (!warning.empty()) err << "warning: " << warning << "\n";
  }
  bool answered = false;
  int threads = options.jobs ? *options.jobs : (plan->empty() ? 1 : DefaultConcurrency(http, &answered));
  JobSettings settings = JobSettingsFrom(options, tuning, state.get());
  ProgressReporter progress(err, tuning.err_is_terminal, static_cast<int>(plan->size()));
  Result<std::vector<FileOutcome>> outcomes = RunPlan(*plan, settings, threads, http, progress);
  progress.Finish();
  if (!outcomes.ok()) {
    err << "error: " << outcomes.status().message() << "\n";
    return kExitUsage;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.json) {
    WriteJsonReport(out, *outcomes, seconds);
  } else {
    WriteSummary(out, *outcomes, seconds);
  }
  return ExitCodeOf(*outcomes, answered);
}

}  // namespace tsdsr::client
