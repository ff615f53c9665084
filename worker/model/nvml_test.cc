#include "worker/model/nvml.h"

#include <dlfcn.h>

#include <gtest/gtest.h>

namespace tsdsr::model {
namespace {

// TSDSR_FAKE_NVML: the path of testdata/fake_nvml.cc built as a shared library (CMake defines it).
TEST(NvmlTest, ReadsUtilisationThroughTheCAbi) {
  auto nvml = NvmlLibrary::Load(TSDSR_FAKE_NVML);
  ASSERT_TRUE(nvml.ok()) << nvml.status().message();
  auto busy = (*nvml)->Utilization("0000:17:00.0");
  ASSERT_TRUE(busy.ok()) << busy.status().message();
  EXPECT_DOUBLE_EQ(*busy, 0.37);
  auto absent = (*nvml)->Utilization("0000:99:00.0");
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_NE(absent.status().message().find("0000:99:00.0 (NVML error 6: Not Found)"), std::string::npos)
      << absent.status().message();
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
