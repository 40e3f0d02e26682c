#include "image/layer_unpack.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oci_test_util.h"
#include "os/file_util.h"

namespace berth::image {
namespace {

using namespace oci_test;  // NOLINT: the test builders
using ::testing::HasSubstr;

class LayerUnpackTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    root_ = tmp() + "/root";
    canary_ = tmp() + "/canary";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_TRUE(os::makeDirs(canary_ + "/sub").isOk());
    writeFile(canary_ + "/keep", "precious");
    writeFile(canary_ + "/sub/deep", "also precious");
  }

  // Applies `layers` in order, each verified as image_import does; the first failure is returned.
  Status apply(const std::vector<std::string>& layers, const UnpackLimits& limits = {}) {
    auto unpacker = LayerUnpacker::create(root_, limits);
    if (!unpacker.isOk()) return unpacker.status();
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::string path = tmp() + "/layer" + std::to_string(i);
      writeFile(path, layers[i]);
      auto blob = BlobReader::open(path, *hashFile(path));
      if (!blob.isOk()) return blob.status();
      BERTH_RETURN_IF_ERROR(unpacker->apply(*blob));
      BERTH_RETURN_IF_ERROR(blob->finish());
    }
    return Status::ok();
  }

  // Names, types, modes, link counts and contents of the canary tree: any write through an
  // escape changes it.
  std::string canaryFingerprint() const {
    std::string out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(canary_)) {
      struct stat st {};
      ::lstat(e.path().c_str(), &st);
      out += e.path().string() + " " + std::to_string(st.st_mode) + " " +
             std::to_string(st.st_nlink) + " ";
      if (S_ISREG(st.st_mode)) out += *os::readFile(e.path());
      out += "\n";
    }
    return out;
  }

  struct stat lstatOf(const std::string& rel) const {
    struct stat st {};
    ::lstat((root_ + "/" + rel).c_str(), &st);
    return st;
  }

  std::string root_, canary_;
};

TEST_F(LayerUnpackTest, MultiLayerImageWithWhiteoutsAndOpaqueDirectory_Root) {
  Layer base = {dir("./"),
                dir("./etc"),
                file("etc/hello", "v1"),
                dir("bin"),
                file("bin/tool", "#!/bin/sh\n", 0755),
                symlink("bin/link", "tool"),
                hardlink("bin/hard", "bin/tool"),
                symlink("abs", "/etc/passwd"),
                file("gone.txt", "x"),
                dir("old"),
                file("old/a", "a"),
                file("old/b", "b"),
                dir("opq"),
                file("opq/x", "x"),
                dir("opq/sub"),
                file("opq/sub/y", "y")};
  base[2].uid = 1000;
  base[2].gid = 1001;
  const Layer top = {file("etc/hello", "v2", 0600), file(".wh.gone.txt", ""),
                     file("old/.wh.a", ""),         file("opq/early", "same layer"),
                     file("opq/.wh..wh..opq", ""),  dir("opq/sub"),
                     file("opq/new", "n"),          file("implicit/parent/file", "p")};
  ASSERT_TRUE(apply({makeTar(base), makeTar(top, Compression::kNone)}).isOk());

  EXPECT_EQ(*os::readFile(root_ + "/etc/hello"), "v2");
  EXPECT_EQ(lstatOf("etc/hello").st_mode & 07777, 0600u);
  EXPECT_EQ(lstatOf("etc/hello").st_uid, 0u) << "the top layer's entry replaced the file";
  EXPECT_EQ(lstatOf("bin/tool").st_mode & 07777, 0755u);
  EXPECT_EQ(lstatOf("bin/tool").st_ino, lstatOf("bin/hard").st_ino);
  EXPECT_EQ(std::filesystem::read_symlink(root_ + "/bin/link"), "tool");
  EXPECT_EQ(std::filesystem::read_symlink(root_ + "/abs"), "/etc/passwd")
      << "a symlink may point anywhere";
  EXPECT_EQ(lstatOf("bin/tool").st_mtime, 1'700'000'000);
  EXPECT_FALSE(os::pathExists(root_ + "/gone.txt"));
  EXPECT_FALSE(os::pathExists(root_ + "/old/a"));
  EXPECT_TRUE(os::pathExists(root_ + "/old/b"));
  EXPECT_FALSE(os::pathExists(root_ + "/opq/x"));
  EXPECT_FALSE(os::pathExists(root_ + "/opq/sub/y"));
  EXPECT_TRUE(os::pathExists(root_ + "/opq/sub"));
  EXPECT_EQ(*os::readFile(root_ + "/opq/early"), "same layer") << "opaque hides lower layers only";
  EXPECT_EQ(*os::readFile(root_ + "/opq/new"), "n");
  EXPECT_EQ(*os::readFile(root_ + "/implicit/parent/file"), "p");
  EXPECT_FALSE(os::pathExists(root_ + "/.wh.gone.txt"));
}

TEST_F(LayerUnpackTest, OwnersAreKeptWhenRunningAsRoot_Root) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root";
  TarEntry owned = file("owned", "x");
  owned.uid = 1234;
  owned.gid = 5678;
  ASSERT_TRUE(apply({makeTar({owned})}).isOk());
  EXPECT_EQ(lstatOf("owned").st_uid, 1234u);
  EXPECT_EQ(lstatOf("owned").st_gid, 5678u);
}

TEST_F(LayerUnpackTest, ZstdLayersAreRead) {
  ASSERT_TRUE(apply({makeTar({file("z", "zstd")}, Compression::kZstd)}).isOk());
  EXPECT_EQ(*os::readFile(root_ + "/z"), "zstd");
}

TEST_F(LayerUnpackTest, DotDotPathFailsNamingTheEntry) {
  Status s = apply({makeTar({file("a/../../escape", "x")})});
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("entry 'a/../../escape'"));
  EXPECT_THAT(s.message(), HasSubstr("'..'"));
  EXPECT_FALSE(os::pathExists(tmp() + "/escape"));
}

TEST_F(LayerUnpackTest, AbsolutePathFails) {
  Status s = apply({makeTar({file("/tmp/berth-absolute-entry", "x")})});
  ASSERT_FALSE(s.isOk());
  EXPECT_THAT(s.message(), HasSubstr("entry '/tmp/berth-absolute-entry'"));
  EXPECT_THAT(s.message(), HasSubstr("absolute"));
  EXPECT_FALSE(os::pathExists("/tmp/berth-absolute-entry"));
}

TEST_F(LayerUnpackTest, NothingIsWrittenThroughASymlinkLeavingTheRoot_Root) {
  const std::string before = canaryFingerprint();
  const std::vector<std::vector<std::string>> attacks = {
      {makeTar({symlink("evil", canary_), file("evil/pwned", "x")})},
      {makeTar({symlink("evil", "../canary")}), makeTar({file("evil/pwned", "x")})},
      {makeTar({symlink("evil", "../../../../../../..")}),
       makeTar({file("evil/" + canary_.substr(1) + "/pwned", "x")})},
      {makeTar({symlink("evil", canary_), dir("evil/newdir")})},
      {makeTar({symlink("evil", canary_), file("evil/.wh.keep", "")})},
      {makeTar({symlink("evil", canary_), file("evil/sub/.wh..wh..opq", "")})},
      {makeTar({dir("d"), symlink("d/up", "../.."), file("d/up/canary/keep", "overwritten")})},
  };
  for (std::size_t i = 0; i < attacks.size(); ++i) {
    SCOPED_TRACE("attack " + std::to_string(i));
    ASSERT_TRUE(os::removeAll(root_).isOk());
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    Status s = apply(attacks[i]);
    ASSERT_FALSE(s.isOk());
    EXPECT_THAT(s.message(), HasSubstr("outside the image root"));
    EXPECT_EQ(canaryFingerprint(), before);
  }
}

TEST_F(LayerUnpackTest, HardlinkOutsideTheRootFails_Root) {
  const std::string before = canaryFingerprint();
  Status s = apply({makeTar({hardlink("link", "../canary/keep")})});
  ASSERT_FALSE(s.isOk());
  EXPECT_THAT(s.message(), HasSubstr("entry 'link'"));
  EXPECT_THAT(s.message(), HasSubstr("hardlink target '../canary/keep'"));

  ASSERT_TRUE(os::removeAll(root_).isOk());
  ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
  s = apply({makeTar({symlink("evil", canary_), hardlink("link", "evil/keep")})});
  ASSERT_FALSE(s.isOk());
  EXPECT_THAT(s.message(), HasSubstr("outside the image root"));
  EXPECT_EQ(canaryFingerprint(), before);
}

TEST_F(LayerUnpackTest, HardlinkToAMissingTargetFails) {
  Status s = apply({makeTar({hardlink("link", "nowhere")})});
  ASSERT_FALSE(s.isOk());
  EXPECT_THAT(s.message(), HasSubstr("does not exist"));
}

TEST_F(LayerUnpackTest, DeviceNodesFailWithAClearMessage) {
  Status s = apply({makeTar({dir("dev"), node("dev/null", AE_IFCHR)})});
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("entry 'dev/null'"));
  EXPECT_THAT(s.message(), HasSubstr("device node"));
  EXPECT_FALSE(os::pathExists(root_ + "/dev/null"));
  EXPECT_FALSE(apply({makeTar({node("disk", AE_IFBLK)})}).isOk());
}

TEST_F(LayerUnpackTest, FifosAreCreated) {
  ASSERT_TRUE(apply({makeTar({node("pipe", AE_IFIFO)})}).isOk());
  EXPECT_TRUE(S_ISFIFO(lstatOf("pipe").st_mode));
}

TEST_F(LayerUnpackTest, SetuidAndSetgidAreClearedStickyIsKept) {
  ASSERT_TRUE(
      apply({makeTar({file("su", "x", 04755), dir("shared", 02775), dir("tmp", 01777)})}).isOk());
  EXPECT_EQ(lstatOf("su").st_mode & 07777, 0755u);
  EXPECT_EQ(lstatOf("shared").st_mode & 07777, 0775u);
  EXPECT_EQ(lstatOf("tmp").st_mode & 07777, 01777u);
}

TEST_F(LayerUnpackTest, EntryCapFailsNamingTheCapAndTheEntry) {
  UnpackLimits limits;
  limits.max_entries = 3;
  Status s = apply(
      {makeTar({file("a", ""), file("b", "")}), makeTar({file("c", ""), file("d", "")})}, limits);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("entry 'd'"));
  EXPECT_THAT(s.message(), HasSubstr("entry cap"));
}

TEST_F(LayerUnpackTest, SizeCapFailsNamingTheCapAndTheEntry) {
  UnpackLimits limits;
  limits.max_bytes = 1000;
  Status s =
      apply({makeTar({file("small", std::string(600, 'a')), file("big", std::string(600, 'b'))})},
            limits);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("entry 'big'"));
  EXPECT_THAT(s.message(), HasSubstr("size cap"));
}

TEST_F(LayerUnpackTest, CompressionBombFailsOnTheRatioCap) {
  Status s = apply({makeTar({file("zeros", std::string(8 << 20, '\0'))})});
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("entry 'zeros'"));
  EXPECT_THAT(s.message(), HasSubstr("compression ratio cap"));
}

TEST_F(LayerUnpackTest, ALayerThatIsNoTarFails) {
  Status s = apply({"this is not a tar stream at all, not even close" + std::string(1024, 'x')});
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::image
