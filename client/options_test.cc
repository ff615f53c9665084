#include "client/options.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/job_settings.h"

namespace tsdsr::client {
namespace {

ParsedCommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tsdsr-client");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST(OptionsTest, Defaults) {
  ParsedCommandLine parsed = Parse({"-i", "photo.png"});
  ASSERT_FALSE(parsed.exit_now) << parsed.message;
  const ClientOptions& o = parsed.options;
  EXPECT_EQ(o.input, "photo.png");
  EXPECT_EQ(o.output, "");
  EXPECT_EQ(o.upscale, 2);
  EXPECT_EQ(o.process_size, 128);
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 8090);
  EXPECT_FALSE(o.health || o.info || o.stats || o.verbose);
  EXPECT_EQ(o.format, "");
  EXPECT_EQ(o.timeout_s, 300);
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(OptionsTest, PythonClientFlags) {
  ParsedCommandLine parsed = Parse({"-i", "in.jpg", "-o", "out.png", "-u", "4", "-ps", "64", "--host", "gpu-box",
                                    "--port", "9000", "--format", "webp", "--timeout", "2.5", "--verbose"});
  ASSERT_FALSE(parsed.exit_now) << parsed.message;
  const ClientOptions& o = parsed.options;
  EXPECT_EQ(o.input, "in.jpg");
  EXPECT_EQ(o.output, "out.png");
  EXPECT_EQ(o.upscale, 4);
  EXPECT_EQ(o.process_size, 64);
  EXPECT_EQ(o.host, "gpu-box");
  EXPECT_EQ(o.port, 9000);
  EXPECT_EQ(o.format, "webp");
  EXPECT_DOUBLE_EQ(o.timeout_s, 2.5);
  EXPECT_TRUE(o.verbose);
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(OptionsTest, ProcessSizeSpellings) {
  EXPECT_EQ(Parse({"-i", "a.png", "-ps", "96"}).options.process_size, 96);
  EXPECT_EQ(Parse({"-i", "a.png", "-ps=80"}).options.process_size, 80);
  EXPECT_EQ(Parse({"-i", "a.png", "--process-size", "192"}).options.process_size, 192);
  EXPECT_EQ(Parse({"-i", "a.png", "--process-size=200"}).options.process_size, 200);
  EXPECT_EQ(Parse({"--input=a.png", "--upscale=4"}).options.upscale, 4);
  // A file literally named "-ps" can still be given with the = form.
  EXPECT_EQ(Parse({"--input=-ps"}).options.input, "-ps");
}

TEST(OptionsTest, HelpListsFlagsAndExitCodes) {
  ParsedCommandLine parsed = Parse({"--help"});
  ASSERT_TRUE(parsed.exit_now);
  EXPECT_EQ(parsed.exit_code, kExitOk);
  for (const char* text :
       {"--input",          "--output", "--upscale", "--process-size", "-ps",         "--host",      "--port",
        "--health",         "--info",   "--stats",   "--format",       "--timeout",   "--verbose",   "Exit codes",
        "4 cannot connect", "--batch",  "--watch",   "--pattern",      "--recursive", "--overwrite", "-j,--jobs",
        "--retries",        "--json",   "--async",   "With --batch"}) {
    EXPECT_NE(parsed.message.find(text), std::string::npos) << text;
  }
}

TEST(OptionsTest, UsageErrorsExitWithOne) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--bogus"}, {"-u", "two"}, {"--port", "70000"}, {"--timeout", "-1"}, {"-i"}, {"-p", "5"}}) {
    ParsedCommandLine parsed = Parse(args);
    EXPECT_TRUE(parsed.exit_now) << args[0];
    EXPECT_EQ(parsed.exit_code, kExitUsage) << args[0];
    EXPECT_EQ(parsed.message.rfind("error: ", 0), 0u) << parsed.message;
  }
}

TEST(OptionsTest, ValidateChecksActionsAndRanges) {
  auto error_of = [](const std::vector<std::string>& args) {
    ParsedCommandLine parsed = Parse(args);
    EXPECT_FALSE(parsed.exit_now) << parsed.message;
    return ValidateOptions(parsed.options).message();
  };
  EXPECT_EQ(error_of({}), "nothing to do: give --input FILE, --batch DIR, --watch DIR, --health, --info or --stats");
  EXPECT_EQ(error_of({"--health", "--stats"}), "choose one of --input, --batch, --watch, --health, --info and --stats");
  EXPECT_EQ(error_of({"-o", "x.png", "--info"}), "--output needs --input, --batch or --watch");
  EXPECT_EQ(error_of({"-i", "a.png", "-u", "0"}), "--upscale must be a positive integer");
  EXPECT_EQ(error_of({"-i", "a.png", "-ps", "-5"}), "--process-size must be a positive integer");
  EXPECT_EQ(error_of({"-i", "a.png", "--format", "gif"}),
            "--format: unsupported output format 'gif' (use png, jpeg or webp)");
  EXPECT_EQ(error_of({"--stats"}), "");
  EXPECT_EQ(error_of({"-i", "a.png", "--format", "JPG"}), "");
}

TEST(OptionsTest, FolderAndJobFlags) {
  ParsedCommandLine parsed = Parse({"--batch", "photos", "--output", "out", "--pattern", "*.png,*.jpg", "--recursive",
                                    "--overwrite", "-j", "3", "--retries", "0", "--json", "--async"});
  ASSERT_FALSE(parsed.exit_now) << parsed.message;
  const ClientOptions& o = parsed.options;
  EXPECT_EQ(o.batch, "photos");
  EXPECT_EQ(o.output, "out");
  EXPECT_EQ(o.pattern, "*.png,*.jpg");
  EXPECT_TRUE(o.recursive && o.overwrite && o.json && o.async_jobs);
  EXPECT_EQ(o.jobs, 3);
  EXPECT_EQ(o.retries, 0);
  EXPECT_TRUE(ValidateOptions(o).ok());

  ParsedCommandLine defaults = Parse({"--watch", "inbox", "-o", "out"});
  EXPECT_EQ(defaults.options.watch, "inbox");
  EXPECT_FALSE(defaults.options.jobs.has_value()) << "unset: taken from /info";
  EXPECT_EQ(defaults.options.retries, 5);
  EXPECT_FALSE(defaults.options.recursive || defaults.options.overwrite || defaults.options.json);
  EXPECT_TRUE(ValidateOptions(defaults.options).ok());
  EXPECT_EQ(Parse({"--batch", "in", "-o", "out", "--jobs", "7"}).options.jobs, 7);
}

TEST(OptionsTest, ValidateChecksFolderFlagCombinations) {
  auto error_of = [](const std::vector<std::string>& args) {
    ParsedCommandLine parsed = Parse(args);
    EXPECT_FALSE(parsed.exit_now) << parsed.message;
    return ValidateOptions(parsed.options).message();
  };
  EXPECT_EQ(error_of({"--batch", "in"}), "--batch needs --output DIR, the folder for the results");
  EXPECT_EQ(error_of({"--watch", "in"}), "--watch needs --output DIR, the folder for the results");
  EXPECT_EQ(error_of({"--batch", "in", "--watch", "w", "-o", "out"}),
            "choose one of --input, --batch, --watch, --health, --info and --stats");
  EXPECT_EQ(error_of({"-i", "a.png", "--batch", "in", "-o", "out"}),
            "choose one of --input, --batch, --watch, --health, --info and --stats");
  EXPECT_EQ(error_of({"-i", "a.png", "--pattern", "*.png"}), "--pattern needs --batch or --watch");
  EXPECT_EQ(error_of({"-i", "a.png", "--overwrite"}), "--overwrite needs --batch or --watch");
  EXPECT_EQ(error_of({"-i", "a.png", "--recursive"}), "--recursive needs --batch (--watch watches one folder)");
  EXPECT_EQ(error_of({"--watch", "in", "-o", "out", "--recursive"}),
            "--recursive needs --batch (--watch watches one folder)");
  EXPECT_EQ(error_of({"--watch", "in", "-o", "out", "--json"}), "--json needs --batch");
  EXPECT_EQ(error_of({"--stats", "--async"}), "--async needs --input, --batch or --watch");
  EXPECT_EQ(error_of({"--batch", "in", "-o", "out", "-j", "0"}), "--jobs must be at least 1");
  EXPECT_EQ(error_of({"--batch", "in", "-o", "out", "--retries", "-1"}), "--retries must be 0 or more");
  EXPECT_EQ(error_of({"--watch", "in", "-o", "out", "--async", "--overwrite", "--pattern", "*.png"}), "");
  EXPECT_EQ(error_of({"-i", "a.png", "--async"}), "");
}

TEST(OptionsTest, OutputExtensionAndCanonicalFormat) {
  EXPECT_EQ(OutputExtension(""), ".png");
  EXPECT_EQ(OutputExtension("JPG"), ".jpg");
  EXPECT_EQ(OutputExtension("jpeg"), ".jpg");
  EXPECT_EQ(OutputExtension("webp"), ".webp");
  EXPECT_EQ(CanonicalFormat(""), "");
  EXPECT_EQ(CanonicalFormat("JPG"), "jpeg");
  EXPECT_EQ(CanonicalFormat("gif"), "gif");
}

TEST(OptionsTest, ApiKeyFromTheFlagOrTheEnvironment) {
  ::unsetenv("TSDSR_API_KEY");
  EXPECT_EQ(Parse({"--health"}).options.api_key, "");
  EXPECT_EQ(Parse({"--health", "--api-key", "flag-key"}).options.api_key, "flag-key");
  ::setenv("TSDSR_API_KEY", "env-key", 1);
  EXPECT_EQ(Parse({"--health"}).options.api_key, "env-key");
  EXPECT_EQ(Parse({"--health", "--api-key", "flag-key"}).options.api_key, "flag-key") << "the flag wins";
  ::unsetenv("TSDSR_API_KEY");
}

TEST(OptionsTest, DefaultOutputPath) {
  EXPECT_EQ(DefaultOutputPath("photo.jpg", 2, ""), "photo_x2.png");
  EXPECT_EQ(DefaultOutputPath("/data/in/photo.jpg", 4, ""), "/data/in/photo_x4.png");
  EXPECT_EQ(DefaultOutputPath("dir/shot.v2.png", 4, "jpeg"), "dir/shot.v2_x4.jpg");
  EXPECT_EQ(DefaultOutputPath("dir/shot.png", 2, "webp"), "dir/shot_x2.webp");
  EXPECT_EQ(DefaultOutputPath("noext", 2, "png"), "noext_x2.png");
}

TEST(OptionsTest, VideoFlags) {
  ParsedCommandLine parsed = Parse({"--video", "clip.mov", "--codec", "av1", "--crf", "35", "--container", "mkv"});
  ASSERT_FALSE(parsed.exit_now) << parsed.message;
  EXPECT_EQ(parsed.options.input, "clip.mov") << "--video FILE is -i FILE";
  EXPECT_EQ(parsed.options.codec, "av1");
  EXPECT_EQ(parsed.options.crf, 35);
  EXPECT_TRUE(ValidateOptions(parsed.options).ok());
  EXPECT_EQ(DefaultOutputPath("clip.mov", 2, "", "mkv"), "clip_x2.mkv");
  EXPECT_EQ(DefaultOutputPath("clip.mp4", 4, "jpeg"), "clip_x4.mp4") << "a video's output is a video";
  for (std::vector<std::string> bad : {std::vector<std::string>{"--video", "a.mp4", "--codec", "vp9"},
                                       {"--video", "a.mp4", "--container", "avi"},
                                       {"--video", "a.mp4", "--crf", "52"},
                                       {"--video", "a.mp4", "--encoder", "vaapi"},
                                       {"--video", "a.mp4", "-i", "b.mp4"}}) {
    ParsedCommandLine p = Parse(bad);
    ASSERT_FALSE(p.exit_now) << p.message;
    EXPECT_EQ(ValidateOptions(p.options).code(), StatusCode::kInvalidArgument) << bad[2];
  }
}

TEST(OptionsTest, VideoQueryCarriesTheOutputSettings) {
  ParsedCommandLine parsed = Parse({"--video", "clip.mp4", "-u", "4", "--preset", "slow", "--crf", "20"});
  JobSettings settings = JobSettingsFrom(parsed.options, {}, nullptr);
  EXPECT_EQ(VideoQuery(settings),
            "?upscale=4&process_size=128&codec=hevc&container=mp4&encoder=auto&crf=20&preset=slow");
  EXPECT_EQ(UpscaleQuery(settings), "?upscale=4&process_size=128");
  parsed = Parse({"--video", "clip.mp4", "--encoder", "nvenc", "--preset", "p6"});
  ASSERT_TRUE(ValidateOptions(parsed.options).ok());
  settings = JobSettingsFrom(parsed.options, {}, nullptr);
  EXPECT_EQ(VideoQuery(settings), "?upscale=2&process_size=128&codec=hevc&container=mp4&encoder=nvenc&preset=p6");
}

TEST(OptionsTest, BaseUrl) {
  ClientOptions options;
  EXPECT_EQ(BaseUrlOf(options), "http://127.0.0.1:8090");
  options.host = "::1";
  options.port = 9000;
  EXPECT_EQ(BaseUrlOf(options), "http://[::1]:9000");
}

}  // namespace
}  // namespace tsdsr::client
