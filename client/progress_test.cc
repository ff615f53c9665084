#include "client/progress.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client/options.h"

namespace tsdsr::client {
namespace {

FileOutcome Outcome(FileStatus status, FailureKind failure = FailureKind::kNone, bool answered = true) {
  FileOutcome outcome;
  outcome.input = "in/a.png";
  outcome.output = "out/a.png";
  outcome.status = status;
  outcome.failure = failure;
  outcome.server_answered = answered;
  if (status == FileStatus::kOk) outcome.output_size = "128x96";
  if (status == FileStatus::kFailed) outcome.error = "server answered 400: not an image";
  return outcome;
}

TEST(ProgressTest, Bar) {
  EXPECT_EQ(RenderBar(0, 10, 10), "[..........]");
  EXPECT_EQ(RenderBar(3, 10, 10), "[###.......]");
  EXPECT_EQ(RenderBar(10, 10, 4), "[####]");
  EXPECT_EQ(RenderBar(12, 10, 4), "[####]");
  EXPECT_EQ(RenderBar(0, 0, 4), "[....]");
}

TEST(ProgressTest, TerminalLineHasCountsRateAndEta) {
  ProgressCounts counts{200, 10, 0, 0};
  EXPECT_EQ(RenderProgressLine(counts, 5.0), "[#.......................] 10/200  2.00 img/s  ETA 1:35");
  counts = {200, 9, 50, 1};
  EXPECT_EQ(RenderProgressLine(counts, 2.0), "[#######.................] 60/200  1 failed  5.00 img/s  ETA 0:28");
  counts = {4000, 1, 0, 0};
  EXPECT_EQ(RenderProgressLine(counts, 1.0), "[........................] 1/4000  1.00 img/s  ETA 1:06:39");
  counts = {5, 0, 2, 0};
  EXPECT_EQ(RenderProgressLine(counts, 1.0), "[#########...............] 2/5  0.00 img/s  ETA --:--");
}

TEST(ProgressTest, PlainLines) {
  EXPECT_EQ(OutcomeLine(12, 200, Outcome(FileStatus::kOk)), "[12/200] ok in/a.png -> out/a.png (128x96)");
  EXPECT_EQ(OutcomeLine(13, 200, Outcome(FileStatus::kFailed)),
            "[13/200] FAILED in/a.png: server answered 400: not an image");
  EXPECT_EQ(OutcomeLine(14, 200, Outcome(FileStatus::kSkipped)), "[14/200] skipped in/a.png -> out/a.png (exists)");
}

TEST(ProgressTest, ReporterPrintsOneLinePerFileOrRedrawsOnATerminal) {
  std::ostringstream plain;
  ProgressReporter lines(plain, /*terminal=*/false, 2);
  lines.OnFinished(Outcome(FileStatus::kOk));
  lines.OnFinished(Outcome(FileStatus::kSkipped));
  lines.Finish();
  EXPECT_EQ(plain.str(), "[1/2] ok in/a.png -> out/a.png (128x96)\n[2/2] skipped in/a.png -> out/a.png (exists)\n");

  std::ostringstream screen;
  ProgressReporter bar(screen, /*terminal=*/true, 2);
  bar.OnFinished(Outcome(FileStatus::kFailed));
  bar.Note("warning: x");
  bar.Finish();
  std::string text = screen.str();
  EXPECT_EQ(text.rfind("\r[############............] 1/2  1 failed", 0), 0u) << text;
  EXPECT_NE(text.find("\r\x1b[Kwarning: x\n\r[####"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(bar.counts().failed, 1);
}

TEST(ProgressTest, SummaryListsTheFailedFiles) {
  std::ostringstream out;
  WriteSummary(
      out,
      {Outcome(FileStatus::kOk), Outcome(FileStatus::kOk), Outcome(FileStatus::kSkipped), Outcome(FileStatus::kFailed)},
      4.0);
  EXPECT_EQ(out.str(),
            "2 ok, 1 skipped, 1 failed in 4.0 s (0.50 images/s)\n"
            "FAILED in/a.png: server answered 400: not an image\n");
}

TEST(ProgressTest, JsonReport) {
  FileOutcome failed = Outcome(FileStatus::kFailed);
  failed.http_status = 400;
  failed.attempts = 1;
  failed.seconds = 0.01234;
  std::ostringstream out;
  WriteJsonReport(out, {Outcome(FileStatus::kOk), Outcome(FileStatus::kSkipped), failed}, 1.5);
  nlohmann::json report = nlohmann::json::parse(out.str());
  EXPECT_EQ(report["total"], 3);
  EXPECT_EQ(report["ok"], 1);
  EXPECT_EQ(report["skipped"], 1);
  EXPECT_EQ(report["failed"], 1);
  EXPECT_EQ(report["seconds"], 1.5);
  ASSERT_EQ(report["files"].size(), 3u);
  EXPECT_EQ(report["files"][0]["status"], "ok");
  EXPECT_EQ(report["files"][0]["output_size"], "128x96");
  EXPECT_TRUE(report["files"][0]["error"].is_null());
  EXPECT_TRUE(report["files"][1]["http_status"].is_null());
  EXPECT_EQ(report["files"][2], nlohmann::json::parse(R"({"input": "in/a.png", "output": "out/a.png",
      "status": "failed", "error": "server answered 400: not an image", "http_status": 400,
      "output_size": null, "attempts": 1, "seconds": 0.012})"));
}

TEST(ProgressTest, ExitCodeOfARun) {
  FileOutcome ok = Outcome(FileStatus::kOk), skipped = Outcome(FileStatus::kSkipped, FailureKind::kNone, false);
  FileOutcome local = Outcome(FileStatus::kFailed, FailureKind::kLocal, false);
  FileOutcome client = Outcome(FileStatus::kFailed, FailureKind::kClient);
  FileOutcome server = Outcome(FileStatus::kFailed, FailureKind::kServer);
  FileOutcome unreachable = Outcome(FileStatus::kFailed, FailureKind::kUnreachable, false);
  EXPECT_EQ(ExitCodeOf({}, false), kExitOk);
  EXPECT_EQ(ExitCodeOf({ok, skipped}, true), kExitOk);
  EXPECT_EQ(ExitCodeOf({ok, local, client}, true), kExitClientError);
  EXPECT_EQ(ExitCodeOf({ok, client, server}, true), kExitServerError);
  EXPECT_EQ(ExitCodeOf({skipped, unreachable, unreachable}, false), kExitUnreachable);
  EXPECT_EQ(ExitCodeOf({unreachable, local}, false), kExitUnreachable);
  EXPECT_EQ(ExitCodeOf({unreachable}, true), kExitServerError) << "/info answered: the server was reachable";
  EXPECT_EQ(ExitCodeOf({ok, unreachable}, false), kExitServerError);
}

}  // namespace
}  // namespace tsdsr::client
