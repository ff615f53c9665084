// The CUDA backend of device.cc, built instead of device_cpu.cc when LibTorch has CUDA. The only file of the
// project that includes CUDA headers. Written against the c10 CUDA API that LibTorch 1.13–2.x all have.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/util/Exception.h>

#include "worker/model/device.h"

namespace tsdsr::model::cuda_backend {
namespace {

// StatType::AGGREGATE (all pools together) is entry 0 of every stat array; the enum itself moved from
// c10::cuda::CUDACachingAllocator to c10::CachingDeviceAllocator / c10::CachingAllocator across 2.x releases.
constexpr size_t kAggregate = 0;

}  // namespace

bool BuiltWithCuda() { return true; }

int DeviceCount() { return static_cast<int>(c10::cuda::device_count()); }

std::string Name(int index) {
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, index) != cudaSuccess) {
    cudaGetLastError();  // reset the error state so a later, unrelated check does not see this one
    return "cuda:" + std::to_string(index);
  }
  return properties.name;
}

proto::MemoryStats Memory(int index) {
  proto::MemoryStats stats;
  try {
    // cudaMemGetInfo reports on the calling thread's current device; the guard restores it afterwards.
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
    size_t free_bytes = 0;
    size_t total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      stats.free = static_cast<std::int64_t>(free_bytes);
      stats.total = static_cast<std::int64_t>(total_bytes);
    } else {
      cudaGetLastError();
    }
    const auto device_stats =
        c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
    stats.reserved = device_stats.reserved_bytes[kAggregate].current;
    stats.allocated = device_stats.allocated_bytes[kAggregate].current;
  } catch (const c10::Error&) {
    // An invalid index or an allocator not yet initialised: report what we have (zeros where unknown).
  }
  return stats;
}

void ReleaseCachedMemory(int /*index*/) {
  // emptyCache releases the unused blocks of every device; a worker uses one.
  try {
    c10::cuda::CUDACachingAllocator::emptyCache();
  } catch (const c10::Error&) {
    // A CUDA error while freeing: the blocks stay cached, which is harmless.
  }
}

std::int64_t PeakReserved(int index) {
  try {
    return c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index))
        .reserved_bytes[kAggregate]
        .peak;
  } catch (const c10::Error&) {
    return 0;
  }
}

void ResetPeak(int index) {
  try {
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(index));
  } catch (const c10::Error&) {
    // An invalid index: there is no peak to reset.
  }
}

std::string PciBusId(int index) {
  char bus_id[32] = {};  // "0000:17:00.0" plus room; NVML accepts this spelling
  if (cudaDeviceGetPCIBusId(bus_id, sizeof(bus_id), index) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  return bus_id;
}

}  // namespace tsdsr::model::cuda_backend
