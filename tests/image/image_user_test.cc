#include "image/image_user.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "os/file_util.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace berth::image {
namespace {

class ImageUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.emplace(os::TempDir::create("berth-user-").value());
    ASSERT_TRUE(os::makeDirs(dir_->path() + "/root/etc", 0755).isOk());
    root_.reset(::open((dir_->path() + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  void write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(os::writeFileAtomic(dir_->path() + "/root/etc/" + name, text, 0644).isOk());
  }
  Result<ImageUser> resolve(const std::string& user) { return resolveImageUser(root_.get(), user); }

  std::optional<os::TempDir> dir_;
  os::UniqueFd root_;
};

TEST_F(ImageUserTest, NumbersNeedNoFiles) {
  EXPECT_EQ(resolve("")->uid, 0u);
  EXPECT_EQ(resolve("1000")->uid, 1000u);
  EXPECT_EQ(resolve("1000")->gid, 1000u);
  EXPECT_EQ(resolve("1000:50")->gid, 50u);
}

TEST_F(ImageUserTest, NamesComeFromTheImagesOwnFiles) {
  write("passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n");
  write("group", "root:x:0:\nstaff:x:50:app\n");
  auto app = resolve("app");
  ASSERT_TRUE(app.isOk()) << app.status().toString();
  EXPECT_EQ(app->uid, 1001u);
  EXPECT_EQ(app->gid, 1002u);  // its primary group
  EXPECT_EQ(resolve("app:staff")->gid, 50u);
  EXPECT_EQ(resolve("1001:staff")->gid, 50u);
  EXPECT_EQ(resolve("app:7")->gid, 7u);
}

TEST_F(ImageUserTest, UnknownNamesAreNamed) {
  write("passwd", "root:x:0:0:root:/root:/bin/sh\n");
  EXPECT_NE(resolve("nobody").status().message().find("USER 'nobody' is not in its /etc/passwd"), std::string::npos);
  EXPECT_NE(resolve("0:wheel").status().message().find("group 'wheel' is not in its /etc/group"), std::string::npos);
}

TEST_F(ImageUserTest, ASymlinkOutOfTheRootIsNotFollowed) {
  // /etc/passwd pointing at the host's: the host's "root" must not be found through it.
  ASSERT_EQ(::symlink("/etc/passwd", (dir_->path() + "/root/etc/passwd").c_str()), 0);
  auto r = resolve("root");
  EXPECT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().toString();
}

}  // namespace
}  // namespace berth::image
