// Devices for the model library: parsing "cpu" / "cuda" / "cuda:N", checking a device is there, the compute
// dtype, the device's name and memory. CUDA specifics live in device_cuda.cc (built against a CUDA LibTorch)
// or device_cpu.cc (its stand-in for CPU-only builds); CMake picks one. Only light c10 headers here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "common/protocol.h"
#include "common/status.h"
#include "worker/model/nvml.h"

namespace tsdsr::model {

// Parses "cpu", "cuda" (meaning "cuda:0") or "cuda:N" without checking that the device exists.
// InvalidArgument for anything else.
Result<c10::Device> ParseDevice(std::string_view text);

// Parses `text` and checks the device is usable: FailedPrecondition "this build of LibTorch has no CUDA" or
// "cuda:3 not present, 1 device(s) visible"; InvalidArgument as ParseDevice.
Result<c10::Device> ResolveDevice(std::string_view text);

// The canonical spelling of a device: "cpu", "cuda:0" (always with an index).
std::string DeviceString(const c10::Device& device);

// The dtype a network computes in for --dtype `flag`: "float32", "float16", "bfloat16", or "auto": float32 on the
// CPU; on CUDA bfloat16 when `reduced_precision_ok` (the network is measured to stay accurate in it: tensor cores,
// half the memory, float32's range), else float32. InvalidArgument for another flag; FailedPrecondition for
// float16 on the CPU (LibTorch has no CPU float16 convolutions).
Result<c10::ScalarType> ResolveDtype(std::string_view flag, const c10::Device& device, bool reduced_precision_ok);

// The dtype as reported to the dispatcher: "float32", "float16", "bfloat16", "float64", else c10's name.
std::string DtypeName(c10::ScalarType dtype);

// A human name: the CPU model from /proc/cpuinfo ("cpu" when unknown), or the GPU's name.
std::string DeviceName(const c10::Device& device);

// Memory now. CUDA: total/free from the driver, reserved/allocated from LibTorch's caching allocator.
// CPU: total = MemTotal, free = MemAvailable, allocated = this process's resident set, reserved = 0.
// Zeros where unknown. Thread-safe.
proto::MemoryStats DeviceMemory(const c10::Device& device);

// The most memory held since the last ResetPeakMemory, in bytes. CUDA: the caching allocator's peak reserved
// bytes (what the process took from the GPU). CPU: the process's peak resident set (VmHWM), which is never reset.
// 0 when unknown. Thread-safe.
std::int64_t PeakMemory(const c10::Device& device);
// Starts a new PeakMemory period (CUDA only). Thread-safe.
void ResetPeakMemory(const c10::Device& device);

// Hands the CUDA caching allocator's unused blocks back to the driver; a no-op on CPU. Thread-safe.
void ReleaseCachedMemory(const c10::Device& device);

// The GPU's readings from NVML (nvml.h; loaded on first use); all empty on a CPU, without an NVIDIA driver, or
// for a device NVML does not list. Thread-safe.
GpuReadings DeviceGpuReadings(const c10::Device& device);

// The "model name" of the first processor in /proc/cpuinfo text; empty when absent. Exposed for tests.
std::string ParseCpuModel(std::string_view cpuinfo);

// MemTotal and MemAvailable (MemFree when absent) of /proc/meminfo text, in bytes, as total and free;
// zero when absent. Exposed for tests.
proto::MemoryStats ParseMeminfo(std::string_view meminfo);

// The CUDA side, implemented by device_cuda.cc or device_cpu.cc. Use the functions above instead: they
// dispatch on the device type; these take a CUDA device index.
namespace cuda_backend {
bool BuiltWithCuda();
int DeviceCount();
std::string Name(int index);
proto::MemoryStats Memory(int index);
void ReleaseCachedMemory(int index);
std::string PciBusId(int index);  // "0000:17:00.0"; empty when unknown
std::int64_t PeakReserved(int index);
void ResetPeak(int index);
}  // namespace cuda_backend

}  // namespace tsdsr::model
