// tsdsr-dispatcher's options: flags, optionally read from a --config file with the same keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/cli.h"
#include "common/model_spec.h"
#include "common/status.h"

namespace tsdsr::dispatcher {

struct DispatcherOptions {
  std::string host = "127.0.0.1";   // HTTP listen address; loopback unless told otherwise
  int port = 8090;                  // HTTP port; 0 picks a free one (logged, and written to port_file)
  std::string port_file;            // when set, the bound HTTP port is written here once serving
  int upscale = 2;                  // default scale when a request names none
  int process_size = 128;           // default LR tile edge when a request names none
  int workers = -1;                 // local worker processes; -1 = one per visible GPU, or 1 without GPUs
  std::string model = "builtin:best";  // model spec handed to local workers: the best built-in model per scale
  int model_scale = 0;              // local workers' --model-scale (torchscript:PATH models)
  std::string color_fix = "auto";   // local workers' --color-fix: auto, none, wavelet or adain
  std::string lora_dir;             // local workers' --lora-dir (tsdsr:SD3_DIR)
  std::string embeddings_dir;       // local workers' --embeddings-dir (tsdsr:SD3_DIR)
  std::string dtype = "auto";       // local workers' --dtype
  std::int64_t latent_seed = -1;    // local workers' --latent-seed (tsdsr:SD3_DIR)
  std::string device = "auto";      // devices of local workers: auto, cpu, cuda
  std::string models_dir;           // local workers' --models-dir (builtin:NAME); empty = the workers' default
  std::int64_t worker_memory_mb = 0;  // local workers' --memory-budget-mb; 0 = theirs (a quarter of the memory)
  std::string worker_endpoint = "tcp://127.0.0.1:5555";  // ZeroMQ ROUTER bind address
  std::string worker_binary;        // default: tsdsr-worker beside this program
  int http_threads = 4;
  int max_body_mb = 64;             // larger requests get 413
  std::int64_t max_pixels = 4096LL * 4096;  // larger input images get 413
  std::int64_t split_min_pixels = 4000000;  // images with this many output pixels go to idle workers in pieces; 0 = never
  int max_queue = 256;              // queued jobs beyond this get 503
  // Load and abuse (README, "Under load").
  std::int64_t max_queued_mb = 0;   // bytes held for requests and jobs; beyond, 503 before a body is read;
                                    // 0 = a quarter of the machine's (or container's) memory
  int max_connections = 10000;      // open HTTP connections; beyond, 503 and closed
  std::int64_t header_timeout_ms = 10000;     // a request head must arrive within this
  std::int64_t body_timeout_ms = 30000;       // longest silence while a body arrives
  std::int64_t keepalive_timeout_ms = 60000;  // an idle connection is closed after this
  int max_client_jobs = 0;          // jobs one client may have waiting (queued or accepted); 0 = no limit
  int max_attempts = 3;             // sends of one job to workers before it fails
  std::int64_t max_timeout_ms = 300000;  // deadline of a job that names none; cap on timeout_ms
  std::int64_t drain_timeout_ms = 30000;  // on SIGTERM, how long accepted jobs may take to finish
  // Jobs and the result store (README, "Jobs and the result store").
  std::string data_dir;             // the job store; empty: $TSDSR_DATA_DIR, else $XDG_STATE_HOME/tsdsr-serve,
                                    // else ~/.local/state/tsdsr-serve (DefaultDataDir)
  std::string result_ttl = "24h";   // outputs of batch and async jobs are kept this long after they finish
  double result_max_gb = 10;        // and stay under this many GB (10^9 bytes), the earliest finished going first
  std::string job_history = "7d";   // records of finished jobs without an output are kept this long
  int max_batch_files = 100;        // files in one POST /upscale_batch; more get 413
  int max_jobs = 10000;             // async jobs accepted and not finished; more get 503
  double chunk_seconds = 2;         // video jobs are cut into chunks of about this long (more when workers idle)
  int heartbeat_ms = 1000;
  int heartbeat_misses = 3;
  std::string log_level = "info";
  // Security (README, "Security"). The key is never logged.
  std::string api_key;              // when set, requests need `Authorization: Bearer KEY` (env TSDSR_API_KEY)
  std::string api_keys_file;        // named keys, one "NAME KEY" per line (env TSDSR_API_KEYS_FILE)
  std::string curve_dir;            // CURVE keys of the worker endpoint: dispatcher.key, authorized_workers/
  bool insecure_workers = false;    // serve a worker endpoint other machines reach without keys
  std::string gen_keys;             // write a fresh key folder here and exit
};

struct DispatcherCommandLine {
  DispatcherOptions options;
  CliOutcome outcome;  // exit set for --help or a usage error
};

// Parses flags and the optional --config file (TOML/INI, same keys as the long flags).
DispatcherCommandLine ParseDispatcherCommandLine(const std::vector<std::string>& args);

// Checks every value; InvalidArgument naming the option and what is allowed. FailedPrecondition, saying how
// to set keys up, for a worker endpoint other machines reach without --curve-dir or --insecure-workers.
Status ValidateDispatcherOptions(const DispatcherOptions& options);

// The data dir when --data-dir is not given: $TSDSR_DATA_DIR, else $XDG_STATE_HOME/tsdsr-serve, else
// $HOME/.local/state/tsdsr-serve, else ./tsdsr-data.
std::string DefaultDataDir();

// The model flags among the options, for ValidateModelFlags.
ModelFlags ModelFlagsOf(const DispatcherOptions& options);

// The accepted upscale factors of the service (a model may accept fewer).
const std::vector<int>& SupportedScales();

}  // namespace tsdsr::dispatcher
