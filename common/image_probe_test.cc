#include "common/image_probe.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace tsdsr {
namespace {

// A deterministic noisy image, so encoders cannot collapse it into a trivial stream.
cv::Mat NoisyImage(int width, int height, int type = CV_8UC3) {
  cv::Mat image(height, width, type);
  cv::RNG rng(width * 131 + height);
  rng.fill(image, cv::RNG::UNIFORM, 0, CV_MAT_DEPTH(type) == CV_16U ? 65535 : 255);
  return image;
}

std::string Encode(const cv::Mat& image, const std::string& ext, const std::vector<int>& params = {}) {
  std::vector<uchar> buffer;
  EXPECT_TRUE(cv::imencode(ext, image, buffer, params)) << ext;
  return std::string(buffer.begin(), buffer.end());
}

void ExpectProbe(const std::string& bytes, ImageFormat format, int width, int height) {
  Result<ImageProbe> probe = ProbeImage(bytes);
  ASSERT_TRUE(probe.ok()) << FormatName(format) << " " << width << "x" << height << ": "
                          << probe.status().ToString();
  EXPECT_EQ(probe->format, format);
  EXPECT_EQ(probe->width, width);
  EXPECT_EQ(probe->height, height);
}

std::string ProbeError(const std::string& bytes) {
  Result<ImageProbe> probe = ProbeImage(bytes);
  EXPECT_FALSE(probe.ok());
  if (probe.ok()) return "";
  EXPECT_EQ(probe.status().code(), StatusCode::kInvalidArgument);
  return probe.status().message();
}

std::string Be32Bytes(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string PngChunk(const std::string& type, const std::string& data) {
  return Be32Bytes(static_cast<std::uint32_t>(data.size())) + type + data + Be32Bytes(Crc32(type + data));
}

const std::vector<cv::Size> kSizes = {{1, 1}, {1, 9}, {9, 1}, {13, 5}, {97, 61}};

TEST(Crc32Test, KnownVectors) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32("IEND"), 0xAE426082u);
}

TEST(ImageProbeTest, PngOfManySizesAndKinds) {
  for (const cv::Size& size : kSizes) {
    ExpectProbe(Encode(NoisyImage(size.width, size.height), ".png"), ImageFormat::kPng, size.width, size.height);
    ExpectProbe(Encode(NoisyImage(size.width, size.height, CV_8UC1), ".png"), ImageFormat::kPng, size.width,
                size.height);
    ExpectProbe(Encode(NoisyImage(size.width, size.height, CV_8UC4), ".png"), ImageFormat::kPng, size.width,
                size.height);
    ExpectProbe(Encode(NoisyImage(size.width, size.height, CV_16UC3), ".png"), ImageFormat::kPng, size.width,
                size.height);
    ExpectProbe(Encode(NoisyImage(size.width, size.height, CV_8UC1), ".png", {cv::IMWRITE_PNG_BILEVEL, 1}),
                ImageFormat::kPng, size.width, size.height);
  }
}

TEST(ImageProbeTest, JpegWebpBmpTiffOfManySizes) {
  for (const cv::Size& size : kSizes) {
    cv::Mat image = NoisyImage(size.width, size.height);
    ExpectProbe(Encode(image, ".jpg"), ImageFormat::kJpeg, size.width, size.height);
    ExpectProbe(Encode(image, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), ImageFormat::kJpeg, size.width,
                size.height);
    ExpectProbe(Encode(NoisyImage(size.width, size.height, CV_8UC1), ".jpg"), ImageFormat::kJpeg, size.width,
                size.height);
    ExpectProbe(Encode(image, ".webp", {cv::IMWRITE_WEBP_QUALITY, 90}), ImageFormat::kWebp, size.width,
                size.height);
    ExpectProbe(Encode(image, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}), ImageFormat::kWebp, size.width,
                size.height);  // lossless: VP8L
    ExpectProbe(Encode(NoisyImage(size.width, size.height, CV_8UC4), ".webp", {cv::IMWRITE_WEBP_QUALITY, 90}),
                ImageFormat::kWebp, size.width, size.height);  // lossy with alpha: VP8X + ALPH + VP8
    ExpectProbe(Encode(image, ".bmp"), ImageFormat::kBmp, size.width, size.height);
    ExpectProbe(Encode(NoisyImage(size.width, size.height, CV_8UC1), ".bmp"), ImageFormat::kBmp, size.width,
                size.height);
    ExpectProbe(Encode(image, ".tiff"), ImageFormat::kTiff, size.width, size.height);
  }
}

TEST(ImageProbeTest, EveryTruncationIsRefused) {
  cv::Mat image = NoisyImage(23, 17);
  cv::Mat bgra = NoisyImage(23, 17, CV_8UC4);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"png", Encode(image, ".png")},
      {"jpeg", Encode(image, ".jpg")},
      {"progressive jpeg", Encode(image, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
      {"webp", Encode(image, ".webp")},
      {"webp with alpha", Encode(bgra, ".webp", {cv::IMWRITE_WEBP_QUALITY, 90})},
      {"bmp", Encode(image, ".bmp")},
  };
  for (const auto& [name, bytes] : files) {
    ASSERT_TRUE(ProbeImage(bytes).ok()) << name;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(ProbeImage(std::string_view(bytes).substr(0, n)).ok()) << name << " cut to " << n << " bytes";
    }
  }
}

TEST(ImageProbeTest, TruncationMessagesReadWell) {
  std::string png = Encode(NoisyImage(8, 8), ".png");
  EXPECT_EQ(ProbeError(png.substr(0, png.size() - 12)), "truncated PNG (no IEND chunk)");
  EXPECT_EQ(ProbeError(png.substr(0, png.size() - 3)), "truncated PNG (IEND chunk cut short)");
  std::string jpeg = Encode(NoisyImage(8, 8), ".jpg");
  EXPECT_EQ(ProbeError(jpeg.substr(0, jpeg.size() - 2)),
            "truncated JPEG (image data cut short, no end-of-image marker)");
}

TEST(ImageProbeTest, FlippedByteInIdatIsACrcError) {
  std::string png = Encode(NoisyImage(31, 7), ".png");
  std::size_t idat = png.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  png[idat + 10] = static_cast<char>(png[idat + 10] ^ 0x01);
  EXPECT_EQ(ProbeError(png), "corrupt PNG (CRC mismatch in IDAT chunk)");
}

TEST(ImageProbeTest, HandMadePngStructureErrors) {
  const std::string signature("\x89PNG\r\n\x1a\n", 8);
  auto ihdr = [](std::uint32_t w, std::uint32_t h, char depth, char colour) {
    return PngChunk("IHDR", Be32Bytes(w) + Be32Bytes(h) + depth + colour + std::string(3, '\0'));
  };
  const std::string idat = PngChunk("IDAT", "xx");
  const std::string iend = PngChunk("IEND", "");
  ExpectProbe(signature + ihdr(3, 2, 8, 2) + idat + iend, ImageFormat::kPng, 3, 2);
  EXPECT_EQ(ProbeError(signature + ihdr(0, 2, 8, 2) + idat + iend), "image has zero width");
  EXPECT_EQ(ProbeError(signature + ihdr(2, 0, 8, 2) + idat + iend), "image has zero height");
  EXPECT_EQ(ProbeError(signature + ihdr(2, 2, 8, 2) + iend), "corrupt PNG (no IDAT chunk)");
  EXPECT_EQ(ProbeError(signature + idat + ihdr(2, 2, 8, 2) + iend), "corrupt PNG (first chunk is IDAT, not IHDR)");
  EXPECT_EQ(ProbeError(signature + ihdr(2, 2, 3, 2) + idat + iend), "corrupt PNG (invalid bit depth 3)");
  EXPECT_EQ(ProbeError(signature + ihdr(2, 2, 8, 3) + idat + iend), "corrupt PNG (palette image without PLTE chunk)");
  EXPECT_EQ(ProbeError(signature + ihdr(0x80000000u, 2, 8, 2) + idat + iend), "corrupt PNG (dimensions out of range)");
  std::string huge_length = signature + ihdr(2, 2, 8, 2) + Be32Bytes(0xFFFFFFF0u) + "IDAT";
  EXPECT_EQ(ProbeError(huge_length), "corrupt PNG (IDAT chunk length out of range)");
  std::string long_length = signature + ihdr(2, 2, 8, 2) + Be32Bytes(0x7FFFFFF0u) + "IDAT" + "xxxxxxxx";
  EXPECT_EQ(ProbeError(long_length), "truncated PNG (IDAT chunk cut short)");
  // Bytes after IEND are ignored, as libpng does.
  ExpectProbe(signature + ihdr(3, 2, 8, 2) + idat + iend + "trailer", ImageFormat::kPng, 3, 2);
}

TEST(ImageProbeTest, JpegTail) {
  std::string jpeg = Encode(NoisyImage(9, 4), ".jpg");
  ExpectProbe(jpeg + std::string(100, '\0'), ImageFormat::kJpeg, 9, 4);
  ExpectProbe(jpeg + jpeg, ImageFormat::kJpeg, 9, 4);  // MPF-style appended image
  EXPECT_EQ(ProbeError(jpeg + "garbage"), "corrupt JPEG (data after the end-of-image marker)");
  std::string no_frame = std::string("\xFF\xD8\xFF\xD9", 4);
  EXPECT_EQ(ProbeError(no_frame), "corrupt JPEG (no frame header before end of image)");
  // A frame header with zero height (DNL-defined height) is refused.
  std::size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  std::string zero_height = jpeg;
  zero_height[sof + 5] = zero_height[sof + 6] = '\0';
  EXPECT_EQ(ProbeError(zero_height), "image has zero height");
}

TEST(ImageProbeTest, WebpBmpTiffHeaderErrors) {
  std::string webp = Encode(NoisyImage(9, 4), ".webp");
  std::string bigger = webp;
  bigger[4] = static_cast<char>(bigger[4] + 2);
  EXPECT_NE(ProbeError(bigger).find("truncated WebP (RIFF header says"), std::string::npos);
  ExpectProbe(webp + "xx", ImageFormat::kWebp, 9, 4);  // trailing bytes after the RIFF are ignored

  std::string bmp = Encode(NoisyImage(9, 4), ".bmp");
  std::string zero_width = bmp;
  zero_width[18] = zero_width[19] = zero_width[20] = zero_width[21] = '\0';
  EXPECT_EQ(ProbeError(zero_width), "image has zero width");
  std::string bad_offset = bmp;
  bad_offset[10] = 2;
  bad_offset[11] = bad_offset[12] = bad_offset[13] = '\0';
  EXPECT_EQ(ProbeError(bad_offset), "corrupt BMP (pixel data overlaps header)");

  std::string tiff = Encode(NoisyImage(9, 4), ".tiff");
  std::string far_ifd = tiff;
  far_ifd[4] = far_ifd[5] = far_ifd[6] = '\x7F';
  far_ifd[7] = '\0';
  EXPECT_EQ(ProbeError(far_ifd.substr(0, 8)), "truncated TIFF (first directory outside the file)");
  EXPECT_FALSE(ProbeImage(far_ifd).ok());
}

TEST(ImageProbeTest, NonImagesAreRefused) {
  EXPECT_EQ(ProbeError(""), "not an image (empty file)");
  EXPECT_EQ(ProbeError("hello, this is a text file\n"), "not an image (unrecognised file signature)");
  EXPECT_EQ(ProbeError("GIF89a......"), "not an image (unrecognised file signature)");
  std::string wav = std::string("RIFF\x24\0\0\0WAVEfmt ", 16);
  EXPECT_EQ(ProbeError(wav), "not an image (unrecognised file signature)");
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string noise(1 + rng() % 300, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    EXPECT_FALSE(ProbeImage(noise).ok());
  }
}

// Random byte mutations of valid files must never crash or read out of bounds (run under ASan/UBSan).
TEST(ImageProbeTest, MutatedFilesDoNotCrash) {
  cv::Mat image = NoisyImage(19, 11);
  const std::vector<std::string> seeds = {
      Encode(image, ".png"), Encode(image, ".jpg"), Encode(image, ".webp"),
      Encode(NoisyImage(19, 11, CV_8UC4), ".webp", {cv::IMWRITE_WEBP_QUALITY, 90}), Encode(image, ".bmp"),
      Encode(image, ".tiff")};
  std::mt19937 rng(1234);
  int accepted = 0;
  for (const std::string& seed : seeds) {
    for (int i = 0; i < 3000; ++i) {
      std::string bytes = seed;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        std::size_t at = rng() % std::min<std::size_t>(bytes.size(), i % 2 == 0 ? 64 : bytes.size());
        bytes[at] = static_cast<char>(rng());
      }
      if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
      Result<ImageProbe> probe = ProbeImage(bytes);
      if (probe.ok()) {
        ++accepted;
        EXPECT_GT(probe->width, 0);
        EXPECT_GT(probe->height, 0);
      }
    }
  }
  SUCCEED() << accepted << " mutated files accepted";
}

TEST(ImageProbeTest, NamesAndContentTypes) {
  EXPECT_EQ(FormatName(ImageFormat::kPng), "png");
  EXPECT_EQ(FormatName(ImageFormat::kJpeg), "jpeg");
  EXPECT_EQ(FormatName(ImageFormat::kUnknown), "unknown");
  EXPECT_EQ(ContentTypeOf(ImageFormat::kWebp), "image/webp");
  EXPECT_EQ(ContentTypeOf(ImageFormat::kBmp), "image/bmp");
  EXPECT_EQ(ContentTypeOf(ImageFormat::kTiff), "image/tiff");
  EXPECT_EQ(ContentTypeOf(ImageFormat::kUnknown), "application/octet-stream");
}

}  // namespace
}  // namespace tsdsr
