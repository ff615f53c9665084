// Checks the console's real files as compiled in: each has a served type, the page loads only files that exist,
// every module import resolves, and nothing needs what the Content-Security-Policy forbids (inline scripts,
// event-handler attributes, style attributes, eval, HTML built from strings).
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "dispatcher/console/console_routes.h"

namespace tsdsr::dispatcher {
namespace {

std::set<std::string> Names() {
  std::set<std::string> names;
  for (const EmbeddedFile& file : ConsoleAssets()) names.insert(std::string(file.name));
  return names;
}

std::string Content(const std::string& name) {
  const EmbeddedFile* file = FindEmbedded(ConsoleAssets(), name);
  return file == nullptr ? "" : std::string(file->content);
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(ConsoleAssetsTest, EveryFileIsServedWithAKnownTypeUnderAnAllowedName) {
  ASSERT_TRUE(Names().count("index.html"));
  const std::regex allowed("(js/)?[a-z0-9_.-]+");
  for (const std::string& name : Names()) {
    EXPECT_TRUE(std::regex_match(name, allowed)) << name << ": GET /ui/:file and /ui/js/:file serve only these";
    EXPECT_NE(ContentTypeOf(name), "application/octet-stream") << name;
  }
}

TEST(ConsoleAssetsTest, ThePageLoadsOnlyFilesThatExistAndHasNoInlineCode) {
  const std::string page = Content("index.html");
  const std::regex reference(R"re((?:src|href)="([^"]*)")re");
  int references = 0;
  for (std::sregex_iterator it(page.begin(), page.end(), reference), end; it != end; ++it) {
    const std::string target = (*it)[1];
    ASSERT_EQ(target.rfind("/ui/", 0), 0u) << target << ": the page loads only its own files";
    EXPECT_TRUE(Names().count(target.substr(4))) << target;
    ++references;
  }
  EXPECT_GE(references, 3) << "the styles, the icon and the script";
  EXPECT_FALSE(std::regex_search(page, std::regex(R"re(<script(?![^>]*\bsrc=)[^>]*>)re", std::regex::icase)))
      << "an inline script";
  EXPECT_FALSE(std::regex_search(page, std::regex(R"re(\son[a-z]+\s*=)re", std::regex::icase))) << "an event handler";
  EXPECT_FALSE(std::regex_search(page, std::regex(R"re(\sstyle\s*=)re", std::regex::icase))) << "a style attribute";
  EXPECT_FALSE(std::regex_search(page, std::regex("<style", std::regex::icase))) << "an inline style sheet";
}

TEST(ConsoleAssetsTest, ScriptsImportOnlyFilesThatExistAndNeverBuildHtmlFromStrings) {
  const std::regex import(R"re(from\s+'\./([a-z0-9_.-]+)')re");
  const std::regex unsafe(R"re(innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\()re");
  int scripts = 0;
  for (const std::string& name : Names()) {
    if (!EndsWith(name, ".js")) continue;
    ++scripts;
    const std::string script = Content(name);
    for (std::sregex_iterator it(script.begin(), script.end(), import), end; it != end; ++it) {
      EXPECT_TRUE(Names().count("js/" + std::string((*it)[1]))) << name << " imports " << (*it)[1];
    }
    EXPECT_FALSE(std::regex_search(script, unsafe)) << name << ": data is shown as text, never parsed as HTML";
  }
  EXPECT_GE(scripts, 2);
  EXPECT_TRUE(Names().count("js/main.js"));
}

}  // namespace
}  // namespace tsdsr::dispatcher
