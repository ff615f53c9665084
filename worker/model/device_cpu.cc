// The CUDA backend of device.cc for a CPU-only LibTorch (CMake builds this file or device_cuda.cc):
// there is no CUDA device to describe. ResolveDevice never lets a CUDA device through on such a build.
#include <cstdint>
#include <string>

#include "worker/model/device.h"

namespace tsdsr::model::cuda_backend {

bool BuiltWithCuda() { return false; }

int DeviceCount() { return 0; }

std::string Name(int index) { return "cuda:" + std::to_string(index) + " (no CUDA in this build)"; }

proto::MemoryStats Memory(int /*index*/) { return {}; }

void ReleaseCachedMemory(int /*index*/) {}

std::string PciBusId(int /*index*/) { return ""; }

std::int64_t PeakReserved(int /*index*/) { return 0; }

void ResetPeak(int /*index*/) {}

}  // namespace tsdsr::model::cuda_backend
