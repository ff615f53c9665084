// tsdsr-worker's options: flags, optionally read from a --config file with the same keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/cli.h"
#include "common/model_spec.h"
#include "common/status.h"

namespace tsdsr::worker {

struct WorkerOptions {
  std::string connect = "tcp://127.0.0.1:5555";  // the dispatcher's worker endpoint
  std::string device = "cpu";                    // cpu, cuda or cuda:N
  std::string model = "builtin:best";            // model spec; the default: the best built-in model per scale
  int model_scale = 0;                           // torchscript:PATH models: the factor the network upscales by
  std::string color_fix = "auto";                // auto, none, wavelet or adain: anchor colours to the bicubic upscale
  std::string lora_dir;                          // tsdsr:SD3_DIR: TSD-SR's LoRA files
  std::string embeddings_dir;                    // tsdsr:SD3_DIR: TSD-SR's prompt embeddings
  std::string dtype = "auto";                    // auto, float32, float16, bfloat16 (model::ResolveDtype)
  std::int64_t latent_seed = -1;                 // tsdsr:SD3_DIR: -1 encodes to the posterior mean, else a sample
  std::string id;                                // name in logs and /info; default host-pid
  int slots = 2;                                 // jobs held at once: one computing, the rest prefetched
  int heartbeat_ms = 1000;
  int heartbeat_misses = 3;                      // dispatcher silent this long → reconnect
  int tile_batch = 4;                            // tiles per model call
  int tile_memory_mb = 2048;                     // one model call's memory with free tiles; 0 = process_size tiles
  std::int64_t max_pixels = 4096LL * 4096;       // larger inputs are refused
  std::int64_t memory_budget_mb = 0;             // what its jobs may hold at once (announced); 0 = a quarter of
                                                 // the machine's (or container's) memory
  std::string log_level = "info";
  std::string models_dir;  // builtin:NAME models; empty = $TSDSR_MODELS_DIR, else <repo>/models beside the binary
  std::string curve_dir;  // CURVE keys: DIR/worker.key (+ worker.pub) and DIR/dispatcher.pub; empty = none
};

struct WorkerCommandLine {
  WorkerOptions options;
  CliOutcome outcome;  // exit set for --help or a usage error
};

WorkerCommandLine ParseWorkerCommandLine(const std::vector<std::string>& args);

// InvalidArgument naming the option and what is allowed.
Status ValidateWorkerOptions(const WorkerOptions& options);

// The model flags among the options, for ValidateModelFlags.
ModelFlags ModelFlagsOf(const WorkerOptions& options);

}  // namespace tsdsr::worker
