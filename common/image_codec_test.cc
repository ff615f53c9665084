#include "common/image_codec.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace tsdsr {
namespace {

constexpr std::int64_t kNoLimit = 0;

// A smooth colour gradient: lossy codecs keep it close, so content can be compared.
cv::Mat Gradient(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x * 255 / std::max(1, width - 1)),
                                            static_cast<uchar>(y * 255 / std::max(1, height - 1)), 128);
    }
  }
  return image;
}

std::string OpenCvEncode(const cv::Mat& image, const std::string& ext) {
  std::vector<uchar> buffer;
  EXPECT_TRUE(cv::imencode(ext, image, buffer));
  return std::string(buffer.begin(), buffer.end());
}

double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  cv::Scalar mean = cv::mean(diff);
  return (mean[0] + mean[1] + mean[2]) / 3.0;
}

TEST(ImageCodecTest, PngRoundTripIsExact) {
  cv::Mat image = Gradient(37, 1);
  Result<std::string> png = EncodeImage(image, ImageFormat::kPng);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  EXPECT_EQ(ProbeImage(*png)->format, ImageFormat::kPng);
  Result<cv::Mat> decoded = DecodeImage(*png, kNoLimit);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->type(), CV_8UC3);
  ASSERT_EQ(decoded->size(), image.size());
  EXPECT_EQ(cv::norm(*decoded, image, cv::NORM_INF), 0.0);
}

TEST(ImageCodecTest, LossyRoundTripsKeepSizeAndContent) {
  for (ImageFormat format : {ImageFormat::kJpeg, ImageFormat::kWebp}) {
    for (cv::Size size : {cv::Size(1, 17), cv::Size(64, 33), cv::Size(101, 7)}) {
      cv::Mat image = Gradient(size.width, size.height);
      Result<std::string> bytes = EncodeImage(image, format);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      Result<ImageProbe> probe = ProbeImage(*bytes);
      ASSERT_TRUE(probe.ok()) << probe.status().ToString();
      EXPECT_EQ(probe->format, format);
      Result<cv::Mat> decoded = DecodeImage(*bytes, kNoLimit);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      ASSERT_EQ(decoded->size(), size) << FormatName(format);
      EXPECT_LT(MeanAbsDiff(*decoded, image), 4.0) << FormatName(format) << " " << size;
    }
  }
}

TEST(ImageCodecTest, GreyAndAlphaPngDecodeToThreeChannels) {
  cv::Mat grey(5, 9, CV_8UC1, cv::Scalar(77));
  Result<cv::Mat> from_grey = DecodeImage(OpenCvEncode(grey, ".png"), kNoLimit);
  ASSERT_TRUE(from_grey.ok()) << from_grey.status().ToString();
  EXPECT_EQ(from_grey->type(), CV_8UC3);
  EXPECT_EQ(from_grey->at<cv::Vec3b>(2, 3), cv::Vec3b(77, 77, 77));

  cv::Mat bgra(5, 9, CV_8UC4, cv::Scalar(10, 20, 30, 40));
  Result<cv::Mat> from_bgra = DecodeImage(OpenCvEncode(bgra, ".png"), kNoLimit);
  ASSERT_TRUE(from_bgra.ok()) << from_bgra.status().ToString();
  EXPECT_EQ(from_bgra->type(), CV_8UC3);
  EXPECT_EQ(from_bgra->at<cv::Vec3b>(4, 8), cv::Vec3b(10, 20, 30));

  Result<cv::Mat> from_bmp = DecodeImage(OpenCvEncode(grey, ".bmp"), kNoLimit);
  ASSERT_TRUE(from_bmp.ok()) << from_bmp.status().ToString();
  EXPECT_EQ(from_bmp->type(), CV_8UC3);
}

TEST(ImageCodecTest, SixteenBitPngDecodesToEightBit) {
  cv::Mat deep(4, 6, CV_16UC3, cv::Scalar(0x1234, 0x8000, 0xFFFF));
  Result<cv::Mat> decoded = DecodeImage(OpenCvEncode(deep, ".png"), kNoLimit);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type(), CV_8UC3);
  EXPECT_EQ(decoded->at<cv::Vec3b>(1, 1), cv::Vec3b(0x12, 0x80, 0xFF));
}

TEST(ImageCodecTest, OtherInputFormatsDecode) {
  cv::Mat image = Gradient(13, 6);
  for (const char* ext : {".bmp", ".tiff", ".jpg", ".webp"}) {
    Result<cv::Mat> decoded = DecodeImage(OpenCvEncode(image, ext), kNoLimit);
    ASSERT_TRUE(decoded.ok()) << ext << ": " << decoded.status().ToString();
    EXPECT_EQ(decoded->size(), image.size()) << ext;
  }
}

TEST(ImageCodecTest, PixelLimitIsCheckedBeforeDecoding) {
  std::string png = OpenCvEncode(Gradient(100, 50), ".png");
  EXPECT_TRUE(DecodeImage(png, 5000).ok());
  Result<cv::Mat> over = DecodeImage(png, 4999);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(over.status().message(), "image is 100x50 (5000 pixels), over the limit of 4999 pixels");
}

TEST(ImageCodecTest, GarbageAndCorruptDataAreInvalidArgument) {
  for (const std::string& bytes : {std::string(), std::string("not an image at all"), std::string(100, '\xFF')}) {
    Result<cv::Mat> decoded = DecodeImage(bytes, kNoLimit);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  }
  std::string png = OpenCvEncode(Gradient(20, 20), ".png");
  Result<cv::Mat> truncated = DecodeImage(png.substr(0, png.size() / 2), kNoLimit);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);

  // Structurally valid PNG (chunks and CRCs fine) whose compressed data is garbage: the probe passes and
  // the decoder refuses it.
  auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    return be32(static_cast<std::uint32_t>(data.size())) + type + data + be32(Crc32(type + data));
  };
  std::string bad = std::string("\x89PNG\r\n\x1a\n", 8) +
                    chunk("IHDR", be32(4) + be32(4) + std::string("\x08\x02\0\0\0", 5)) +
                    chunk("IDAT", "this is not zlib data") + chunk("IEND", "");
  ASSERT_TRUE(ProbeImage(bad).ok());
  Result<cv::Mat> undecodable = DecodeImage(bad, kNoLimit);
  ASSERT_FALSE(undecodable.ok());
  EXPECT_EQ(undecodable.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(undecodable.status().message().rfind("cannot decode png image", 0), 0u)
      << undecodable.status().message();
}

TEST(ImageCodecTest, ParseOutputFormat) {
  EXPECT_EQ(*ParseOutputFormat("png"), ImageFormat::kPng);
  EXPECT_EQ(*ParseOutputFormat("PNG"), ImageFormat::kPng);
  EXPECT_EQ(*ParseOutputFormat("jpeg"), ImageFormat::kJpeg);
  EXPECT_EQ(*ParseOutputFormat("jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(*ParseOutputFormat("webp"), ImageFormat::kWebp);
  Result<ImageFormat> gif = ParseOutputFormat("gif");
  ASSERT_FALSE(gif.ok());
  EXPECT_EQ(gif.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gif.status().message(), "unsupported output format 'gif' (use png, jpeg or webp)");
  EXPECT_FALSE(ParseOutputFormat("").ok());
  EXPECT_LT(ParseOutputFormat(std::string(10000, 'x')).status().message().size(), 100u);
}

TEST(ImageCodecTest, EncodeRefusesWhatItCannotWrite) {
  EXPECT_EQ(EncodeImage(cv::Mat(), ImageFormat::kPng).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeImage(cv::Mat(4, 4, CV_32FC3), ImageFormat::kPng).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeImage(cv::Mat(4, 4, CV_8UC2), ImageFormat::kPng).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeImage(Gradient(4, 4), ImageFormat::kBmp).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeImage(Gradient(4, 4), ImageFormat::kUnknown).status().code(), StatusCode::kInvalidArgument);
  Result<std::string> wide_webp = EncodeImage(cv::Mat(1, 16384, CV_8UC3, cv::Scalar::all(0)), ImageFormat::kWebp);
  ASSERT_FALSE(wide_webp.ok());
  EXPECT_EQ(wide_webp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(EncodeImage(cv::Mat(1, 16383, CV_8UC3, cv::Scalar::all(0)), ImageFormat::kWebp).ok());
  EXPECT_TRUE(EncodeImage(cv::Mat(3, 3, CV_8UC1, cv::Scalar::all(9)), ImageFormat::kJpeg).ok());
}

}  // namespace
}  // namespace tsdsr
