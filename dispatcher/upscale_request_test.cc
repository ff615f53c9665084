#include "dispatcher/upscale_request.h"

#include <map>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

namespace tsdsr::dispatcher {
namespace {

QueryLookup Query(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

// A whole 1x1 PNG as OpenCV writes it.
std::string TinyPng() {
  std::vector<unsigned char> png;
  cv::imencode(".png", cv::Mat(1, 1, CV_8UC3, cv::Scalar(10, 20, 30)), png);
  return std::string(png.begin(), png.end());
}

TEST(UpscaleQueryTest, DefaultsApplyWhenNothingIsGiven) {
  UpscaleDefaults defaults;
  defaults.scale = 4;
  defaults.process_size = 96;
  auto q = ParseUpscaleQuery(Query({}), defaults, {2, 4});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->scale, 4);
  EXPECT_EQ(q->process_size, 96);
  EXPECT_EQ(q->format, "png");
  EXPECT_EQ(q->timeout_ms, defaults.max_timeout_ms);
  EXPECT_EQ(q->priority, 0);
}

TEST(UpscaleQueryTest, RefusesScalesTheWorkersDoNotServe) {
  auto q = ParseUpscaleQuery(Query({{"upscale", "3"}}), {}, {2, 4});
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(q.status().message(), "upscale must be one of 2, 4 (got 3)");
  EXPECT_FALSE(ParseUpscaleQuery(Query({{"upscale", "two"}}), {}, {2, 4}).ok());
  EXPECT_FALSE(ParseUpscaleQuery(Query({{"upscale", "4294967298"}}), {}, {2, 4}).ok());
  EXPECT_TRUE(ParseUpscaleQuery(Query({{"upscale", "4"}}), {}, {}).ok()) << "service scales when no worker";
}

TEST(UpscaleQueryTest, ProcessSizeMustBeWithin64And256) {
  auto q = ParseUpscaleQuery(Query({{"process_size", "9999"}}), {}, {2});
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().message(), "process_size must be between 64 and 256 (got 9999)");
  EXPECT_FALSE(ParseUpscaleQuery(Query({{"process_size", "63"}}), {}, {2}).ok());
  EXPECT_FALSE(ParseUpscaleQuery(Query({{"process_size", "12x"}}), {}, {2}).ok());
  EXPECT_EQ(ParseUpscaleQuery(Query({{"process_size", "256"}}), {}, {2})->process_size, 256);
}

TEST(UpscaleQueryTest, FormatAndTimeout) {
  EXPECT_EQ(ParseUpscaleQuery(Query({{"format", "JPG"}}), {}, {2})->format, "jpeg");
  EXPECT_FALSE(ParseUpscaleQuery(Query({{"format", "gif"}}), {}, {2}).ok());
  UpscaleDefaults defaults;
  defaults.max_timeout_ms = 1000;
  EXPECT_EQ(ParseUpscaleQuery(Query({{"timeout_ms", "50"}}), defaults, {2})->timeout_ms, 50);
  EXPECT_EQ(ParseUpscaleQuery(Query({{"timeout_ms", "5000"}}), defaults, {2})->timeout_ms, 1000) << "capped";
  EXPECT_FALSE(ParseUpscaleQuery(Query({{"timeout_ms", "0"}}), defaults, {2}).ok());
  EXPECT_EQ(ParseUpscaleQuery(Query({{"priority", "9"}}), defaults, {2})->priority, 9);
  EXPECT_EQ(ParseUpscaleQuery(Query({{"priority", "10"}}), defaults, {2}).status().message(),
            "priority must be between 0 and 9 (got 10)");
}

TEST(ExtractUploadTest, TakesTheFileFieldOfAMultipartBody) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
      "Content-Type: image/png\r\n\r\nPNGDATA\r\n--XyZ--\r\n";
  auto upload = ExtractUpload("multipart/form-data; boundary=XyZ", body);
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  EXPECT_EQ(upload->bytes, "PNGDATA");
  EXPECT_EQ(upload->filename, "a.png");
}

TEST(ExtractUploadTest, NamesTheFieldsWhenFileIsMissing) {
  std::string body = "--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\nX\r\n--b--\r\n";
  auto upload = ExtractUpload("multipart/form-data; boundary=b", body);
  ASSERT_FALSE(upload.ok());
  EXPECT_EQ(upload.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(upload.status().message(), "multipart field 'file' is missing (fields sent: 'image')");
}

TEST(ExtractUploadTest, RawBodiesAndTheirTypes) {
  EXPECT_EQ(ExtractUpload("image/png", "abc")->bytes, "abc");
  EXPECT_EQ(ExtractUpload("image/png", "abc")->filename, "");
  EXPECT_EQ(ExtractUpload("application/octet-stream", "abc")->bytes, "abc");
  EXPECT_EQ(ExtractUpload("text/plain", "abc").status().code(), StatusCode::kUnsupportedType);
  EXPECT_EQ(ExtractUpload("", "abc").status().code(), StatusCode::kUnsupportedType);
  EXPECT_EQ(ExtractUpload("image/png", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExtractUpload("multipart/form-data", "--b\r\n").status().code(), StatusCode::kInvalidArgument);
}

TEST(ExtractBatchUploadsTest, TakesEveryFilesAndFilePartInOrder) {
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"one.png\"\r\n\r\n111\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"two.jpg\"\r\n\r\n222\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"three.webp\"\r\n\r\n\r\n--b--\r\n";
  auto files = ExtractBatchUploads("multipart/form-data; boundary=b", body, 10);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].filename, "one.png");
  EXPECT_EQ((*files)[0].bytes, "111");
  EXPECT_EQ((*files)[1].filename, "two.jpg");
  EXPECT_EQ((*files)[2].bytes, "") << "an empty file is the batch's to report, not a reason to refuse it";
}

TEST(ExtractBatchUploadsTest, RefusesTooManyFilesAndWrongBodies) {
  std::string body;
  for (int i = 0; i < 4; ++i) body += "--b\r\nContent-Disposition: form-data; name=\"files\"\r\n\r\nX\r\n";
  body += "--b--\r\n";
  auto too_many = ExtractBatchUploads("multipart/form-data; boundary=b", body, 3);
  EXPECT_EQ(too_many.status().code(), StatusCode::kTooLarge);
  EXPECT_NE(too_many.status().message().find("--max-batch-files"), std::string::npos);
  EXPECT_TRUE(ExtractBatchUploads("multipart/form-data; boundary=b", body, 4).ok());
  EXPECT_EQ(ExtractBatchUploads("image/png", "abc", 3).status().code(), StatusCode::kUnsupportedType);
  auto none = ExtractBatchUploads("multipart/form-data; boundary=b",
                                  "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nX\r\n--b--\r\n", 3);
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(none.status().message(), "multipart field 'files' is missing (fields sent: 'x')");
}

TEST(ExtractUploadTest, VideosComeWithTheirType) {
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
      "Content-Type: video/mp4\r\n\r\nMP4DATA\r\n--b--\r\n";
  auto upload = ExtractUpload("multipart/form-data; boundary=b", body);
  ASSERT_TRUE(upload.ok());
  EXPECT_EQ(upload->content_type, "video/mp4");
  EXPECT_EQ(upload->filename, "clip.mp4");
  auto raw = ExtractUpload("video/x-matroska", "MKV");
  ASSERT_TRUE(raw.ok()) << "a raw video/* body is an upload";
  EXPECT_EQ(raw->content_type, "video/x-matroska");
}

TEST(VideoQueryTest, OutputSettingsWithTheirDefaultsAndLimits) {
  JobSpec spec;
  ASSERT_TRUE(ParseVideoQuery(Query({}), &spec).ok());
  EXPECT_EQ(spec.codec, "hevc");
  EXPECT_EQ(spec.format, "mp4");
  EXPECT_EQ(spec.crf, -1);
  EXPECT_EQ(spec.encoder, "auto");
  ASSERT_TRUE(ParseVideoQuery(Query({{"codec", "AV1"}, {"container", "mkv"}, {"crf", "40"}, {"preset", "6"}}), &spec)
                  .ok());
  EXPECT_EQ(spec.codec, "av1");
  EXPECT_EQ(spec.format, "matroska");
  EXPECT_EQ(spec.crf, 40);
  EXPECT_EQ(spec.preset, "6");
  for (auto bad : std::vector<std::map<std::string, std::string>>{
           {{"codec", "mpeg2"}}, {{"container", "avi"}}, {{"crf", "52"}}, {{"crf", "-1"}}, {{"crf", "x"}},
           {{"preset", "a b"}}, {{"preset", ""}}, {{"encoder", "vaapi"}}}) {
    JobSpec s;
    EXPECT_EQ(ParseVideoQuery(Query(bad), &s).code(), StatusCode::kInvalidArgument) << bad.begin()->first;
  }
}

TEST(VideoQueryTest, EncoderFamilyIsAutoSoftwareOrNvencWithItsOwnQualityRange) {
  JobSpec spec;
  ASSERT_TRUE(ParseVideoQuery(Query({{"encoder", "NVENC"}, {"codec", "h264"}, {"crf", "30"}, {"preset", "p7"}}), &spec)
                  .ok());
  EXPECT_EQ(spec.encoder, "nvenc");
  EXPECT_EQ(spec.preset, "p7");
  ASSERT_TRUE(ParseVideoQuery(Query({{"encoder", "software"}}), &spec).ok());
  EXPECT_EQ(spec.encoder, "software");
  // SVT-AV1 takes crf up to 63, NVENC's cq stops at 51.
  EXPECT_TRUE(ParseVideoQuery(Query({{"codec", "av1"}, {"crf", "60"}}), &spec).ok());
  Status refused = ParseVideoQuery(Query({{"encoder", "nvenc"}, {"codec", "av1"}, {"crf", "60"}}), &spec);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("av1_nvenc"), std::string::npos) << refused.message();
}

TEST(CheckImageTest, AcceptsWholeImagesWithinTheLimit) {
  auto probe = CheckImage(TinyPng(), 1);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ(probe->width, 1);
  EXPECT_EQ(CheckImage(TinyPng().substr(0, 40), 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckImage("just some text", 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckImage(TinyPng(), 0).status().code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace tsdsr::dispatcher
