#include "dispatcher/options.h"

#include <algorithm>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "common/logging.h"
#include "common/model_spec.h"
#include "common/time_text.h"
#include "dispatcher/http/auth.h"
#include "dispatcher/pool/worker_security.h"

namespace tsdsr::dispatcher {
namespace {

Status OutOf(const std::string& name, const std::string& allowed) {
  return Status::InvalidArgument("--" + name + " must be " + allowed);
}

void AddOptions(CLI::App& app, DispatcherOptions& o) {
  app.add_option("--host", o.host, "HTTP listen address")->capture_default_str();
  app.add_option("--port", o.port, "HTTP port (0 = any free port)")->capture_default_str();
  app.add_option("--port-file", o.port_file, "Write the bound HTTP port to this file once serving");
  app.add_option("--upscale", o.upscale, "Default upscale factor (2 or 4)")->capture_default_str();
  app.add_option("--process-size", o.process_size, "Default LR tile size, 64-256")->capture_default_str();
  app.add_option("--workers", o.workers, "Local workers to start (-1 = one per visible GPU, 1 on CPU; 0 = none)")
      ->capture_default_str();
  app.add_option("--model", o.model, "Model spec for local workers")->capture_default_str();
  app.add_option("--model-scale", o.model_scale, "Local workers' --model-scale (torchscript:PATH models, 1-16)");
  app.add_option("--color-fix", o.color_fix, "Local workers' --color-fix: auto, none, wavelet or adain")
      ->capture_default_str();
  app.add_option("--dtype", o.dtype, "Local workers' --dtype: auto, float32, float16 or bfloat16")
      ->capture_default_str();
  app.add_option("--latent-seed", o.latent_seed, "Local workers' --latent-seed (tsdsr:SD3_DIR)")
      ->capture_default_str();
  app.add_option("--lora-dir", o.lora_dir, "Local workers' --lora-dir (tsdsr:SD3_DIR models)");
  app.add_option("--embeddings-dir", o.embeddings_dir, "Local workers' --embeddings-dir (tsdsr:SD3_DIR models)");
  app.add_option("--device", o.device, "Devices of local workers: auto, cpu or cuda")->capture_default_str();
  app.add_option("--models-dir", o.models_dir, "Local workers' --models-dir: where builtin:NAME models are "
                 "(default: theirs, $TSDSR_MODELS_DIR or <repo>/models)");
  app.add_option("--worker-endpoint", o.worker_endpoint, "ZeroMQ address workers connect to (tcp:// or ipc://)")
      ->capture_default_str();
  app.add_option("--worker-binary", o.worker_binary, "tsdsr-worker to start (default: beside this program)");
  app.add_option("--http-threads", o.http_threads, "HTTP threads")->capture_default_str();
  app.add_option("--max-body-mb", o.max_body_mb, "Largest request body in MiB (413 above)")->capture_default_str();
  app.add_option("--max-pixels", o.max_pixels, "Largest input image in pixels (413 above)")->capture_default_str();
  app.add_option("--split-min-pixels", o.split_min_pixels, "An image with at least this many output pixels is cut "
                 "into pieces for the idle workers (two or more, same model) and joined again; 0 = never")
      ->capture_default_str();
  app.add_option("--max-queue", o.max_queue, "Queued jobs before 503")->capture_default_str();
  app.add_option("--max-attempts", o.max_attempts, "Sends of a job before it fails")->capture_default_str();
  app.add_option("--max-timeout-ms", o.max_timeout_ms, "Deadline of a job that sets none, and the cap on timeout_ms")
      ->capture_default_str();
  app.add_option("--drain-timeout-ms", o.drain_timeout_ms, "On SIGTERM, how long accepted jobs may take to finish")
      ->capture_default_str();
  app.add_option("--data-dir", o.data_dir, "Job store: database, uploads and outputs (default: $TSDSR_DATA_DIR, "
                 "else $XDG_STATE_HOME/tsdsr-serve, else ~/.local/state/tsdsr-serve)");
  app.add_option("--result-ttl", o.result_ttl, "Keep outputs of batch and async jobs this long (e.g. 90s, 30m, 24h, "
                 "7d; 0 = forever)")->capture_default_str();
  app.add_option("--result-max-gb", o.result_max_gb, "Keep stored outputs under this many GB, the earliest "
                 "finished going first (0 = no cap)")->capture_default_str();
  app.add_option("--job-history", o.job_history, "Keep records of finished jobs whose output is gone this long")
      ->capture_default_str();
  app.add_option("--max-batch-files", o.max_batch_files, "Files in one POST /upscale_batch (413 above)")
      ->capture_default_str();
  app.add_option("--max-jobs", o.max_jobs, "Async jobs accepted and not finished (503 above)")->capture_default_str();
  app.add_option("--chunk-seconds", o.chunk_seconds, "Video jobs go to the workers in chunks of about this many "
                 "seconds (shorter when more workers are idle)")->capture_default_str();
  app.add_option("--heartbeat-ms", o.heartbeat_ms, "Heartbeat interval to workers")->capture_default_str();
  app.add_option("--heartbeat-misses", o.heartbeat_misses, "Missed heartbeats before a worker is dropped")
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  app.add_option("--api-key", o.api_key, "Require 'Authorization: Bearer KEY' on every endpoint but the health "
                 "probes and /metrics (16+ printable characters)")->envname("TSDSR_API_KEY");
  app.add_option("--api-keys-file", o.api_keys_file, "Also accept the keys in FILE (mode 600), one 'NAME KEY' per "
                 "line: NAME is the client for turns and --max-client-jobs")->envname("TSDSR_API_KEYS_FILE");
  app.add_option("--curve-dir", o.curve_dir, "CURVE keys of the worker endpoint: DIR/dispatcher.key, and the "
                 "workers to accept in DIR/authorized_workers/*.pub");
  app.add_flag("--insecure-workers", o.insecure_workers, "Accept workers without keys on an endpoint other "
               "machines can reach (anyone reaching it can take jobs)");
  app.add_option("--gen-keys", o.gen_keys, "Write a dispatcher and a worker key pair into DIR, then exit");
  app.set_config("--config", "", "TOML/INI file with the same keys as the long flags (e.g. process-size = 128)");
}

// Empty (no key), or a key strong enough to guard the API that can travel in a header.
Status ValidateApiKey(const std::string& key) {
  return key.empty() ? Status::Ok() : CheckKeyStrength(key, "--api-key (or TSDSR_API_KEY)");
}

Status CheckDuration(const std::string& name, const std::string& text) {
  auto parsed = ParseDurationMillis(text);
  return parsed.ok() ? Status::Ok() : Status::InvalidArgument("--" + name + ": " + parsed.status().message());
}

}  // namespace

ModelFlags ModelFlagsOf(const DispatcherOptions& o) {
  return ModelFlags{o.model, o.model_scale, o.color_fix, o.lora_dir, o.embeddings_dir, o.dtype, o.latent_seed};
}

std::string DefaultDataDir() {
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::string(value) : std::string();
  };
  if (std::string dir = env("TSDSR_DATA_DIR"); !dir.empty()) return dir;
  if (std::string state = env("XDG_STATE_HOME"); !state.empty()) return state + "/tsdsr-serve";
  if (std::string home = env("HOME"); !home.empty()) return home + "/.local/state/tsdsr-serve";
  return "tsdsr-data";
}

const std::vector<int>& SupportedScales() {
  static const std::vector<int> scales = {2, 4};
  return scales;
}

void AddLoadOptions(CLI::App& app, DispatcherOptions& o) {
  app.add_option("--max-queued-mb", o.max_queued_mb, "MiB of request bodies, responses and job inputs the dispatcher "
                 "holds; a request over it gets 503 before its body is read (0 = a quarter of the memory)")
      ->capture_default_str();
  app.add_option("--max-connections", o.max_connections, "Open HTTP connections; more get 503 and are closed")
      ->capture_default_str();
  app.add_option("--header-timeout-ms", o.header_timeout_ms, "A request head must arrive within this (408 after)")
      ->capture_default_str();
  app.add_option("--body-timeout-ms", o.body_timeout_ms, "Longest silence while a request body arrives (408 after)")
      ->capture_default_str();
  app.add_option("--keepalive-timeout-ms", o.keepalive_timeout_ms, "An idle connection is closed after this")
      ->capture_default_str();
  app.add_option("--worker-memory-mb", o.worker_memory_mb, "Local workers' --memory-budget-mb: what their jobs "
                 "may hold at once (0 = theirs: a quarter of the memory)")->capture_default_str();
  app.add_option("--max-client-jobs", o.max_client_jobs, "Jobs one client (API key name, X-Client-Id or address) "
                 "may have waiting; more get 429 (0 = no limit)")->capture_default_str();
}

DispatcherCommandLine ParseDispatcherCommandLine(const std::vector<std::string>& args) {
  DispatcherCommandLine line;
  CLI::App app("tsdsr-dispatcher: the HTTP front door of TSD-SR Serve; queues upscale jobs and fans them out "
               "to tsdsr-worker processes over ZeroMQ.",
               "tsdsr-dispatcher");
  AddOptions(app, line.options);
  AddLoadOptions(app, line.options);
  line.outcome = ParseCommandLine(app, args);
  return line;
}

Status ValidateDispatcherOptions(const DispatcherOptions& o) {
  const auto& scales = SupportedScales();
  if (std::find(scales.begin(), scales.end(), o.upscale) == scales.end()) return OutOf("upscale", "2 or 4");
  if (o.host.empty()) return OutOf("host", "an address such as 127.0.0.1 or 0.0.0.0");
  if (o.port < 0 || o.port > 65535) return OutOf("port", "within 0..65535");
  if (o.process_size < 64 || o.process_size > 256) return OutOf("process-size", "within 64..256");
  if (o.workers < -1 || o.workers > 64) return OutOf("workers", "-1 (one per GPU), 0 (remote workers only) or up to 64");
  TSDSR_RETURN_IF_ERROR(ValidateModelFlags(ModelFlagsOf(o)));
  if (o.device != "auto" && o.device != "cpu" && o.device != "cuda") return OutOf("device", "auto, cpu or cuda");
  if (o.worker_endpoint.rfind("tcp://", 0) != 0 && o.worker_endpoint.rfind("ipc://", 0) != 0) {
    return OutOf("worker-endpoint", "a tcp:// or ipc:// address, e.g. tcp://127.0.0.1:5555");
  }
  if (o.http_threads < 1 || o.http_threads > 256) return OutOf("http-threads", "within 1..256");
  if (o.max_body_mb < 1 || o.max_body_mb > 4096) return OutOf("max-body-mb", "within 1..4096");
  if (o.max_pixels < 1) return OutOf("max-pixels", "at least 1");
  if (o.split_min_pixels < 0) return OutOf("split-min-pixels", "0 or more");
  if (o.max_queue < 1 || o.max_queue > 1000000) return OutOf("max-queue", "within 1..1000000");
  if (o.max_attempts < 1 || o.max_attempts > 100) return OutOf("max-attempts", "within 1..100");
  if (o.max_queued_mb < 0 || o.max_queued_mb > (std::int64_t{1} << 30)) return OutOf("max-queued-mb", "0 or more");
  if (o.max_connections < 16 || o.max_connections > 1000000) return OutOf("max-connections", "within 16..1000000");
  for (auto [name, ms] : {std::pair{"header-timeout-ms", o.header_timeout_ms}, {"body-timeout-ms", o.body_timeout_ms},
                          {"keepalive-timeout-ms", o.keepalive_timeout_ms}}) {
    if (ms < 100 || ms > 3600000) return OutOf(name, "within 100..3600000");
  }
  if (o.max_client_jobs < 0) return OutOf("max-client-jobs", "0 (no limit) or more");
  if (o.worker_memory_mb < 0) return OutOf("worker-memory-mb", "0 (the workers' default) or more");
  if (o.max_timeout_ms < 1) return OutOf("max-timeout-ms", "at least 1");
  if (o.drain_timeout_ms < 0) return OutOf("drain-timeout-ms", "0 or more");
  TSDSR_RETURN_IF_ERROR(CheckDuration("result-ttl", o.result_ttl));
  TSDSR_RETURN_IF_ERROR(CheckDuration("job-history", o.job_history));
  if (!(o.result_max_gb >= 0 && o.result_max_gb <= 1e6)) return OutOf("result-max-gb", "within 0..1000000 (0 = no cap)");
  if (o.max_batch_files < 1 || o.max_batch_files > 10000) return OutOf("max-batch-files", "within 1..10000");
  if (o.max_jobs < 1 || o.max_jobs > 10000000) return OutOf("max-jobs", "within 1..10000000");
  if (!(o.chunk_seconds >= 0.1 && o.chunk_seconds <= 3600)) return OutOf("chunk-seconds", "within 0.1..3600");
  if (o.heartbeat_ms < 10 || o.heartbeat_ms > 600000) return OutOf("heartbeat-ms", "within 10..600000");
  if (o.heartbeat_misses < 1 || o.heartbeat_misses > 1000) return OutOf("heartbeat-misses", "within 1..1000");
  if (!IsLogLevel(o.log_level)) return OutOf("log-level", "trace, debug, info, warn, error or off");
  TSDSR_RETURN_IF_ERROR(ValidateApiKey(o.api_key));
  return CheckWorkerEndpointSecurity(o.worker_endpoint, o.curve_dir, o.insecure_workers);
}

}  // namespace tsdsr::dispatcher
