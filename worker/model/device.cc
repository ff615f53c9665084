#include "worker/model/device.h"

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <utility>

#include "worker/model/nvml.h"

namespace tsdsr::model {
namespace {

constexpr std::string_view kCudaPrefix = "cuda:";

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// Calls fn(key, value) for each "key: value" line.
template <typename Fn>
void ForEachField(std::string_view text, Fn fn) {
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!fn(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)))) return;
  }
}

// "16384 kB" → bytes; 0 when unparsable.
std::int64_t KibibytesToBytes(std::string_view value) {
  std::int64_t kib = 0;
  for (char c : value) {
    if (c < '0' || c > '9') break;
    kib = kib * 10 + (c - '0');
  }
  return kib * 1024;
}

// This process's resident set in bytes, from /proc/self/statm (pages); 0 when unknown.
std::int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size_pages = 0;
  std::int64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

Result<c10::Device> ParseDevice(std::string_view text) {
  if (text == "cpu") return c10::Device(c10::kCPU);
  if (text == "cuda") return c10::Device(c10::kCUDA, 0);
  const Status bad = Status::InvalidArgument("unknown device \"" + std::string(text) +
                                             "\"; expected cpu, cuda or cuda:N");
  if (text.substr(0, kCudaPrefix.size()) != kCudaPrefix) return bad;
  const std::string_view digits = text.substr(kCudaPrefix.size());
  if (digits.empty() || digits.size() > 3) return bad;
  int index = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return bad;
    index = index * 10 + (c - '0');
  }
  if (index > std::numeric_limits<c10::DeviceIndex>::max()) return bad;
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

Result<c10::Device> ResolveDevice(std::string_view text) {
  TSDSR_ASSIGN_OR_RETURN(c10::Device device, ParseDevice(text));
  if (device.is_cpu()) return device;
  if (!cuda_backend::BuiltWithCuda()) {
    return Status::FailedPrecondition("cannot use " + DeviceString(device) +
                                      ": this build of LibTorch has no CUDA");
  }
  const int count = cuda_backend::DeviceCount();
  if (device.index() >= count) {
    return Status::FailedPrecondition(DeviceString(device) + " not present, " + std::to_string(count) +
                                      " device(s) visible");
  }
  return device;
}

std::string DeviceString(const c10::Device& device) {
  if (device.is_cuda()) return std::string(kCudaPrefix) + std::to_string(device.has_index() ? device.index() : 0);
  return device.str();
}

Result<c10::ScalarType> ResolveDtype(std::string_view flag, const c10::Device& device, bool reduced_precision_ok) {
  if (flag == "auto") return device.is_cuda() && reduced_precision_ok ? c10::kBFloat16 : c10::kFloat;
  if (flag == "float32") return c10::kFloat;
  if (flag == "bfloat16") return c10::kBFloat16;
  if (flag == "float16") {
    if (device.is_cuda()) return c10::kHalf;
    return Status::FailedPrecondition("--dtype float16 runs on CUDA devices only; use float32 or bfloat16 on the CPU");
  }
  return Status::InvalidArgument("--dtype must be auto, float32, float16 or bfloat16, got '" + std::string(flag) + "'");
}

std::string DtypeName(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::ScalarType::Float: return "float32";
    case c10::ScalarType::Half: return "float16";
    case c10::ScalarType::BFloat16: return "bfloat16";
    case c10::ScalarType::Double: return "float64";
    default: return c10::toString(dtype);
  }
}

std::string DeviceName(const c10::Device& device) {
  if (device.is_cuda()) return cuda_backend::Name(device.has_index() ? device.index() : 0);
  const std::string model = ParseCpuModel(ReadFile("/proc/cpuinfo"));
  return model.empty() ? "cpu" : model;
}

proto::MemoryStats DeviceMemory(const c10::Device& device) {
  if (device.is_cuda()) return cuda_backend::Memory(device.has_index() ? device.index() : 0);
  proto::MemoryStats stats = ParseMeminfo(ReadFile("/proc/meminfo"));
  stats.allocated = ResidentBytes();
  return stats;
}

std::int64_t PeakMemory(const c10::Device& device) {
  if (device.is_cuda()) return cuda_backend::PeakReserved(device.has_index() ? device.index() : 0);
  std::int64_t peak = 0;
  ForEachField(ReadFile("/proc/self/status"), [&](std::string_view key, std::string_view value) {
    if (key == "VmHWM") peak = KibibytesToBytes(value);
    return key != "VmHWM";
  });
  return peak;
}

void ResetPeakMemory(const c10::Device& device) {
  if (device.is_cuda()) cuda_backend::ResetPeak(device.has_index() ? device.index() : 0);
}

void ReleaseCachedMemory(const c10::Device& device) {
  if (device.is_cuda()) cuda_backend::ReleaseCachedMemory(device.has_index() ? device.index() : 0);
}

GpuReadings DeviceGpuReadings(const c10::Device& device) {
  if (!device.is_cuda()) return {};
  // Loaded once per process (thread-safe static initialisation); null when the driver has no NVML.
  static const std::unique_ptr<NvmlLibrary> nvml = [] {
    Result<std::unique_ptr<NvmlLibrary>> loaded = NvmlLibrary::Load();
    return loaded.ok() ? std::move(loaded).value() : nullptr;
  }();
  const std::string bus_id = cuda_backend::PciBusId(device.has_index() ? device.index() : 0);
  if (!nvml || bus_id.empty()) return {};
  Result<GpuReadings> readings = nvml->Read(bus_id);
  return readings.ok() ? *readings : GpuReadings{};
}

std::string ParseCpuModel(std::string_view cpuinfo) {
  std::string model;
  ForEachField(cpuinfo, [&](std::string_view key, std::string_view value) {
    if (key != "model name") return true;
    model = std::string(value);
    return false;
  });
  return model;
}

proto::MemoryStats ParseMeminfo(std::string_view meminfo) {
  proto::MemoryStats stats;
  std::int64_t mem_free = 0;
  bool has_available = false;
  ForEachField(meminfo, [&](std::string_view key, std::string_view value) {
    if (key == "MemTotal") stats.total = KibibytesToBytes(value);
    if (key == "MemFree") mem_free = KibibytesToBytes(value);
    if (key == "MemAvailable") {
      stats.free = KibibytesToBytes(value);
      has_available = true;
    }
    return true;
  });
  if (!has_available) stats.free = mem_free;
  return stats;
}

}  // namespace tsdsr::model
