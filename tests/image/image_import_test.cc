#include "image/image_import.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/image_source.h"
#include "common/crypto.h"
#include "oci_test_util.h"
#include "os/file_util.h"

namespace berth::image {
namespace {

using namespace oci_test;  // NOLINT: the test builders
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Phase = ImportProgress::Phase;

std::string shell(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

std::string debugfs(const std::string& image, const std::string& request) {
  return shell("debugfs -R '" + request + "' " + image + " 2>/dev/null");
}

// The tar entries of a directory tree, for archiving a layout as `tar -C dir -c .` would.
Layer entriesOf(const std::string& dir) {
  Layer entries;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string rel = std::filesystem::relative(e.path(), dir).string();
    entries.push_back(e.is_directory() ? oci_test::dir(rel) : file(rel, *os::readFile(e.path())));
  }
  return entries;
}

class ImageImportTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    cache_.emplace(tmp() + "/data/images/oci");
    layout_ = tmp() + "/layout";
  }

  static std::vector<Layer> layers() {
    TarEntry owned = file("home/app/data", "owned");
    owned.uid = 1000;
    owned.gid = 1000;
    return {{dir("etc"), file("etc/hello", "v1"), dir("bin"), file("bin/su", "x", 04755),
             symlink("bin/sh", "su"), dir("home"), dir("home/app"), owned, file("tmp.txt", "gone"),
             node("pipe", AE_IFIFO)},
            {file("etc/hello", "v2"), file(".wh.tmp.txt", ""), hardlink("bin/su2", "bin/su")}};
  }

  static nlohmann::json config() {
    return {{"Entrypoint", {"/bin/app"}},
            {"Cmd", {"--port", "8080"}},
            {"Env", {"PATH=/bin", "MODE=prod"}},
            {"WorkingDir", "/srv"},
            {"User", "1000:1000"},
            {"ExposedPorts", {{"8080/tcp", {}}, {"53/udp", {}}}}};
  }

  // What the image cache directory holds: entries and any staging left behind.
  std::vector<std::string> cacheListing() const {
    std::vector<std::string> names;
    if (!os::pathExists(cache_->dir())) return names;
    for (const auto& e : std::filesystem::directory_iterator(cache_->dir())) {
      names.push_back(e.path().filename().string());
    }
    return names;
  }

  std::string blobPath(const Descriptor& d) const {
    return layout_ + "/blobs/sha256/" + d.digest.substr(7);
  }

  std::optional<ImageCache> cache_;
  std::string layout_;
};

TEST_F(ImageImportTest, AUserNameIsResolvedInTheImagesOwnPasswdAndTheExt4IsShrunk_Root) {
  nlohmann::json named = config();
  named["User"] = "app";
  std::vector<Layer> with_passwd = layers();
  with_passwd[1].push_back(file("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"));
  writeOciLayout(layout_, with_passwd, named);
  auto imported = importImage(*cache_, layout_, {}, nullptr);
  ASSERT_TRUE(imported.isOk()) << imported.status().toString();
  EXPECT_EQ(imported->record.config.user, "1000:1001");
  // A few KiB of files: the 16 MiB mkfs was given is gone again.
  EXPECT_LT(imported->record.ext4_size, 2u << 20);

  named["User"] = "ghost";
  writeOciLayout(layout_ + "2", with_passwd, named);
  auto unknown = importImage(*cache_, layout_ + "2", {}, nullptr);
  ASSERT_FALSE(unknown.isOk());
  EXPECT_THAT(unknown.status().message(), HasSubstr("USER 'ghost' is not in its /etc/passwd"));
}

TEST_F(ImageImportTest, StagingLeftByACrashIsRemovedAndEntriesStay_Root) {
  writeOciLayout(layout_, layers(), config());
  ASSERT_TRUE(importImage(*cache_, layout_, {}, nullptr).isOk());
  ASSERT_TRUE(os::makeDirs(cache_->dir() + "/.import-Xy12ab/root/etc").isOk());
  ASSERT_EQ(cacheListing().size(), 2u);
  ASSERT_TRUE(removeStaleImports(*cache_).isOk());
  const auto left = cacheListing();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].rfind(".import-", 0), 0u);
  EXPECT_TRUE(removeStaleImports(ImageCache(tmp() + "/nothing-here")).isOk());
}

TEST_F(ImageImportTest, ImportsALayoutIntoAnExt4ThatASecondImportFindsCached_Root) {
  const Descriptor manifest = writeOciLayout(layout_, layers(), config());
  std::vector<Phase> phases;
  auto first = importImage(*cache_, layout_, {},
                           [&](const ImportProgress& p) { phases.push_back(p.phase); });
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_FALSE(first->cached);
  EXPECT_THAT(phases, ElementsAre(Phase::kFetch, Phase::kVerify, Phase::kUnpack, Phase::kUnpack,
                                  Phase::kConvert, Phase::kDone));
  const std::string hex = manifest.digest.substr(7);
  EXPECT_EQ(first->ext4_path, cache_->entry(hex).ext4());
  EXPECT_EQ(first->record.manifest_digest, manifest.digest);
  const ImageConfig& c = first->record.config;
  EXPECT_THAT(c.entrypoint, ElementsAre("/bin/app"));
  EXPECT_THAT(c.cmd, ElementsAre("--port", "8080"));
  EXPECT_THAT(c.env, ElementsAre("PATH=/bin", "MODE=prod"));
  EXPECT_EQ(c.working_dir, "/srv");
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_THAT(c.exposed_ports, ElementsAre("53/udp", "8080/tcp"));
  EXPECT_EQ(first->record.ext4_digest, "sha256:" + sha256Hex(*os::readFile(first->ext4_path)));

  const std::string img = first->ext4_path;
  const std::string listing = debugfs(img, "ls -l /");
  EXPECT_THAT(listing, HasSubstr("etc"));
  EXPECT_THAT(listing, HasSubstr("home"));
  EXPECT_THAT(listing, Not(HasSubstr("tmp.txt")));
  EXPECT_EQ(debugfs(img, "cat /etc/hello"), "v2");
  EXPECT_THAT(debugfs(img, "stat /bin/su"), HasSubstr("Mode:  0755"));
  EXPECT_THAT(debugfs(img, "stat /bin/su"), HasSubstr("Links: 2"));
  EXPECT_THAT(debugfs(img, "stat /home/app/data"), HasSubstr("User:  1000"));
  EXPECT_THAT(debugfs(img, "stat /bin/sh"), HasSubstr("Fast link dest: \"su\""));
  EXPECT_THAT(debugfs(img, "stat /pipe"), HasSubstr("Type: FIFO"));
  EXPECT_THAT(shell("dumpe2fs -h " + img + " 2>/dev/null"), Not(HasSubstr("has_journal")));

  struct stat before {
  }, after{};
  ASSERT_EQ(::stat(img.c_str(), &before), 0);
  phases.clear();
  auto second = importImage(*cache_, layout_, {},
                            [&](const ImportProgress& p) { phases.push_back(p.phase); });
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_TRUE(second->cached);
  EXPECT_THAT(phases, ElementsAre(Phase::kFetch, Phase::kVerify, Phase::kDone))
      << "no unpack, no convert";
  ASSERT_EQ(::stat(second->ext4_path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(second->record.ext4_digest, first->record.ext4_digest);
  EXPECT_THAT(second->record.config.cmd, ElementsAre("--port", "8080"));
  EXPECT_THAT(cacheListing(), ElementsAre(hex)) << "no staging left behind";
}

TEST_F(ImageImportTest, ALayerThatDoesNotDecompressToItsDiffIdFails) {
  const std::string wrong = "sha256:" + std::string(64, 'a');
  writeOciLayout(layout_, layers(), config(), {wrong, wrong});
  auto imported = importImage(*cache_, layout_, {}, nullptr);
  ASSERT_FALSE(imported.isOk());
  EXPECT_EQ(imported.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(imported.status().message(), HasSubstr("layer 1/2 decompresses to sha256:"));
  EXPECT_THAT(imported.status().message(), HasSubstr("not to the diff_id " + wrong));
  EXPECT_THAT(cacheListing(), ::testing::IsEmpty());

  writeOciLayout(layout_ + "2", layers(), config(), {wrong});
  EXPECT_THAT(importImage(*cache_, layout_ + "2", {}, nullptr).status().message(),
              HasSubstr("lists 1 diff_ids for 2 layers"));
}

TEST_F(ImageImportTest, ACorruptLayerBlobFailsNamingItAndLeavesTheCacheUntouched) {
  const Descriptor manifest = writeOciLayout(layout_, layers(), config());
  auto image = readOciLayout(layout_);
  ASSERT_TRUE(image.isOk());
  const Descriptor layer = image->layers[1];
  std::string bytes = *os::readFile(blobPath(layer));
  bytes[bytes.size() / 2] ^= 0x55;
  writeFile(blobPath(layer), bytes);
  auto r = importImage(*cache_, layout_);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("layer 2/2"));
  EXPECT_THAT(r.status().message(), HasSubstr("blob " + layer.digest + " is corrupt"));
  EXPECT_TRUE(cacheListing().empty());
  EXPECT_EQ(findCachedImage(*cache_, manifest.digest.substr(7)).status().code(),
            StatusCode::kNotFound);
}

TEST_F(ImageImportTest, ABlobLongerThanItsDescriptorFails) {
  writeOciLayout(layout_, layers(), config());
  const Descriptor layer = readOciLayout(layout_)->layers[0];
  writeFile(blobPath(layer), *os::readFile(blobPath(layer)) + "trailing");
  auto r = importImage(*cache_, layout_);
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(),
              HasSubstr("is larger than the " + std::to_string(layer.size) + " bytes"));
}

TEST_F(ImageImportTest, ACorruptConfigFails) {
  writeOciLayout(layout_, layers(), config());
  const Descriptor config_blob = readOciLayout(layout_)->config_blob;
  std::string bytes = *os::readFile(blobPath(config_blob));
  bytes[0] = ' ';
  writeFile(blobPath(config_blob), bytes);
  auto r = readOciLayout(layout_);
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("blob " + config_blob.digest + " is corrupt"));
}

TEST_F(ImageImportTest, ADeviceNodeFailsTheWholeImportAtomically) {
  std::vector<Layer> bad = layers();
  bad.push_back({dir("dev"), node("dev/console", AE_IFCHR)});
  writeOciLayout(layout_, bad, config());
  auto r = importImage(*cache_, layout_);
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("layer 3/3"));
  EXPECT_THAT(r.status().message(), HasSubstr("entry 'dev/console'"));
  EXPECT_THAT(r.status().message(), HasSubstr("device node"));
  EXPECT_TRUE(cacheListing().empty()) << "the partial root and the staging directory are gone";
}

TEST_F(ImageImportTest, AnIndexOfSeveralPlatformsYieldsTheLinuxAmd64Image) {
  const Descriptor manifest = writeOciLayout(layout_, layers(), config());
  auto entry = [](const Descriptor& d, const std::string& arch) {
    return nlohmann::json{{"mediaType", d.media_type},
                          {"digest", d.digest},
                          {"size", d.size},
                          {"platform", {{"os", "linux"}, {"architecture", arch}}}};
  };
  const Descriptor other{manifest.media_type, "sha256:" + std::string(64, 'a'), 10};
  writeFile(layout_ + "/index.json",
            nlohmann::json{{"schemaVersion", 2},
                           {"manifests", {entry(other, "arm64"), entry(manifest, "amd64")}}}
                .dump());
  auto image = readOciLayout(layout_);
  ASSERT_TRUE(image.isOk()) << image.status().toString();
  EXPECT_EQ(image->manifest.digest, manifest.digest);

  writeFile(layout_ + "/index.json",
            nlohmann::json{{"schemaVersion", 2},
                           {"manifests", {entry(other, "arm64"), entry(other, "s390x")}}}
                .dump());
  auto none = readOciLayout(layout_);
  ASSERT_FALSE(none.isOk());
  EXPECT_THAT(none.status().message(), HasSubstr("linux/arm64, linux/s390x"));
}

TEST_F(ImageImportTest, MalformedJsonAndBadDigestsAreErrorsNotCrashes) {
  ASSERT_TRUE(os::makeDirs(layout_).isOk());
  writeFile(layout_ + "/index.json", "{not json");
  EXPECT_EQ(readOciLayout(layout_).status().code(), StatusCode::kInvalidArgument);
  writeFile(
      layout_ + "/index.json",
      R"({"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../etc","size":1}]})");
  EXPECT_THAT(readOciLayout(layout_).status().message(), HasSubstr("unsupported digest"));
}

TEST_F(ImageImportTest, SourcesAreRecognisedByContentNotName) {
  writeOciLayout(layout_, layers(), config());
  EXPECT_EQ(*detectSource(layout_), SourceKind::kOciLayout);
  EXPECT_EQ(*detectSource("docker://docker.io/library/alpine:3"), SourceKind::kRegistry);
  const std::string oci = tmp() + "/looks-like.docker.tar";
  writeFile(oci, makeTar(entriesOf(layout_), Compression::kNone));
  EXPECT_EQ(*detectSource(oci), SourceKind::kOciArchive);
  const std::string docker = tmp() + "/looks-like.oci";
  writeFile(docker,
            makeTar({file("manifest.json", "[]"), file("layer.tar", "")}, Compression::kNone));
  EXPECT_EQ(*detectSource(docker), SourceKind::kDockerArchive);
  const std::string neither = tmp() + "/neither.tar";
  writeFile(neither, makeTar({file("README", "hi")}, Compression::kNone));
  EXPECT_EQ(detectSource(neither).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(detectSource(tmp()).status().code(), StatusCode::kInvalidArgument) << "not a layout";
  EXPECT_EQ(detectSource(tmp() + "/missing").status().code(), StatusCode::kNotFound);
}

TEST_F(ImageImportTest, SkopeoConvertsAnOciArchive_Root) {
  writeOciLayout(layout_, layers(), config());
  const std::string archive = tmp() + "/image.tar";
  writeFile(archive, makeTar(entriesOf(layout_), Compression::kNone));
  auto r = importImage(*cache_, archive);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_FALSE(r->cached);
  EXPECT_THAT(r->record.config.entrypoint, ElementsAre("/bin/app"));
  EXPECT_EQ(debugfs(r->ext4_path, "cat /etc/hello"), "v2");
  EXPECT_EQ(cacheListing().size(), 1u);
  auto again = importImage(*cache_, archive);
  ASSERT_TRUE(again.isOk()) << again.status().toString();
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(cacheListing().size(), 1u);
}

TEST_F(ImageImportTest, ADamagedCacheEntryIsRebuilt_Root) {
  const Descriptor manifest = writeOciLayout(layout_, layers(), config());
  const std::string hex = manifest.digest.substr(7);
  ASSERT_TRUE(importImage(*cache_, layout_).isOk());
  ASSERT_EQ(::unlink(cache_->entry(hex).record().c_str()), 0);
  EXPECT_EQ(findCachedImage(*cache_, hex).status().code(), StatusCode::kInternal);
  auto r = importImage(*cache_, layout_);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_FALSE(r->cached);
  EXPECT_TRUE(findCachedImage(*cache_, hex).isOk());
  EXPECT_EQ(findCachedImage(*cache_, "not-hex").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ImageImportTest, SkopeoConvertsADockerArchive_Root) {
  const std::string layer =
      makeTar({dir("srv"), file("srv/index.html", "hello")}, Compression::kNone);
  const nlohmann::json cfg = {
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config", config()},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + sha256Hex(layer)}}}}};
  const std::string archive = tmp() + "/saved";
  writeFile(
      archive,
      makeTar({file("manifest.json",
                    R"([{"Config":"config.json","RepoTags":["app:1"],"Layers":["layer.tar"]}])"),
               file("config.json", cfg.dump()), file("layer.tar", layer)},
              Compression::kNone));
  auto r = importImage(*cache_, archive);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->record.config.working_dir, "/srv");
  EXPECT_EQ(debugfs(r->ext4_path, "cat /srv/index.html"), "hello");
}

TEST_F(ImageImportTest, ASkopeoFailureCarriesItsMessage) {
  const std::string archive = tmp() + "/broken.tar";
  writeFile(archive,
            makeTar({file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})")}, Compression::kNone));
  auto r = importImage(*cache_, archive);
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("cannot convert"));
  EXPECT_THAT(r.status().message(), HasSubstr("skopeo failed (exit"));
  EXPECT_TRUE(cacheListing().empty());
}

}  // namespace
}  // namespace berth::image
