#include "common/curve_keys.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"

namespace tsdsr {
namespace {

namespace fs = std::filesystem;

using tsdsr::testing::ScratchDir;

void WriteText(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  ::stat(path.c_str(), &info);
  return info.st_mode & 0777;
}

TEST(CurveKeysTest, CurveIsAvailable) { EXPECT_TRUE(CurveAvailable()) << "libzmq without libsodium"; }

TEST(CurveKeysTest, GeneratedPairsAreValidAndTheSecretGivesThePublicHalf) {
  auto pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_TRUE(IsCurveKey(pair->public_key));
  EXPECT_TRUE(IsCurveKey(pair->secret_key));
  EXPECT_NE(pair->public_key, pair->secret_key);
  auto derived = CurveKeyPairOf(pair->secret_key);
  ASSERT_TRUE(derived.ok());
  EXPECT_EQ(derived->public_key, pair->public_key);
  EXPECT_NE(GenerateCurveKeyPair()->public_key, pair->public_key);
}

TEST(CurveKeysTest, MalformedKeysAreRecognised) {
  const std::string key = GenerateCurveKeyPair()->public_key;
  EXPECT_FALSE(IsCurveKey(""));
  EXPECT_FALSE(IsCurveKey(key.substr(1)));
  EXPECT_FALSE(IsCurveKey(key + "0"));
  EXPECT_FALSE(IsCurveKey(std::string(39, 'a') + " "));   // not in the Z85 alphabet
  EXPECT_FALSE(IsCurveKey(std::string(39, 'a') + "\""));  // nor this
  EXPECT_FALSE(IsCurveKey(std::string(40, '#')));         // decodes past 32 bits per group
  EXPECT_FALSE(CurveKeyPairOf("short").ok());
}

TEST(CurveKeysTest, BinaryKeysConvertToZ85) {
  EXPECT_EQ(CurveKeyToZ85(std::string(32, '\0')), "0000000000000000000000000000000000000000");
  EXPECT_EQ(CurveKeyToZ85("too short"), "");
}

TEST(CurveKeysTest, KeyFilesRoundTripWithTheirModes) {
  ScratchDir dir;
  auto pair = GenerateCurveKeyPair();
  ASSERT_TRUE(WriteCurveKeyFile(dir.File("a.key"), pair->secret_key, true, "secret").ok());
  ASSERT_TRUE(WriteCurveKeyFile(dir.File("a.pub"), pair->public_key, false, "public").ok());
  EXPECT_EQ(ModeOf(dir.File("a.key")), 0600u);
  EXPECT_EQ(ModeOf(dir.File("a.pub")), 0644u);
  EXPECT_EQ(*ReadCurveKeyFile(dir.File("a.key"), true), pair->secret_key);
  EXPECT_EQ(*ReadCurveKeyFile(dir.File("a.pub"), false), pair->public_key);
  auto again = WriteCurveKeyFile(dir.File("a.key"), pair->secret_key, true, "secret");
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition) << "never overwritten";
}

TEST(CurveKeysTest, BadKeyFilesAreRefusedWithTheirName) {
  ScratchDir dir;
  const std::string key = GenerateCurveKeyPair()->public_key;
  EXPECT_EQ(ReadCurveKeyFile(dir.File("missing.pub"), false).status().code(), StatusCode::kNotFound);
  WriteText(dir.File("empty.pub"), "# only a comment\n\n");
  WriteText(dir.File("two.pub"), key + "\n" + key + "\n");
  WriteText(dir.File("bad.pub"), "not a key\n");
  for (const char* name : {"empty.pub", "two.pub", "bad.pub"}) {
    auto read = ReadCurveKeyFile(dir.File(name), false);
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(read.status().message().find(name), std::string::npos) << read.status().message();
  }
  WriteText(dir.File("spaced.pub"), "# a comment\n\n  " + key + "  \r\n\n");
  EXPECT_EQ(*ReadCurveKeyFile(dir.File("spaced.pub"), false), key);
  EXPECT_EQ(ReadCurveKeyFile(dir.path(), false).status().code(), StatusCode::kInvalidArgument) << "a directory";
}

TEST(CurveKeysTest, SecretKeyFilesOthersCanReadAreRefused) {
  ScratchDir dir;
  const std::string secret = GenerateCurveKeyPair()->secret_key;
  WriteText(dir.File("open.key"), secret + "\n", 0644);
  auto read = ReadCurveKeyFile(dir.File("open.key"), true);
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("chmod 600"), std::string::npos) << read.status().message();
  WriteText(dir.File("group.key"), secret + "\n", 0640);
  EXPECT_FALSE(ReadCurveKeyFile(dir.File("group.key"), true).ok());
  WriteText(dir.File("private.key"), secret + "\n", 0400);
  EXPECT_EQ(*ReadCurveKeyFile(dir.File("private.key"), true), secret);
  EXPECT_TRUE(ReadCurveKeyFile(dir.File("open.key"), false).ok()) << "only secret files are checked";
}

TEST(CurveKeysTest, GeneratedDirectoryServesDispatcherAndWorker) {
  ScratchDir scratch;
  const std::string dir = scratch.File("keys");
  ASSERT_TRUE(GenerateKeyDirectory(dir).ok());
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/dispatcher.key"), 0600u);
  EXPECT_EQ(ModeOf(dir + "/worker.key"), 0600u);
  auto worker = ReadWorkerKeys(dir);
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  auto dispatcher = CurveKeyPairOf(*ReadCurveKeyFile(dir + "/dispatcher.key", true));
  EXPECT_EQ(worker->server_public_key, dispatcher->public_key);
  auto authorized = ReadAuthorizedKeys(dir + "/authorized_workers");
  ASSERT_TRUE(authorized.ok()) << authorized.status().ToString();
  ASSERT_EQ(authorized->size(), 1u);
  EXPECT_EQ(authorized->begin()->first, worker->own.public_key);
  EXPECT_EQ(authorized->begin()->second, "worker");

  auto again = GenerateKeyDirectory(dir);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*ReadCurveKeyFile(dir + "/worker.key", true), worker->own.secret_key) << "nothing was overwritten";
}

TEST(CurveKeysTest, AuthorizedKeysAreEveryPubFileNamedByItsStem) {
  ScratchDir dir;
  const std::string a = GenerateCurveKeyPair()->public_key;
  const std::string b = GenerateCurveKeyPair()->public_key;
  WriteText(dir.File("node-a.pub"), a + "\n");
  WriteText(dir.File("node-b.pub"), "# gpu box\n" + b + "\n");
  WriteText(dir.File("README"), "not a key, ignored\n");
  auto keys = ReadAuthorizedKeys(dir.path());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->at(a), "node-a");
  EXPECT_EQ(keys->at(b), "node-b");
  WriteText(dir.File("broken.pub"), "garbage\n");
  EXPECT_EQ(ReadAuthorizedKeys(dir.path()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadAuthorizedKeys(dir.File("absent")).status().code(), StatusCode::kNotFound);
}

TEST(CurveKeysTest, WorkerKeysMustMatchTheirPublicFile) {
  ScratchDir scratch;
  const std::string dir = scratch.File("keys");
  ASSERT_TRUE(GenerateKeyDirectory(dir).ok());
  fs::remove(dir + "/worker.pub");
  EXPECT_TRUE(ReadWorkerKeys(dir).ok()) << "worker.pub is optional";
  WriteText(dir + "/worker.pub", GenerateCurveKeyPair()->public_key + "\n");
  EXPECT_EQ(ReadWorkerKeys(dir).status().code(), StatusCode::kInvalidArgument);
  fs::remove(dir + "/worker.pub");
  fs::remove(dir + "/dispatcher.pub");
  EXPECT_EQ(ReadWorkerKeys(dir).status().code(), StatusCode::kNotFound);
}

TEST(CurveKeysTest, LocalEndpointsNeedNoKeys) {
  EXPECT_TRUE(IsLocalEndpoint("ipc:///tmp/workers.sock"));
  EXPECT_TRUE(IsLocalEndpoint("inproc://workers"));
  EXPECT_TRUE(IsLocalEndpoint("tcp://127.0.0.1:5555"));
  EXPECT_TRUE(IsLocalEndpoint("tcp://127.3.2.1:*"));
  EXPECT_TRUE(IsLocalEndpoint("tcp://[::1]:5555"));
  EXPECT_TRUE(IsLocalEndpoint("tcp://127.0.0.1"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://0.0.0.0:5555"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://*:5555"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://[::]:5555"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://eth0:5555"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://localhost:5555"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://dispatcher.example:5555"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://10.1.2.3:5555"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://128.0.0.1:5555"));
  EXPECT_FALSE(IsLocalEndpoint("tcp://127.0.0.1;10.1.2.3:5555")) << "the destination after a source address";
  EXPECT_FALSE(IsLocalEndpoint("pgm://eth0;239.192.1.1:5555"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost(""));
}

}  // namespace
}  // namespace tsdsr
