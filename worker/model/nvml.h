// NVML, NVIDIA's management library, loaded with dlopen when the driver provides it: the GPU readings that
// workers report in heartbeats (utilisation, power, energy, temperature; the meanings of NVIDIA's DCGM exporter).
// No build-time dependency on NVML or CUDA headers; absent NVML only means "readings unknown".
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace tsdsr::model {

// One GPU now. A field is empty when the driver does not say (a sensor the board lacks, an older driver).
struct GpuReadings {
  std::optional<double> utilization;          // 0..1: the share of the last sample period a kernel ran
  std::optional<double> power_watts;          // the board's draw
  std::optional<double> energy_joules;        // used since the driver was loaded (a counter)
  std::optional<double> temperature_celsius;  // the GPU core
};

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

  // The readings of the GPU at `pci_bus_id` ("0000:17:00.0", as cudaDeviceGetPCIBusId writes it); utilisation
  // over the driver's sample period (1/6 s to 1 s). NotFound for a bus id NVML does not know; Unavailable when
  // NVML fails to find it otherwise. A reading NVML refuses is left empty. Thread-safe (NVML is).
  Result<GpuReadings> Read(const std::string& pci_bus_id) const;

 private:
  struct Functions;
  NvmlLibrary(void* handle, std::unique_ptr<Functions> functions);

  void* handle_;
  std::unique_ptr<Functions> functions_;
};

}  // namespace tsdsr::model
