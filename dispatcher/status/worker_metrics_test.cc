#include "dispatcher/status/worker_metrics.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

namespace tsdsr::dispatcher {
namespace {

class WorkerMetricsTest : public ::testing::Test {
 protected:
  // The exposition text of everything registered.
  std::string Text() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }
  bool Has(const std::string& line) const { return Text().find(line + "\n") != std::string::npos; }
  bool Mentions(const std::string& name) const { return Text().find("\n" + name + "{") != std::string::npos; }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  WorkerMetrics metrics_{*registry_};
};

WorkerReadings AGpu() {
  WorkerReadings r;
  r.gpu = true;
  r.busy = 1;
  r.progress = 40;
  r.jobs_ok = 3;
  r.jobs_failed = 1;
  r.memory_used_bytes = 2e9;
  r.memory_total_bytes = 80e9;
  r.utilization = 0.75;
  r.power_watts = 312.5;
  r.energy_joules = 1000;
  r.temperature_celsius = 61;
  return r;
}

TEST_F(WorkerMetricsTest, AGpuWorkerHasEverySeriesLabelledWithItsNameAndDevice) {
  metrics_.Set("gpu-a", "cuda:0", AGpu());
  const std::string labels = "{device=\"cuda:0\",worker=\"gpu-a\"}";
  EXPECT_TRUE(Has("tsdsr_worker_busy" + labels + " 1")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_progress_total" + labels + " 40")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_jobs_total{device=\"cuda:0\",outcome=\"ok\",worker=\"gpu-a\"} 3")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_jobs_total{device=\"cuda:0\",outcome=\"failed\",worker=\"gpu-a\"} 1")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_gpu_memory_used_bytes" + labels + " 2000000000")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_gpu_memory_total_bytes" + labels + " 80000000000")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_gpu_utilization_ratio" + labels + " 0.75")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_gpu_power_watts" + labels + " 312.5")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_gpu_energy_joules_total" + labels + " 1000")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_gpu_temperature_celsius" + labels + " 61")) << Text();
}

TEST_F(WorkerMetricsTest, CountersFollowTheWorkersTotalsAndSurviveItsRestart) {
  WorkerReadings r = AGpu();
  metrics_.Set("gpu-a", "cuda:0", r);
  r.progress = 100;
  r.energy_joules = 1500;
  metrics_.Set("gpu-a", "cuda:0", r);
  EXPECT_TRUE(Has("tsdsr_worker_progress_total{device=\"cuda:0\",worker=\"gpu-a\"} 100")) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_gpu_energy_joules_total{device=\"cuda:0\",worker=\"gpu-a\"} 1500")) << Text();
  r.progress = 7;  // the worker restarted under the same name: its count began again
  metrics_.Set("gpu-a", "cuda:0", r);
  EXPECT_TRUE(Has("tsdsr_worker_progress_total{device=\"cuda:0\",worker=\"gpu-a\"} 107")) << "never goes back";
}

TEST_F(WorkerMetricsTest, WhatAWorkerDoesNotKnowIsAbsentNotZero) {
  WorkerReadings cpu;  // a CPU worker: system memory is not GPU memory, and no GPU readings
  cpu.memory_used_bytes = 1e9;
  cpu.memory_total_bytes = 8e9;
  metrics_.Set("cpu-0", "cpu", cpu);
  EXPECT_TRUE(Mentions("tsdsr_worker_busy")) << Text();
  EXPECT_TRUE(Mentions("tsdsr_worker_progress_total")) << Text();
  for (const char* name : {"tsdsr_worker_gpu_memory_used_bytes", "tsdsr_worker_gpu_memory_total_bytes",
                           "tsdsr_worker_gpu_utilization_ratio", "tsdsr_worker_gpu_power_watts",
                           "tsdsr_worker_gpu_energy_joules_total", "tsdsr_worker_gpu_temperature_celsius"}) {
    EXPECT_FALSE(Mentions(name)) << name << "\n" << Text();
  }
  WorkerReadings gpu = AGpu();
  metrics_.Set("gpu-a", "cuda:0", gpu);
  gpu.power_watts = -1;  // the sensor stopped answering
  metrics_.Set("gpu-a", "cuda:0", gpu);
  EXPECT_FALSE(Mentions("tsdsr_worker_gpu_power_watts")) << Text();
  EXPECT_TRUE(Mentions("tsdsr_worker_gpu_temperature_celsius")) << Text();
}

TEST_F(WorkerMetricsTest, AWorkerThatLeavesTakesItsSeriesWithIt) {
  metrics_.Set("gpu-a", "cuda:0", AGpu());
  metrics_.Set("gpu-b", "cuda:1", AGpu());
  metrics_.Remove("gpu-a");
  metrics_.Remove("never-seen");
  EXPECT_EQ(Text().find("gpu-a"), std::string::npos) << Text();
  EXPECT_TRUE(Has("tsdsr_worker_busy{device=\"cuda:1\",worker=\"gpu-b\"} 1")) << Text();
}

}  // namespace
}  // namespace tsdsr::dispatcher
