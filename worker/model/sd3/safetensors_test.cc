#include "worker/model/sd3/safetensors.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>
#include <gtest/gtest.h>

#include "worker/model/tfjs_test_files.h"

namespace tsdsr::model::sd3 {
namespace {

using model::testing::TempDir;

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// A safetensors file from a header text and raw data bytes.
std::vector<uint8_t> FileBytes(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes(8 + header.size() + data.size());
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(bytes.data() + 8 + header.size(), data.data(), data.size());
  return bytes;
}

// Writes FileBytes(header, data) as dir/name and reads it back; returns the status.
Status ReadHandMade(const TempDir& dir, const std::string& header, const std::vector<uint8_t>& data) {
  dir.Write("t.safetensors", FileBytes(header, data));
  return ReadSafetensors(dir.path() + "/t.safetensors").status();
}

::testing::AssertionResult IsInvalid(const Status& status, const std::vector<std::string>& mentions) {
  if (status.code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "not InvalidArgument: '" << status.message() << "'";
  }
  for (const std::string& m : mentions) {
    if (status.message().find(m) == std::string::npos) {
      return ::testing::AssertionFailure() << "'" << status.message() << "' does not mention '" << m << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

TensorMap EveryDtype() {
  TensorMap t;
  t["f64"] = at::arange(-3, 3, at::kDouble).reshape({2, 3}) / 7;
  t["f32"] = at::arange(-12, 12, at::kFloat).reshape({2, 3, 4}) / 3;
  t["f16"] = at::arange(0, 5, at::kFloat).to(at::kHalf) / 4;
  t["bf16"] = (at::arange(0, 6, at::kFloat) * 1.5).to(at::kBFloat16).reshape({3, 2});
  t["i64"] = at::arange(-2, 2, at::kLong) * (int64_t{1} << 40);
  t["i32"] = at::arange(-100000, 100000, 40000, at::kInt);
  t["i16"] = at::arange(-300, 300, 200, at::kShort);
  t["i8"] = at::arange(-128, 128, 64, at::kChar);
  t["u8"] = at::arange(0, 256, 51, at::kByte);
  t["bool"] = at::arange(0, 4, at::kLong).remainder(2).to(at::kBool);
  t["scalar"] = at::arange(5, 6, at::kFloat).reshape({});
  t["empty"] = at::arange(0, 0, at::kFloat).reshape({0, 3});
  return t;
}

TEST(SafetensorsTest, RoundTripsEveryDtypeShapeAndTheMetadata) {
  TempDir dir;
  const std::string path = dir.path() + "/all.safetensors";
  const TensorMap tensors = EveryDtype();
  ASSERT_TRUE(WriteSafetensors(path, tensors, {{"format", "pt"}, {"lora_alpha", "8"}}).ok());
  auto read = ReadSafetensorsFile(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->metadata, (SafetensorsMetadata{{"format", "pt"}, {"lora_alpha", "8"}}));
  ASSERT_EQ(read->tensors.size(), tensors.size());
  for (const auto& [name, expected] : tensors) {
    const at::Tensor& got = read->tensors.at(name);
    EXPECT_EQ(got.scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(got.device().is_cpu() && got.is_contiguous()) << name;
    EXPECT_TRUE(at::equal(got, expected)) << name;
  }
}

TEST(SafetensorsTest, WritesAnEightByteAlignedDataSectionAndReadsWithoutMetadata) {
  TempDir dir;
  const std::string path = dir.path() + "/a.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, {{"x", at::arange(0, 3, at::kFloat)}}).ok());
  const std::vector<uint8_t> bytes = ReadBytes(path);
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes.data(), 8);
  EXPECT_EQ(header_bytes % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header_bytes + 12);
  auto read = ReadSafetensorsFile(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_TRUE(read->metadata.empty());
  EXPECT_TRUE(at::equal(read->tensors.at("x"), at::arange(0, 3, at::kFloat)));
}

TEST(SafetensorsTest, ReadsAHandWrittenFileWithPaddingAndDataOutOfNameOrder) {
  TempDir dir;
  std::vector<uint8_t> data(12);
  const float b[2] = {1.5f, -2.0f};
  const int32_t a = 7;
  std::memcpy(data.data(), b, 8);  // "b" first, then "a"
  std::memcpy(data.data() + 8, &a, 4);
  dir.Write("t.safetensors", FileBytes(R"({"a":{"dtype":"I32","shape":[],"data_offsets":[8,12]},)"
                                       R"("b":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}   )",
                                       data));
  auto read = ReadSafetensors(dir.path() + "/t.safetensors");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->at("a").item<int32_t>(), 7);
  EXPECT_EQ(read->at("b").sizes(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(read->at("b")[1][0].item<float>(), -2.0f);
}

TEST(SafetensorsTest, EveryTruncationIsAnInvalidArgumentNamingTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/whole.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, EveryDtype()).ok());
  const std::vector<uint8_t> whole = ReadBytes(path);
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, whole.data(), 8);
  const std::string cut_path = dir.path() + "/cut.safetensors";
  // Every cut in the length and the data; every 7th inside the JSON (parsing a broken header is the slow part).
  for (size_t cut = 0; cut < whole.size(); cut += (cut > 16 && cut < 8 + header_bytes) ? 7 : 1) {
    dir.Write("cut.safetensors", std::vector<uint8_t>(whole.begin(), whole.begin() + cut));
    const Status status = ReadSafetensors(cut_path).status();
    ASSERT_TRUE(IsInvalid(status, {cut_path})) << "cut at " << cut;
    if (cut >= 8 + header_bytes) {  // the header is whole: the message names a tensor and says why
      EXPECT_TRUE(IsInvalid(status, {"tensor '", "truncated"})) << "cut at " << cut;
    }
  }
}

TEST(SafetensorsTest, AMissingFileIsNotFound) {
  TempDir dir;
  const Status status = ReadSafetensors(dir.path() + "/none.safetensors").status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("none.safetensors"), std::string::npos);
}

TEST(SafetensorsTest, RefusesAHeaderLengthBeyondTheFileAndBadJson) {
  TempDir dir;
  std::vector<uint8_t> bytes = FileBytes("{}", {});
  const uint64_t huge = 1000;
  std::memcpy(bytes.data(), &huge, 8);
  dir.Write("t.safetensors", bytes);
  EXPECT_TRUE(IsInvalid(ReadSafetensors(dir.path() + "/t.safetensors").status(), {"header length 1000"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, "{\"a\": ", {}), {"t.safetensors", "not valid JSON"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, "[1, 2]", {}), {"not a JSON object"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, std::string("{}\0", 3), {}), {"not valid JSON"}));
  EXPECT_TRUE(ReadHandMade(dir, "{}", {}).ok());  // no tensors at all is a valid file
}

TEST(SafetensorsTest, RefusesBadEntriesNamingTheTensor) {
  TempDir dir;
  const std::vector<uint8_t> eight(8);
  auto entry = [](const std::string& body) { return R"({"w": )" + body + "}"; };
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]})"), eight),
                        {"tensor 'w'", "F8_E4M3", "not supported"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"dtype":"U16","shape":[4],"data_offsets":[0,8]})"), eight),
                        {"tensor 'w'", "U16"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"shape":[2],"data_offsets":[0,8]})"), eight), {"'w'", "dtype"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"dtype":"F32","data_offsets":[0,8]})"), eight), {"'w'", "shape"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), eight),
                        {"'w'", "bad shape"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"), eight),
                        {"'w'", "bad shape"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"dtype":"F32","shape":[2]})"), eight), {"'w'", "data_offsets"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})"), eight),
                        {"'w'", "bad data_offsets"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), eight),
                        {"'w'", "needs 12"}));
  EXPECT_TRUE(IsInvalid(
      ReadHandMade(dir, entry(R"({"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]})"), eight),
      {"'w'", "overflows"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, entry("[1]"), eight), {"'w'", "not an object"}));
}

TEST(SafetensorsTest, RefusesOffsetsOutOfRangeOverlappingOrLeavingHoles) {
  TempDir dir;
  const std::vector<uint8_t> sixteen(16);
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}})", sixteen),
                        {"tensor 'w'", "past the end"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir,
                                     R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                     sixteen),
                        {"tensor 'b'", "overlap tensor 'a'"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir,
                                     R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                     sixteen),
                        {"tensor 'b'", "unused"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", sixteen),
                        {"8 bytes after the last tensor"}));
}

TEST(SafetensorsTest, RefusesDuplicateNamesBadMetadataAndBadBools) {
  TempDir dir;
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir,
                                     R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                     R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                     {1, 2}),
                        {"tensor 'w'", "named twice"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, R"({"__metadata__":{"rank":4}})", {}), {"__metadata__", "rank"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, R"({"__metadata__":[]})", {}), {"__metadata__"}));
  EXPECT_TRUE(IsInvalid(ReadHandMade(dir, R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", {0, 1, 2}),
                        {"tensor 'm'", "BOOL byte 2"}));
}

TEST(SafetensorsTest, WriteRefusesWhatTheFormatCannotHold) {
  TempDir dir;
  const std::string path = dir.path() + "/w.safetensors";
  EXPECT_TRUE(IsInvalid(WriteSafetensors(path, {{"c", at::arange(0, 2, at::kFloat).to(at::kComplexFloat)}}),
                        {"tensor 'c'", "no safetensors name"}));
  EXPECT_TRUE(IsInvalid(WriteSafetensors(path, {{"u", at::Tensor()}}), {"tensor 'u'", "undefined"}));
  EXPECT_TRUE(IsInvalid(WriteSafetensors(path, {{"__metadata__", at::arange(0, 2, at::kFloat)}}), {"__metadata__"}));
  EXPECT_EQ(WriteSafetensors(dir.path() + "/no/such/dir/x.safetensors", {}).code(), StatusCode::kInternal);
}

TEST(SafetensorsTest, WritesNonContiguousTensorsByValue) {
  TempDir dir;
  const std::string path = dir.path() + "/t.safetensors";
  const at::Tensor t = at::arange(0, 6, at::kFloat).reshape({2, 3}).t();
  ASSERT_TRUE(WriteSafetensors(path, {{"t", t}}).ok());
  auto read = ReadSafetensors(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_TRUE(at::equal(read->at("t"), t));
}

}  // namespace
}  // namespace tsdsr::model::sd3
