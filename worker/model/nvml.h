// NVML, NVIDIA's management library, loaded with dlopen when the driver provides it: the GPU utilisation that
// workers report in heartbeats. No build-time dependency on NVML or CUDA headers; absent NVML only means
// "utilisation unknown".
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace tsdsr::model {

class NvmlLibrary {
 public:
  // The library the NVIDIA driver installs.
  static constexpr const char* kDefaultPath = "libnvidia-ml.so.1";

  // dlopens `path`, finds the functions used here and calls nvmlInit_v2. Unavailable, with dlopen's or NVML's
  // reason, when the library is absent (no NVIDIA driver), lacks a function, or does not initialise.
  static Result<std::unique_ptr<NvmlLibrary>> Load(const std::string& path = kDefaultPath);

  // Calls nvmlShutdown and dlcloses the library.
  ~NvmlLibrary();
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  // The fraction of the last sample period (driver-defined, 1/6 s to 1 s) during which a kernel ran on the GPU at
  // `pci_bus_id` ("0000:17:00.0", as cudaDeviceGetPCIBusId writes it), in 0..1. NotFound for a bus id NVML does
  // not know; Unavailable for another NVML error. Thread-safe (NVML is).
  Result<double> Utilization(const std::string& pci_bus_id) const;

 private:
  struct Functions;
  NvmlLibrary(void* handle, std::unique_ptr<Functions> functions);

  void* handle_;
  std::unique_ptr<Functions> functions_;
};

}  // namespace tsdsr::model
