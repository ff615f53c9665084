#include "worker/model/nvml.h"

#include <dlfcn.h>

#include <utility>

namespace tsdsr::model {
namespace {

// The part of NVML's C ABI used here (nvml.h, stable since NVML 5): an int result (0 = success), an opaque
// device handle and the utilisation record.
using NvmlReturn = int;
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr NvmlReturn kNvmlNotFound = 6;
using NvmlDevice = void*;
struct NvmlUtilization {
  unsigned int gpu;     // percent of time a kernel was running
  unsigned int memory;  // percent of time device memory was read or written
};
constexpr int kNvmlTemperatureGpu = 0;  // nvmlTemperatureSensors_t: the GPU core

}  // namespace

struct NvmlLibrary::Functions {
  NvmlReturn (*init)();
  NvmlReturn (*shutdown)();
  NvmlReturn (*handle_by_pci_bus_id)(const char*, NvmlDevice*);
  NvmlReturn (*utilization)(NvmlDevice, NvmlUtilization*);
  // Optional (null when the library lacks them): milliwatts, millijoules since the driver loaded, °C.
  NvmlReturn (*power_usage)(NvmlDevice, unsigned int*) = nullptr;
  NvmlReturn (*total_energy)(NvmlDevice, unsigned long long*) = nullptr;  // NOLINT(runtime/int): NVML's ABI
  NvmlReturn (*temperature)(NvmlDevice, int, unsigned int*) = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;

  std::string Describe(NvmlReturn code) const {
    return "NVML error " + std::to_string(code) + (error_string ? std::string(": ") + error_string(code) : "");
  }
};

namespace {

// Finds `name` in `handle` and stores it in `*function`; false when the library lacks it.
template <typename Function>
bool Resolve(void* handle, const char* name, Function* function) {
  *function = reinterpret_cast<Function>(dlsym(handle, name));
  return *function != nullptr;
}

}  // namespace

Result<std::unique_ptr<NvmlLibrary>> NvmlLibrary::Load(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Status::Unavailable("NVML not loaded: " + std::string(why ? why : path));
  }
  auto functions = std::make_unique<Functions>();
  if (!Resolve(handle, "nvmlInit_v2", &functions->init) || !Resolve(handle, "nvmlShutdown", &functions->shutdown) ||
      !Resolve(handle, "nvmlDeviceGetHandleByPciBusId_v2", &functions->handle_by_pci_bus_id) ||
      !Resolve(handle, "nvmlDeviceGetUtilizationRates", &functions->utilization)) {
    dlclose(handle);
    return Status::Unavailable("NVML not loaded: " + path + " lacks the functions of NVML 5 or later");
  }
  Resolve(handle, "nvmlErrorString", &functions->error_string);  // optional: messages only
  Resolve(handle, "nvmlDeviceGetPowerUsage", &functions->power_usage);
  Resolve(handle, "nvmlDeviceGetTotalEnergyConsumption", &functions->total_energy);
  Resolve(handle, "nvmlDeviceGetTemperature", &functions->temperature);
  if (const NvmlReturn code = functions->init(); code != kNvmlSuccess) {
    const std::string why = functions->Describe(code);
    dlclose(handle);
    return Status::Unavailable("NVML did not initialise: " + why);
  }
  return std::unique_ptr<NvmlLibrary>(new NvmlLibrary(handle, std::move(functions)));
}

NvmlLibrary::NvmlLibrary(void* handle, std::unique_ptr<Functions> functions)
    : handle_(handle), functions_(std::move(functions)) {}

NvmlLibrary::~NvmlLibrary() {
  functions_->shutdown();
  dlclose(handle_);
}

Result<GpuReadings> NvmlLibrary::Read(const std::string& pci_bus_id) const {
  NvmlDevice device = nullptr;
  if (const NvmlReturn code = functions_->handle_by_pci_bus_id(pci_bus_id.c_str(), &device); code != kNvmlSuccess) {
    const std::string why = "no NVML device at PCI bus id " + pci_bus_id + " (" + functions_->Describe(code) + ")";
    return code == kNvmlNotFound ? Status::NotFound(why) : Status::Unavailable(why);
  }
  GpuReadings readings;
  if (NvmlUtilization rates{}; functions_->utilization(device, &rates) == kNvmlSuccess) {
    readings.utilization = rates.gpu / 100.0;
  }
  unsigned int milliwatts = 0;
  if (functions_->power_usage && functions_->power_usage(device, &milliwatts) == kNvmlSuccess) {
    readings.power_watts = milliwatts / 1e3;
  }
  unsigned long long millijoules = 0;  // NOLINT(runtime/int): NVML's ABI
  if (functions_->total_energy && functions_->total_energy(device, &millijoules) == kNvmlSuccess) {
    readings.energy_joules = static_cast<double>(millijoules) / 1e3;
  }
  unsigned int celsius = 0;
  if (functions_->temperature && functions_->temperature(device, kNvmlTemperatureGpu, &celsius) == kNvmlSuccess) {
    readings.temperature_celsius = celsius;
  }
  return readings;
}

}  // namespace tsdsr::model
