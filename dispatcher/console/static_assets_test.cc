#include "dispatcher/console/static_assets.h"

#include <string>

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

std::string HeaderOf(const AssetAnswer& answer, const std::string& name) {
  for (const auto& [header, value] : answer.headers) {
    if (header == name) return value;
  }
  return "";
}

const std::vector<EmbeddedFile>& TwoFiles() {
  static const std::vector<EmbeddedFile> files = {{"index.html", "<!doctype html><title>t</title>"},
                                                  {"js/main.js", "export const x = 1;\n"}};
  return files;
}

TEST(StaticAssetsTest, ServesAFileWithItsTypeTagAndSecurityHeaders) {
  StaticAssets assets(TwoFiles());
  AssetAnswer answer = assets.Answer("js/main.js", std::nullopt);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "export const x = 1;\n");
  EXPECT_EQ(answer.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(answer, "ETag"), EntityTagOf("export const x = 1;\n"));
  EXPECT_EQ(HeaderOf(answer, "Cache-Control"), "no-cache");
  EXPECT_EQ(HeaderOf(answer, "Content-Security-Policy"), kConsolePolicy);
  EXPECT_EQ(HeaderOf(answer, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(answer, "X-Frame-Options"), "DENY");
}

TEST(StaticAssetsTest, AMatchingTagGetsNotModifiedWithoutABody) {
  StaticAssets assets(TwoFiles());
  const std::string etag = EntityTagOf("<!doctype html><title>t</title>");
  AssetAnswer answer = assets.Answer("index.html", etag);
  EXPECT_EQ(answer.status, 304);
  EXPECT_TRUE(answer.body.empty());
  EXPECT_EQ(HeaderOf(answer, "ETag"), etag);
  EXPECT_EQ(assets.Answer("index.html", "\"0000000000000000\"").status, 200) << "another file's tag";
}

TEST(StaticAssetsTest, AnUnknownNameIsNotFound) {
  StaticAssets assets(TwoFiles());
  for (const char* name : {"", "main.js", "js/", "../index.html", "index.html/", "INDEX.HTML"}) {
    AssetAnswer answer = assets.Answer(name, std::nullopt);
    EXPECT_EQ(answer.status, 404) << name;
    EXPECT_EQ(answer.content_type, "text/plain; charset=utf-8");
    EXPECT_FALSE(HeaderOf(answer, "Content-Security-Policy").empty());
    EXPECT_TRUE(HeaderOf(answer, "ETag").empty());
  }
}

TEST(StaticAssetsTest, ContentTypesFollowTheExtension) {
  EXPECT_EQ(ContentTypeOf("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("console.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("icon.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeOf("a.png"), "image/png");
  EXPECT_EQ(ContentTypeOf("js.html.bak"), "application/octet-stream");
  EXPECT_EQ(ContentTypeOf("js"), "application/octet-stream");
}

TEST(StaticAssetsTest, EntityTagsDifferWithContentAndMatchAsHttpSays) {
  EXPECT_NE(EntityTagOf("a"), EntityTagOf("b"));
  EXPECT_EQ(EntityTagOf("a"), EntityTagOf("a"));
  EXPECT_EQ(EntityTagOf("").size(), 18u) << "16 hexadecimal digits in quotes";
  const std::string tag = EntityTagOf("x");
  EXPECT_TRUE(MatchesEntityTag(tag, tag));
  EXPECT_TRUE(MatchesEntityTag("W/" + tag, tag)) << "If-None-Match compares weakly";
  EXPECT_TRUE(MatchesEntityTag("\"1\", " + tag + " ,\"2\"", tag));
  EXPECT_TRUE(MatchesEntityTag("*", tag));
  EXPECT_FALSE(MatchesEntityTag("", tag));
  EXPECT_FALSE(MatchesEntityTag("\"1\",\"2\"", tag));
  EXPECT_FALSE(MatchesEntityTag(tag.substr(1), tag)) << "unquoted";
}

TEST(StaticAssetsTest, ThePolicyAllowsNoInlineCodeAndNoFraming) {
  const std::string policy(kConsolePolicy);
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe-eval"), std::string::npos);
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos);
}

}  // namespace
}  // namespace tsdsr::dispatcher
