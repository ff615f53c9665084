#include "common/protocol.h"

#include <gtest/gtest.h>

namespace tsdsr::proto {
namespace {

TEST(ProtocolTest, EncodeDecodeRoundTripKeepsHeaderAndBinaryPayload) {
  JobHeader job;
  job.job_id = 42;
  job.scale = 4;
  job.process_size = 96;
  job.format = "webp";
  job.timeout_ms = 1500;
  job.attempt = 2;
  std::string payload("\0\x01\xff\r\n", 5);
  auto decoded = Decode(Encode(Make(Command::kJob, job, {payload})));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->command, Command::kJob);
  ASSERT_EQ(decoded->payload.size(), 1u);
  EXPECT_EQ(decoded->payload[0], payload);
  auto parsed = ParseJobHeader(decoded->header);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->job_id, 42u);
  EXPECT_EQ(parsed->scale, 4);
  EXPECT_EQ(parsed->process_size, 96);
  EXPECT_EQ(parsed->format, "webp");
  EXPECT_EQ(parsed->timeout_ms, 1500);
  EXPECT_EQ(parsed->attempt, 2);
}

TEST(ProtocolTest, WorkerDescriptionRoundTrip) {
  WorkerDescription d;
  d.id = "w1";
  d.device = "cuda:1";
  d.scales = {2, 4};
  d.slots = 3;
  d.memory.total = 80LL << 30;
  d.status = "error";
  d.error = "weights missing";
  d.encoders = {"libx265", "hevc_nvenc"};
  d.memory_budget = std::int64_t{6} << 30;
  nlohmann::json j = d;
  auto parsed = ParseWorkerDescription(j);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->id, "w1");
  EXPECT_EQ(parsed->scales, (std::vector<int>{2, 4}));
  EXPECT_EQ(parsed->slots, 3);
  EXPECT_EQ(parsed->memory.total, 80LL << 30);
  EXPECT_EQ(parsed->error, "weights missing");
  EXPECT_EQ(parsed->encoders, (std::vector<std::string>{"libx265", "hevc_nvenc"}));
  EXPECT_EQ(parsed->memory_budget, std::int64_t{6} << 30);
  j["encoders"] = {"libx265", 3};
  EXPECT_FALSE(ParseWorkerDescription(j).ok()) << "an encoder name that is not a string";
}

TEST(ProtocolTest, HeartbeatRoundTripKeepsTheGpuReadingsAndOlderWorkersParse) {
  WorkerLiveStats live;
  live.busy = 1;
  live.jobs_done = 7;
  live.progress = 1234;
  live.utilization = 0.5;
  live.power_watts = 312.25;
  live.energy_joules = 9.5e6;
  live.temperature_celsius = 61;
  live.memory.total = 80LL << 30;
  auto back = ParseWorkerLiveStats(nlohmann::json(live));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->busy, 1);
  EXPECT_EQ(back->jobs_done, 7);
  EXPECT_EQ(back->progress, 1234);
  EXPECT_DOUBLE_EQ(back->utilization, 0.5);
  EXPECT_DOUBLE_EQ(back->power_watts, 312.25);
  EXPECT_DOUBLE_EQ(back->energy_joules, 9.5e6);
  EXPECT_DOUBLE_EQ(back->temperature_celsius, 61);
  EXPECT_EQ(back->memory.total, 80LL << 30);
  auto older = ParseWorkerLiveStats(nlohmann::json{{"busy", 0}, {"jobs_done", 3}});
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(older->progress, 0);
  EXPECT_DOUBLE_EQ(older->power_watts, -1) << "a worker that does not say is unknown, not zero";
}

TEST(ProtocolTest, DecodeRefusesMalformedMessages) {
  EXPECT_FALSE(Decode({}).ok());
  EXPECT_FALSE(Decode({"TSR1", std::string(1, '\x03')}).ok());                    // too few frames
  EXPECT_FALSE(Decode({"XXXX", std::string(1, '\x03'), "{}"}).ok());              // wrong tag
  EXPECT_FALSE(Decode({"TSR1", std::string(1, '\x63'), "{}"}).ok());              // unknown command
  EXPECT_FALSE(Decode({"TSR1", std::string(2, '\x03'), "{}"}).ok());              // command frame too long
  EXPECT_FALSE(Decode({"TSR1", std::string(1, '\x03'), "{not json"}).ok());       // bad JSON
  EXPECT_FALSE(Decode({"TSR1", std::string(1, '\x03'), "[1,2]"}).ok());           // not an object
  auto ok = Decode({"TSR1", std::string(1, '\x02'), "{}"});
  EXPECT_TRUE(ok.ok());
}

TEST(ProtocolTest, TypedParsersNameTheBadField) {
  auto missing = ParseJobHeader(nlohmann::json{{"scale", 2}, {"process_size", 128}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'job_id' is missing"), std::string::npos);
  auto wrong = ParseJobHeader(nlohmann::json{{"job_id", "seven"}, {"scale", 2}, {"process_size", 128}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("'job_id' has the wrong type"), std::string::npos);
  auto bad_status = ParseResultHeader(nlohmann::json{{"job_id", 1}, {"status", "great"}});
  EXPECT_FALSE(bad_status.ok());
  auto bad_slots = ParseWorkerDescription(
      nlohmann::json{{"id", "w"}, {"device", "cpu"}, {"scales", {2}}, {"slots", 0}});
  EXPECT_FALSE(bad_slots.ok());
  EXPECT_FALSE(ParseWorkerLiveStats(nlohmann::json{{"memory", 5}}).ok());
  // Floats and out-of-range numbers in integer fields are refused, not converted (found by protocol_fuzz).
  EXPECT_FALSE(ParseJobHeader(nlohmann::json::parse(R"({"job_id": 1e30, "scale": 2, "process_size": 128})")).ok());
  EXPECT_FALSE(ParseJobHeader(nlohmann::json{{"job_id", -1}, {"scale", 2}, {"process_size", 128}}).ok());
  EXPECT_FALSE(ParseJobHeader(nlohmann::json{{"job_id", 1}, {"scale", 1LL << 40}, {"process_size", 128}}).ok());
  EXPECT_FALSE(ParseWorkerDescription(nlohmann::json::parse(
                   R"({"id": "w", "device": "cpu", "scales": [2, 1e300], "slots": 2})")).ok());
  EXPECT_TRUE(ParseJobHeader(nlohmann::json{{"job_id", 18446744073709551615ULL}, {"scale", 2}, {"process_size", 64}}).ok());
}

TEST(ProtocolTest, VideoChunkJobsRoundTripAndOtherKindsAreRefused) {
  JobHeader chunk;
  chunk.job_id = 9;
  chunk.kind = std::string(kVideoChunkJob);
  chunk.first_pts = 1001 * 17;
  chunk.last_pts = 1001 * 39;
  chunk.frames = 23;
  chunk.codec = "hevc";
  chunk.crf = 24;
  chunk.preset = "medium";
  chunk.encoder = "nvenc";
  chunk.tb_num = 1;
  chunk.tb_den = 30000;
  chunk.rate_num = 30000;
  chunk.rate_den = 1001;
  chunk.color_space = 1;
  auto parsed = ParseJobHeader(nlohmann::json(chunk));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, "video_chunk");
  EXPECT_EQ(parsed->first_pts, 17017);
  EXPECT_EQ(parsed->last_pts, 39039);
  EXPECT_EQ(parsed->frames, 23);
  EXPECT_EQ(parsed->codec, "hevc");
  EXPECT_EQ(parsed->crf, 24);
  EXPECT_EQ(parsed->encoder, "nvenc");
  EXPECT_EQ(parsed->container, "mp4");
  EXPECT_EQ(parsed->tb_den, 30000);
  EXPECT_EQ(parsed->rate_den, 1001);
  EXPECT_EQ(parsed->color_space, 1);
  nlohmann::json zero_rate = nlohmann::json(chunk);
  zero_rate["rate_num"] = 0;
  EXPECT_FALSE(ParseJobHeader(zero_rate).ok());
  EXPECT_EQ(ParseJobHeader(nlohmann::json{{"job_id", 1}, {"scale", 2}, {"process_size", 64}})->kind, "image");
  auto unknown = ParseJobHeader(nlohmann::json{{"job_id", 1}, {"scale", 2}, {"process_size", 64}, {"kind", "audio"}});
  EXPECT_FALSE(unknown.ok());
  auto incomplete =
      ParseJobHeader(nlohmann::json{{"job_id", 1}, {"scale", 2}, {"process_size", 64}, {"kind", "video_chunk"}});
  ASSERT_FALSE(incomplete.ok());
  EXPECT_NE(incomplete.status().message().find("first_pts"), std::string::npos);
}

}  // namespace
}  // namespace tsdsr::proto
