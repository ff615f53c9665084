// Image decode/encode at the edge of the system (OpenCV): uploads become 8-bit BGR cv::Mat, results become
// PNG/JPEG/WebP bytes. Every decode is preceded by ProbeImage, so the same structural rules apply everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <opencv2/core/mat.hpp>

#include "common/image_probe.h"
#include "common/status.h"

namespace tsdsr {

// Probes `bytes` (InvalidArgument on a bad or truncated file), refuses more than `max_pixels` pixels with
// TooLarge before decoding (`max_pixels` <= 0: no limit), then decodes to 8-bit 3-channel BGR (grey, alpha
// and 16-bit inputs are converted; alpha is dropped; JPEG EXIF orientation is applied, so width and height
// may be swapped relative to the probe). InvalidArgument when OpenCV cannot decode. Thread-safe.
Result<cv::Mat> DecodeImage(std::string_view bytes, std::int64_t max_pixels);

// Parses an output format name, case-insensitively: "png", "jpeg" or "jpg", "webp".
// InvalidArgument naming the accepted values otherwise. Thread-safe.
Result<ImageFormat> ParseOutputFormat(std::string_view name);

// Encodes an 8-bit BGR (or grey / BGRA) image: PNG with OpenCV's default (fast) parameters, JPEG and WebP
// at quality 95. InvalidArgument for an empty or non-8-bit image, a format other than PNG/JPEG/WebP, or
// a size the format cannot hold; Internal if OpenCV fails. Thread-safe.
Result<std::string> EncodeImage(const cv::Mat& bgr, ImageFormat format);

}  // namespace tsdsr
