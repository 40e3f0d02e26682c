#include "os/file_util.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "os/temp_dir.h"

namespace berth::os {
namespace {

TEST(FileUtilTest, AtomicWriteReplacesContentWithExactMode) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.isOk());
  std::string path = dir->path() + "/f";
  ASSERT_TRUE(writeFileAtomic(path, "one", 0600).isOk());
  ASSERT_TRUE(writeFileAtomic(path, "two", 0600).isOk());
  EXPECT_EQ(*readFile(path), "two");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(FileUtilTest, MissingFileIsNotFound) {
  auto r = readFile("/nonexistent/berth");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(TempDirTest, RemovedOnDestruction) {
  std::string path;
  {
    auto dir = TempDir::create();
    ASSERT_TRUE(dir.isOk());
    path = dir->path();
    ASSERT_TRUE(makeDirs(path + "/a/b").isOk());
    ASSERT_TRUE(writeFileAtomic(path + "/a/b/c", "x").isOk());
  }
  EXPECT_FALSE(pathExists(path));
}

}  // namespace
}  // namespace berth::os
