// Video jobs through a real dispatcher and real workers: every frame in order with the source's timestamps and
// the audio unchanged, in H.264 and HEVC, MP4 and MKV; subtitles kept or reported; bad videos refused; a worker
// killed mid-video and a dispatcher killed mid-video changing nothing in the result.
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/harness.h"
#include "video/frame_decoder.h"
#include "video/testing_clips.h"

namespace tsdsr::testing {
namespace {

client::HttpResponse PostVideo(client::HttpClient& http, const std::string& path, const std::string& query,
                               const std::string& type = "video/mp4") {
  client::HttpRequest request;
  request.method = "POST";
  request.path = "/jobs?" + query;
  request.parts.push_back({"file", std::filesystem::path(path).filename().string(), type, ReadFile(path)});
  auto response = http.Send(request);
  if (!response.ok()) {
    ADD_FAILURE() << response.status().ToString();
    return {};
  }
  return *response;
}

// The frame indices the output carries, in order.
std::vector<int> IndicesOf(const std::string& path) {
  std::vector<int> indices;
  auto demuxer = video::Demuxer::OpenFile(path);
  if (!demuxer.ok()) return indices;
  auto decoder = video::FrameDecoder::Open(**demuxer, 1);
  if (!decoder.ok()) return indices;
  (void)(*decoder)->Decode(video::FrameDecoder::kFromStart, video::FrameDecoder::kToEnd, [&](video::DecodedFrame f) {
    indices.push_back(video::testing::ReadIndex(f.bgr));
    return Status::Ok();
  });
  return indices;
}

// Downloads job `id`'s output into `path` and checks it frame by frame against `source`.
void ExpectExactOutput(Cluster& cluster, const std::string& id, const std::string& source, const std::string& path,
                       int scale, const std::string& codec) {
  auto result = cluster.http().Get("/jobs/" + id + "/result");
  ASSERT_EQ(result->status, 200) << result->body.substr(0, 300);
  std::ofstream(path, std::ios::binary) << result->body;
  auto in = video::ProbeFile(source);
  auto out = video::ProbeFile(path);
  ASSERT_TRUE(in.ok() && out.ok()) << out.status().ToString();
  EXPECT_EQ(out->video.codec, codec);
  EXPECT_EQ(out->video.width, in->video.width * scale);
  EXPECT_EQ(out->video.pixel_format, "yuv420p");
  ASSERT_EQ(out->video.frames.size(), in->video.frames.size());
  for (size_t i = 0; i < in->video.frames.size(); ++i) {
    EXPECT_NEAR(double(out->video.frames[i].pts) * out->video.time_base.value(),
                double(in->video.frames[i].pts) * in->video.time_base.value(), 0.001)
        << "frame " << i;
  }
  const std::vector<int> indices = IndicesOf(path);
  ASSERT_EQ(indices.size(), in->video.frames.size());
  for (size_t i = 0; i < indices.size(); ++i) EXPECT_EQ(indices[i], static_cast<int>(i)) << "frame " << i;
  std::string counted;
  RunCommand("ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 " + path,
             &counted);
  EXPECT_EQ(std::atoi(counted.c_str()), static_cast<int>(in->video.frames.size())) << "ffprobe says " << counted;
}

std::string MakeClip(const TempDir& dir, const std::string& name, const video::testing::ClipSpec& spec) {
  const std::string path = dir.File(name);
  EXPECT_EQ(video::testing::MakeClip(path, spec), 0) << name;
  return path;
}

TEST(VideoE2eTest, AnMp4ClipThroughTwoWorkersKeepsFramesTimesAndAudio) {
  auto cluster = Cluster::Start(2, {"--chunk-seconds", "0.4"});
  ASSERT_NE(cluster, nullptr);
  TempDir dir;
  video::testing::ClipSpec spec;
  spec.frames = 45;
  spec.rate = "30000/1001";
  spec.audio = true;
  spec.gop = 12;
  const std::string source = MakeClip(dir, "clip.mp4", spec);
  const std::string id = JobIdOf(PostVideo(cluster->http(), source, "upscale=2&codec=h264&process_size=64"));
  const nlohmann::json job = WaitForJob(cluster->http(), id);
  ASSERT_EQ(job["status"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["kind"], "video");
  EXPECT_EQ(job["video"]["check"]["ok"], true) << job["video"].dump(2);
  EXPECT_EQ(job["video"]["check"]["frames"]["output"], 45);
  EXPECT_EQ(job["video"]["check"]["audio"][0]["identical"], true);
  EXPECT_GE(job["video"]["source"]["chunks"].get<int>(), 3) << "cut into chunks for the pool";
  EXPECT_EQ(job["output_size"], "192x128");
  EXPECT_EQ(job["params"]["encoder"], "software") << "auto, on workers without NVENC";
  EXPECT_EQ(job["video"]["output"]["encoder"], "libx264");
  ExpectExactOutput(*cluster, id, source, dir.File("out.mp4"), 2, "h264");
}

TEST(VideoE2eTest, AVariableRateMkvWithSubtitlesToHevcMkvAndToMp4) {
  auto cluster = Cluster::Start(2, {"--chunk-seconds", "0.3"});
  ASSERT_NE(cluster, nullptr);
  TempDir dir;
  video::testing::ClipSpec spec;
  spec.frames = 30;
  spec.variable_rate = true;
  spec.audio = true;
  spec.subtitle = true;
  const std::string source = MakeClip(dir, "vfr.mkv", spec);
  const std::string mkv = JobIdOf(PostVideo(cluster->http(), source, "codec=hevc&container=mkv", "video/x-matroska"));
  const std::string mp4 = JobIdOf(PostVideo(cluster->http(), source, "codec=hevc&container=mp4", "video/x-matroska"));
  const nlohmann::json kept = WaitForJob(cluster->http(), mkv);
  ASSERT_EQ(kept["status"], "succeeded") << kept.dump(2);
  EXPECT_EQ(kept["video"]["streams"].size(), 2u);
  for (const auto& s : kept["video"]["streams"]) EXPECT_EQ(s["kept"], true) << s.dump();
  ExpectExactOutput(*cluster, mkv, source, dir.File("out.mkv"), 2, "hevc");
  const nlohmann::json reported = WaitForJob(cluster->http(), mp4);
  ASSERT_EQ(reported["status"], "succeeded") << reported.dump(2);
  bool subtitle_converted = false;
  for (const auto& s : reported["video"]["streams"]) {
    if (s["type"] == "subtitle") subtitle_converted = s["kept"] == true && s.value("converted_to", "") == "mov_text";
  }
  EXPECT_TRUE(subtitle_converted) << "SRT cannot go into MP4: converted to mov_text; " << reported["video"].dump(2);
  ExpectExactOutput(*cluster, mp4, source, dir.File("out.mp4"), 2, "hevc");
}

TEST(VideoE2eTest, BadVideosGetClearErrors) {
  auto cluster = Cluster::Start(1, {"--max-pixels", "20000"});
  ASSERT_NE(cluster, nullptr);
  TempDir dir;
  video::testing::ClipSpec spec;
  const std::string good = MakeClip(dir, "good.mp4", spec);
  const std::string bytes = ReadFile(good);
  std::ofstream(dir.File("cut.mp4"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::ofstream(dir.File("text.mp4")) << "hello";
  ASSERT_EQ(RunCommand("ffmpeg -hide_banner -loglevel error -y -f lavfi -i sine=d=1 " + dir.File("sound.m4a")), 0);
  for (const auto& [file, code] : std::vector<std::pair<std::string, long>>{
           {"cut.mp4", 400}, {"text.mp4", 400}, {"sound.m4a", 400}, {"good.mp4", 413}}) {
    const std::string query = file == "good.mp4" ? "upscale=4" : "upscale=2";
    auto response = PostVideo(cluster->http(), dir.File(file), query, "video/mp4");
    EXPECT_EQ(response.status, code) << file << ": " << response.body;
    EXPECT_FALSE(JsonOf(response)["error"].get<std::string>().empty()) << file;
  }
  auto bad_codec = PostVideo(cluster->http(), good, "codec=mpeg2");
  EXPECT_EQ(bad_codec.status, 400);
  // These workers announce their encoders, and no NVENC: asking for it is refused before anything is stored.
  const nlohmann::json info = cluster->GetJson("/info");
  const auto& encoders = info["workers"][0]["encoders"];
  EXPECT_NE(std::find(encoders.begin(), encoders.end(), "libx265"), encoders.end()) << info.dump(2);
  EXPECT_EQ(std::find(encoders.begin(), encoders.end(), "hevc_nvenc"), encoders.end()) << info.dump(2);
  auto nvenc = PostVideo(cluster->http(), good, "codec=hevc&encoder=nvenc");
  EXPECT_EQ(nvenc.status, 400) << nvenc.body;
  EXPECT_NE(nvenc.body.find("hevc_nvenc"), std::string::npos) << nvenc.body;
  EXPECT_EQ(cluster->http().Get("/health")->status, 200) << "and the service goes on";
  EXPECT_EQ(cluster->GetJson("/jobs")["jobs"].size(), 0u) << "nothing refused was stored";
}

TEST(VideoE2eTest, AWorkerKilledMidVideoChangesNothing) {
  auto cluster = Cluster::Start(2, {"--model", "simulated:40", "--chunk-seconds", "0.3"});
  ASSERT_NE(cluster, nullptr);
  TempDir dir;
  video::testing::ClipSpec spec;
  spec.frames = 60;
  spec.audio = true;
  const std::string source = MakeClip(dir, "clip.mp4", spec);
  const std::string id = JobIdOf(PostVideo(cluster->http(), source, "codec=h264&process_size=64"));
  WaitForJob(cluster->http(), id, [](const nlohmann::json& j) { return j["progress"]["done"].get<int>() > 5; });
  const std::vector<int> pids = cluster->WorkerPids();
  ASSERT_FALSE(pids.empty());
  ASSERT_EQ(kill(pids[0], SIGKILL), 0);
  const nlohmann::json job = WaitForJob(cluster->http(), id);
  ASSERT_EQ(job["status"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["video"]["check"]["ok"], true);
  ExpectExactOutput(*cluster, id, source, dir.File("out.mp4"), 2, "h264");
}

TEST(VideoE2eTest, ADispatcherKilledMidVideoResumesWithTheChunksNotDone) {
  TempDir dir;
  const std::vector<std::string> flags = {"--model", "simulated:30", "--chunk-seconds",
                                          "0.4",     "--data-dir",   dir.File("data")};
  video::testing::ClipSpec spec;
  spec.frames = 80;
  spec.gop = 10;
  const std::string source = MakeClip(dir, "clip.mp4", spec);
  std::string id;
  int stored = 0;
  int chunks = 0;
  {
    auto cluster = Cluster::Start(1, flags);
    ASSERT_NE(cluster, nullptr);
    id = JobIdOf(PostVideo(cluster->http(), source, "codec=h264&process_size=64"));
    const nlohmann::json part = WaitForJob(cluster->http(), id, [](const nlohmann::json& j) {
      return j["chunks"].is_object() && j["chunks"]["stored"].get<int>() >= 2;
    });
    stored = part["chunks"]["stored"];
    chunks = part["chunks"]["total"];
    ASSERT_LT(stored, chunks) << "killed halfway";
    ASSERT_EQ(kill(cluster->pid(), SIGKILL), 0);
    cluster->WaitForExit(std::chrono::seconds(10));
  }
  auto cluster = Cluster::Start(1, flags);
  ASSERT_NE(cluster, nullptr);
  const nlohmann::json job = WaitForJob(cluster->http(), id);
  ASSERT_EQ(job["status"], "succeeded") << job.dump(2);
  ExpectExactOutput(*cluster, id, source, dir.File("out.mp4"), 2, "h264");
  // The restarted dispatcher's pool made only chunks that were not stored (the one running at the kill was not).
  const int redone = cluster->GetJson("/stats")["jobs_done"];
  EXPECT_LE(redone, chunks - stored);
  EXPECT_GE(redone, 1);
}

TEST(VideoE2eTest, TheClientUpscalesAVideoAndAFolderWithOne) {
  auto cluster = Cluster::Start(2, {"--chunk-seconds", "0.5"});
  ASSERT_NE(cluster, nullptr);
  TempDir dir;
  video::testing::ClipSpec spec;
  spec.frames = 30;
  spec.audio = true;
  const std::string source = MakeClip(dir, "clip.mp4", spec);
  const std::string client = Program("tsdsr-client") + " --port " + std::to_string(cluster->port());
  std::string out;
  ASSERT_EQ(RunCommand(client + " --video " + source + " -o " + dir.File("clip_x2.mp4") + " --codec h264 -ps 64", &out),
            0);
  EXPECT_NE(out.find("wrote " + dir.File("clip_x2.mp4") + " (192x128)"), std::string::npos) << out;
  auto video_out = video::ProbeFile(dir.File("clip_x2.mp4"));
  ASSERT_TRUE(video_out.ok());
  EXPECT_EQ(video_out->video.frames.size(), 30u);
  EXPECT_EQ(video_out->video.codec, "h264");

  TempDir in;
  TempDir folder_out;
  std::ofstream(in.File("a.png"), std::ios::binary) << EncodePng(TestImage(20, 16, 1));
  std::ofstream(in.File("clip.mp4"), std::ios::binary) << ReadFile(source);
  std::string report;
  ASSERT_EQ(RunCommand(client + " --batch " + in.path() + " --output " + folder_out.path() +
                           " --container mkv -ps 64 --json 2>/dev/null",
                       &report),
            0);
  EXPECT_EQ(nlohmann::json::parse(report)["ok"], 2) << report;
  EXPECT_EQ(DecodeBytes(ReadFile(folder_out.File("a.png"))).cols, 40);
  auto folder_video = video::ProbeFile(folder_out.File("clip.mkv"));
  ASSERT_TRUE(folder_video.ok()) << "a video in a folder becomes a video, in the container asked";
  EXPECT_EQ(folder_video->video.frames.size(), 30u);
  EXPECT_EQ(folder_video->video.codec, "hevc");
}

}  // namespace
}  // namespace tsdsr::testing
