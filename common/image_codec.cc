#include "common/image_codec.h"

#include <cctype>
#include <climits>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace tsdsr {
namespace {

// What OpenCV needs to write one output format.
struct Encoding {
  const char* extension;
  std::vector<int> params;
  int max_side;  // the largest width or height the format can hold
};

constexpr int kJpegQuality = 95;
constexpr int kWebpQuality = 95;

Result<Encoding> EncodingOf(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng:
      // No parameters on purpose: passing IMWRITE_PNG_COMPRESSION switches OpenCV 4.6 away from its fast
      // default strategy and makes encoding 2-3x slower.
      return Encoding{".png", {}, INT_MAX};
    case ImageFormat::kJpeg:
      return Encoding{".jpg", {cv::IMWRITE_JPEG_QUALITY, kJpegQuality}, 65500};
    case ImageFormat::kWebp:
      return Encoding{".webp", {cv::IMWRITE_WEBP_QUALITY, kWebpQuality}, 16383};
    default:
      return Status::InvalidArgument("cannot encode " + std::string(FormatName(format)) +
                                     " images (use png, jpeg or webp)");
  }
}

std::string Quoted(std::string_view text) {
  constexpr std::size_t kMaxShown = 32;  // never echo a huge hostile parameter back
  std::string shown(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) shown += "...";
  return "'" + shown + "'";
}

}  // namespace

Result<cv::Mat> DecodeImage(std::string_view bytes, std::int64_t max_pixels) {
  TSDSR_ASSIGN_OR_RETURN(ImageProbe probe, ProbeImage(bytes));
  std::int64_t pixels = static_cast<std::int64_t>(probe.width) * probe.height;
  if (max_pixels > 0 && pixels > max_pixels) {
    return Status::TooLarge("image is " + std::to_string(probe.width) + "x" + std::to_string(probe.height) +
                            " (" + std::to_string(pixels) + " pixels), over the limit of " +
                            std::to_string(max_pixels) + " pixels");
  }
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) return Status::TooLarge("image file over 2 GiB");
  std::string format(FormatName(probe.format));
  try {
    // imdecode only reads the buffer; the const_cast is needed to wrap it without a copy.
    cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    cv::Mat image = cv::imdecode(buffer, cv::IMREAD_COLOR);  // always 8-bit BGR
    if (image.empty()) {
      return Status::InvalidArgument("cannot decode " + format + " image (corrupt or unsupported data)");
    }
    if (image.type() != CV_8UC3) return Status::Internal("decoder returned an unexpected pixel type");
    return image;
  } catch (const cv::Exception& e) {
    return Status::InvalidArgument("cannot decode " + format + " image (" + e.msg + ")");
  }
}

Result<ImageFormat> ParseOutputFormat(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "png") return ImageFormat::kPng;
  if (lower == "jpeg" || lower == "jpg") return ImageFormat::kJpeg;
  if (lower == "webp") return ImageFormat::kWebp;
  return Status::InvalidArgument("unsupported output format " + Quoted(name) + " (use png, jpeg or webp)");
}

Result<std::string> EncodeImage(const cv::Mat& bgr, ImageFormat format) {
  if (bgr.empty()) return Status::InvalidArgument("cannot encode an empty image");
  int channels = bgr.channels();
  if (bgr.depth() != CV_8U || (channels != 1 && channels != 3 && channels != 4)) {
    return Status::InvalidArgument("cannot encode: expected an 8-bit image with 1, 3 or 4 channels");
  }
  TSDSR_ASSIGN_OR_RETURN(Encoding encoding, EncodingOf(format));
  std::string name(FormatName(format));
  if (bgr.cols > encoding.max_side || bgr.rows > encoding.max_side) {
    return Status::InvalidArgument(name + " cannot hold a " + std::to_string(bgr.cols) + "x" +
                                   std::to_string(bgr.rows) + " image (at most " +
                                   std::to_string(encoding.max_side) + " pixels a side); use png");
  }
  try {
    std::vector<uchar> buffer;
    if (!cv::imencode(encoding.extension, bgr, buffer, encoding.params)) {
      return Status::Internal("OpenCV could not encode the image as " + name);
    }
    return std::string(buffer.begin(), buffer.end());
  } catch (const cv::Exception& e) {
    return Status::Internal("OpenCV could not encode the image as " + name + ": " + e.msg);
  }
}

}  // namespace tsdsr
