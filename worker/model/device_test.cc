#include "worker/model/device.h"

#include <string>

#include <gtest/gtest.h>

namespace tsdsr::model {
namespace {

TEST(ParseDeviceTest, AcceptsCpuCudaAndCudaN) {
  auto cpu = ParseDevice("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_TRUE(cpu->is_cpu());
  auto cuda = ParseDevice("cuda");
  ASSERT_TRUE(cuda.ok());
  EXPECT_TRUE(cuda->is_cuda());
  EXPECT_EQ(cuda->index(), 0);
  auto cuda7 = ParseDevice("cuda:7");
  ASSERT_TRUE(cuda7.ok());
  EXPECT_EQ(cuda7->index(), 7);
  EXPECT_EQ(ParseDevice("cuda:12")->index(), 12);
}

TEST(ParseDeviceTest, RejectsEverythingElse) {
  for (const char* text : {"", "gpu", "CPU", "cpu:0", " cpu", "cuda:", "cuda:-1", "cuda:+1", "cuda:x", "cuda:1x",
                           "cuda:0 ", "cuda:9999", "cuda:200", "mps"}) {
    auto device = ParseDevice(text);
    EXPECT_EQ(device.status().code(), StatusCode::kInvalidArgument) << '"' << text << '"';
  }
  EXPECT_EQ(ParseDevice("gpu").status().message(), "unknown device \"gpu\"; expected cpu, cuda or cuda:N");
}

TEST(ResolveDeviceTest, CpuIsAlwaysThere) {
  auto device = ResolveDevice("cpu");
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(DeviceString(*device), "cpu");
}

TEST(ResolveDeviceTest, MissingCudaIsAFailedPrecondition) {
  if (!cuda_backend::BuiltWithCuda()) {
    auto device = ResolveDevice("cuda:0");
    EXPECT_EQ(device.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(device.status().message(), "cannot use cuda:0: this build of LibTorch has no CUDA");
    return;
  }
  const int count = cuda_backend::DeviceCount();
  auto device = ResolveDevice("cuda:" + std::to_string(count));
  EXPECT_EQ(device.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(device.status().message(),
            "cuda:" + std::to_string(count) + " not present, " + std::to_string(count) + " device(s) visible");
}

TEST(ResolveDeviceTest, BadSyntaxIsAnInvalidArgument) {
  EXPECT_EQ(ResolveDevice("cuda:zero").status().code(), StatusCode::kInvalidArgument);
}

TEST(DeviceTest, CanonicalNames) {
  EXPECT_EQ(DeviceString(c10::Device(c10::kCPU)), "cpu");
  EXPECT_EQ(DeviceString(c10::Device(c10::kCUDA, 3)), "cuda:3");
  EXPECT_EQ(DeviceString(c10::Device(c10::kCUDA)), "cuda:0");
  EXPECT_EQ(DtypeName(c10::ScalarType::Float), "float32");
  EXPECT_EQ(DtypeName(c10::ScalarType::Half), "float16");
  EXPECT_EQ(DtypeName(c10::ScalarType::BFloat16), "bfloat16");
  EXPECT_EQ(DtypeName(c10::ScalarType::Double), "float64");
}

TEST(DeviceTest, ResolveDtype) {
  const c10::Device cpu(c10::kCPU);
  const c10::Device cuda(c10::kCUDA, 0);
  EXPECT_EQ(*ResolveDtype("auto", cpu, true), c10::kFloat);
  EXPECT_EQ(*ResolveDtype("auto", cuda, true), c10::kBFloat16);
  EXPECT_EQ(*ResolveDtype("auto", cuda, false), c10::kFloat);
  EXPECT_EQ(*ResolveDtype("float16", cuda, false), c10::kHalf);
  EXPECT_EQ(*ResolveDtype("bfloat16", cpu, false), c10::kBFloat16);
  EXPECT_EQ(*ResolveDtype("float32", cuda, true), c10::kFloat);
  EXPECT_EQ(ResolveDtype("float16", cpu, true).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ResolveDtype("half", cpu, true).status().message(),
            "--dtype must be auto, float32, float16 or bfloat16, got 'half'");
}

TEST(DeviceTest, CpuNameAndMemory) {
  const c10::Device cpu(c10::kCPU);
  EXPECT_FALSE(DeviceName(cpu).empty());
  const proto::MemoryStats memory = DeviceMemory(cpu);
  EXPECT_GT(memory.total, 0);
  EXPECT_GT(memory.free, 0);
  EXPECT_LE(memory.free, memory.total);
  EXPECT_GT(memory.allocated, 0);  // this process's resident set
  EXPECT_LT(memory.allocated, memory.total);
  EXPECT_EQ(memory.reserved, 0);
  ReleaseCachedMemory(cpu);  // a no-op
  const GpuReadings gpu = DeviceGpuReadings(cpu);
  EXPECT_FALSE(gpu.utilization || gpu.power_watts || gpu.energy_joules || gpu.temperature_celsius)
      << "a CPU has no GPU readings";
}

TEST(ProcParsersTest, CpuModel) {
  const char* cpuinfo =
      "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\n"
      "model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\nstepping\t: 7\n\n"
      "processor\t: 1\nmodel name\t: Another One\n";
  EXPECT_EQ(ParseCpuModel(cpuinfo), "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz");
  EXPECT_EQ(ParseCpuModel("processor : 0\nHardware : BCM2835\n"), "");
  EXPECT_EQ(ParseCpuModel(""), "");
}

TEST(ProcParsersTest, Meminfo) {
  const proto::MemoryStats m = ParseMeminfo(
      "MemTotal:       16318236 kB\nMemFree:          530812 kB\nMemAvailable:   11390144 kB\n"
      "Buffers:          1234 kB\n");
  EXPECT_EQ(m.total, 16318236LL * 1024);
  EXPECT_EQ(m.free, 11390144LL * 1024);
  EXPECT_EQ(m.allocated, 0);
  const proto::MemoryStats old_kernel = ParseMeminfo("MemTotal: 1000 kB\nMemFree: 200 kB\n");
  EXPECT_EQ(old_kernel.free, 200 * 1024);
  EXPECT_EQ(ParseMeminfo("").total, 0);
}

}  // namespace
}  // namespace tsdsr::model
