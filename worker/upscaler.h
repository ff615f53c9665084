// The model seam of the worker: everything that turns an image into a bigger one implements Upscaler.
// This header is free of LibTorch so the worker's I/O code and its tests compile in seconds.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "common/protocol.h"
#include "common/status.h"
#include "worker/model/nvml.h"

namespace tsdsr::worker {

struct UpscaleRequest {
  int scale = 2;           // output = input × scale in both dimensions; one of description().scales
  int process_size = 128;  // LR tile edge in pixels (64..256)
  // Called after each batch of tiles with (tiles done, tiles total). May be empty.
  std::function<void(int done, int total)> on_progress;
  // Polled between tile batches; when it returns true Upscale stops and returns Cancelled. May be empty.
  std::function<bool()> cancelled;
};

struct ModelDescription {
  std::string name;         // e.g. "bicubic"
  std::vector<int> scales;  // accepted UpscaleRequest::scale values
  std::vector<int> split_margins;  // per scale: proto::WorkerDescription::split_margins
  std::string dtype;        // compute dtype, e.g. "float32"
  std::string device;       // "cpu", "cuda:0"
  std::string device_name;  // GPU name or CPU model
};

class Upscaler {
 public:
  virtual ~Upscaler() = default;

  // Upscales an 8-bit, 3-channel BGR image. Returns an 8-bit BGR image of size (w·scale, h·scale), or
  // InvalidArgument for a scale the model lacks, Cancelled, ResourceExhausted (device out of memory), Internal.
  // Not thread-safe: one Upscale at a time.
  virtual Result<cv::Mat> Upscale(const cv::Mat& bgr, const UpscaleRequest& request) = 0;

  virtual const ModelDescription& description() const = 0;

  // Device memory now. Thread-safe: called from the heartbeat thread while Upscale runs.
  virtual proto::MemoryStats Memory() const = 0;
  // The GPU's utilisation, power, energy and temperature now; empty on a CPU. Thread-safe, as Memory.
  virtual model::GpuReadings Gpu() const = 0;
};

}  // namespace tsdsr::worker
