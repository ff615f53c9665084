#include "worker/model/nvml.h"

#include <dlfcn.h>

#include <gtest/gtest.h>

namespace tsdsr::model {
namespace {

// TSDSR_FAKE_NVML: the path of testdata/fake_nvml.cc built as a shared library (CMake defines it).
TEST(NvmlTest, ReadsTheGpuThroughTheCAbi) {
  auto nvml = NvmlLibrary::Load(TSDSR_FAKE_NVML);
  ASSERT_TRUE(nvml.ok()) << nvml.status().message();
  auto gpu = (*nvml)->Read("0000:17:00.0");
  ASSERT_TRUE(gpu.ok()) << gpu.status().message();
  EXPECT_DOUBLE_EQ(gpu->utilization.value_or(-1), 0.37);
  EXPECT_DOUBLE_EQ(gpu->power_watts.value_or(-1), 215.5);
  EXPECT_DOUBLE_EQ(gpu->energy_joules.value_or(-1), 123456.789);
  EXPECT_DOUBLE_EQ(gpu->temperature_celsius.value_or(-1), 54);
  auto absent = (*nvml)->Read("0000:99:00.0");
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_NE(absent.status().message().find("0000:99:00.0 (NVML error 6: Not Found)"), std::string::npos)
      << absent.status().message();
}

TEST(NvmlTest, ASensorTheBoardLacksIsEmptyNotZero) {
  auto nvml = NvmlLibrary::Load(TSDSR_FAKE_NVML);
  ASSERT_TRUE(nvml.ok()) << nvml.status().message();
  auto gpu = (*nvml)->Read("0000:18:00.0");
  ASSERT_TRUE(gpu.ok()) << gpu.status().message();
  EXPECT_DOUBLE_EQ(gpu->utilization.value_or(-1), 0.05);
  EXPECT_FALSE(gpu->power_watts.has_value());
  EXPECT_FALSE(gpu->energy_joules.has_value());
  EXPECT_FALSE(gpu->temperature_celsius.has_value());
}

TEST(NvmlTest, ShutsDownWhatItInitialised) {
  void* fake = dlopen(TSDSR_FAKE_NVML, RTLD_NOW | RTLD_LOCAL);  // keeps the library (and its counter) loaded
  ASSERT_NE(fake, nullptr);
  auto live = reinterpret_cast<int (*)()>(dlsym(fake, "nvmlFakeLiveCount"));
  ASSERT_NE(live, nullptr);
  {
    auto nvml = NvmlLibrary::Load(TSDSR_FAKE_NVML);
    ASSERT_TRUE(nvml.ok());
    EXPECT_EQ(live(), 1);
  }
  EXPECT_EQ(live(), 0);
  dlclose(fake);
}

TEST(NvmlTest, AMissingOrForeignLibraryIsUnavailable) {
  auto missing = NvmlLibrary::Load("/nonexistent/libnvidia-ml.so.1");
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(missing.status().message().find("NVML not loaded"), std::string::npos);
  auto foreign = NvmlLibrary::Load("libm.so.6");  // loads, but is not NVML
  EXPECT_EQ(foreign.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(foreign.status().message().find("lacks the functions"), std::string::npos);
}

}  // namespace
}  // namespace tsdsr::model
