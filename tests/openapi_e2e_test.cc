// The API as documented: a dispatcher with two workers serves docs/openapi.yaml at GET /openapi.yaml, and
// deploy/tests/check_openapi_live.py exercises every documented operation with real requests, good and bad,
// checking each answer's status, media type and JSON body against the document's schemas.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

TEST(OpenApiE2eTest, TheServerServesItsDocumentAndAnswersAsItSays) {
  if (RunCommand("/usr/bin/python3 -c 'import jsonschema, yaml' 2>/dev/null") != 0) {
    GTEST_SKIP() << "python3-jsonschema and python3-yaml are not installed: run scripts/setup";
  }
  auto cluster = Cluster::Start(2, {"--model", "bicubic"});
  ASSERT_NE(cluster, nullptr);
  auto served = cluster->http().Get("/openapi.yaml");
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(served->Header("content-type"), "application/yaml");
  EXPECT_EQ(served->body, ReadFile(std::string(TSDSR_SOURCE_DIR) + "/docs/openapi.yaml"))
      << "the document the program was built with";

  std::string report;
  const int rc = RunCommand("cd '" + std::string(TSDSR_SOURCE_DIR) + "' && /usr/bin/python3 "
                            "deploy/tests/check_openapi_live.py " + cluster->base_url() + " 2>&1", &report);
  EXPECT_EQ(rc, 0) << report;
  std::printf("%s", report.c_str());
}

}  // namespace
}  // namespace tsdsr::testing
