#include "worker/options.h"

#include <CLI/CLI.hpp>

#include "common/logging.h"
#include "common/model_spec.h"

namespace tsdsr::worker {
namespace {

Status OutOf(const std::string& name, const std::string& allowed) {
  return Status::InvalidArgument("--" + name + " must be " + allowed);
}

}  // namespace

WorkerCommandLine ParseWorkerCommandLine(const std::vector<std::string>& args) {
  WorkerCommandLine line;
  WorkerOptions& o = line.options;
  CLI::App app("tsdsr-worker: runs one super-resolution model on one device and serves jobs from a "
               "tsdsr-dispatcher over ZeroMQ.",
               "tsdsr-worker");
  app.add_option("--connect", o.connect, "Dispatcher worker endpoint (tcp:// or ipc://)")->capture_default_str();
  app.add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--model", o.model, "Model spec")->capture_default_str();
  app.add_option("--model-scale", o.model_scale, "Upscale factor of a torchscript:PATH model (1-16)");
  app.add_option("--color-fix", o.color_fix, "auto, none, wavelet or adain: keep the output's colours (low "
                 "frequencies) those of the bicubic upscale; auto is wavelet for tsdsr, none otherwise")
      ->capture_default_str();
  app.add_option("--dtype", o.dtype, "auto, float32, float16 or bfloat16: what networks compute in; auto is float32 "
                 "on the CPU, bfloat16 on CUDA for built-in networks and TSD-SR, float32 for TorchScript models")
      ->capture_default_str();
  app.add_option("--latent-seed", o.latent_seed, "tsdsr:SD3_DIR models: -1 encodes each tile to the posterior "
                 "mean (the default); a seed >= 0 draws a sample instead, the same for every tile and run")
      ->capture_default_str();
  app.add_option("--lora-dir", o.lora_dir, "tsdsr:SD3_DIR models: folder of TSD-SR's transformer.safetensors and "
                 "vae.safetensors");
  app.add_option("--embeddings-dir", o.embeddings_dir, "tsdsr:SD3_DIR models: folder of TSD-SR's prompt_embeds.pt "
                 "and pool_embeds.pt");
  app.add_option("--id", o.id, "Worker name (default: host-pid)");
  app.add_option("--slots", o.slots, "Jobs held at once (1-16)")->capture_default_str();
  app.add_option("--heartbeat-ms", o.heartbeat_ms, "Heartbeat interval")->capture_default_str();
  app.add_option("--heartbeat-misses", o.heartbeat_misses, "Missed dispatcher heartbeats before reconnecting")
      ->capture_default_str();
  app.add_option("--tile-batch", o.tile_batch, "Tiles per model call (1-64)")->capture_default_str();
  app.add_option("--tile-memory-mb", o.tile_memory_mb, "Memory one model call may take with the built-in networks "
                 "and interpolation, which then get tiles as large as that allows; 0 = process_size tiles")
      ->capture_default_str();
  app.add_option("--max-pixels", o.max_pixels, "Largest input image in pixels")->capture_default_str();
  app.add_option("--memory-budget-mb", o.memory_budget_mb, "MiB its jobs may hold at once (payload, decoded input "
                 "and output); announced, and the dispatcher sends no more (0 = a quarter of the memory)")
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  app.add_option("--models-dir", o.models_dir, "Folder of the builtin:NAME models (scripts/fetch-models fills "
                 "<repo>/models; default: $TSDSR_MODELS_DIR, else <repo>/models found from the binary)");
  app.add_option("--curve-dir", o.curve_dir, "Connect with CURVE: DIR/worker.key (this worker's secret key) and "
                 "DIR/dispatcher.pub (from 'tsdsr-dispatcher --gen-keys')");
  app.set_config("--config", "", "TOML/INI file with the same keys as the long flags");
  line.outcome = ParseCommandLine(app, args);
  return line;
}

Status ValidateWorkerOptions(const WorkerOptions& o) {
  if (o.connect.rfind("tcp://", 0) != 0 && o.connect.rfind("ipc://", 0) != 0) {
    return OutOf("connect", "a tcp:// or ipc:// address, e.g. tcp://127.0.0.1:5555");
  }
  TSDSR_RETURN_IF_ERROR(ValidateModelFlags(ModelFlagsOf(o)));
  if (o.slots < 1 || o.slots > 16) return OutOf("slots", "within 1..16");
  if (o.heartbeat_ms < 10 || o.heartbeat_ms > 600000) return OutOf("heartbeat-ms", "within 10..600000");
  if (o.heartbeat_misses < 1 || o.heartbeat_misses > 1000) return OutOf("heartbeat-misses", "within 1..1000");
  if (o.tile_batch < 1 || o.tile_batch > 64) return OutOf("tile-batch", "within 1..64");
  if (o.tile_memory_mb < 0 || o.tile_memory_mb > 1048576) return OutOf("tile-memory-mb", "within 0..1048576");
  if (o.max_pixels < 1) return OutOf("max-pixels", "at least 1");
  if (o.memory_budget_mb < 0) return OutOf("memory-budget-mb", "0 (a quarter of the memory) or more");
  if (!IsLogLevel(o.log_level)) return OutOf("log-level", "trace, debug, info, warn, error or off");
  return Status::Ok();
}

ModelFlags ModelFlagsOf(const WorkerOptions& o) {
  return ModelFlags{o.model, o.model_scale, o.color_fix, o.lora_dir, o.embeddings_dir, o.dtype, o.latent_seed};
}

}  // namespace tsdsr::worker
