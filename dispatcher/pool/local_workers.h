// Where the local workers of `--workers N --device D` run, and the address they reach the dispatcher at.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace tsdsr::dispatcher {

// GPUs this process may use: CUDA_VISIBLE_DEVICES when set (its entries), else the NVIDIA driver's
// /proc/driver/nvidia/gpus entries, else none. `visible_devices_env` is the variable's value or nullptr.
int CountVisibleGpus(const char* visible_devices_env, const std::string& proc_gpus_dir);

// One device per local worker. workers == -1 means one per GPU (or 1 without GPUs); device is auto, cpu
// or cuda; with several workers per GPU they go round-robin. FailedPrecondition for cuda without GPUs.
Result<std::vector<std::string>> LocalWorkerDevices(int workers, const std::string& device, int gpus);

// The address a local worker connects to for a bound endpoint: a wildcard host (*, 0.0.0.0) becomes
// 127.0.0.1; ipc:// stays as it is.
std::string LocalConnectAddress(const std::string& bound_endpoint);

}  // namespace tsdsr::dispatcher
