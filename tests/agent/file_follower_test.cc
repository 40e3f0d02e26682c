#include "agent/sessions/file_follower.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "os/temp_dir.h"

namespace berth::agent {
namespace {

void append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

TEST(FileFollowerTest, ReadsTheRotatedFileFirstThenWhatIsAppended) {
  auto dir = os::TempDir::create("follower");
  ASSERT_TRUE(dir.isOk());
  const std::string path = dir->path() + "/app.log";
  append(path + ".1", "old\n");
  append(path, "one\n");
  FileFollower f(path);
  EXPECT_EQ(f.readAll(), "old\none\n");
  EXPECT_EQ(f.readNew(), "");
  append(path, "two\n");
  EXPECT_EQ(f.readNew(), "two\n");
}

TEST(FileFollowerTest, ARenameRotationLosesNothing) {
  auto dir = os::TempDir::create("follower");
  ASSERT_TRUE(dir.isOk());
  const std::string path = dir->path() + "/app.log";
  append(path, "one\n");
  FileFollower f(path);
  EXPECT_EQ(f.readAll(), "one\n");
  append(path, "two\n");  // written before the rotation, not yet read
  ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
  append(path, "three\n");
  EXPECT_EQ(f.readNew(), "two\nthree\n");
}

TEST(FileFollowerTest, ATruncationInPlaceStartsOverAndAMissingFileIsEmpty) {
  auto dir = os::TempDir::create("follower");
  ASSERT_TRUE(dir.isOk());
  const std::string path = dir->path() + "/serial.log";
  FileFollower f(path);
  EXPECT_EQ(f.readAll(), "");
  EXPECT_EQ(f.readNew(), "");
  append(path, "boot line\n");
  EXPECT_EQ(f.readNew(), "boot line\n");
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  append(path, "after\n");
  EXPECT_EQ(f.readNew(), "after\n");
}

}  // namespace
}  // namespace berth::agent
