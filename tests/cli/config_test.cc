#include "cli/config.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "os/file_util.h"
#include "os/temp_dir.h"

namespace berth::cli {
namespace {

TEST(ConfigTest, PathFollowsXdgThenHome) {
  EXPECT_EQ(configPath({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}), "/x/berth/config.json");
  EXPECT_EQ(configPath({{"HOME", "/h"}}), "/h/.config/berth/config.json");
}

TEST(ConfigTest, SavedConfigIsPrivateAndLoadsBack) {
  auto dir = os::TempDir::create();
  std::string path = dir->path() + "/berth/config.json";
  ASSERT_TRUE(saveConfig(path, {"http://h:1", "berth_x"}).isOk());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = loadConfig(path);
  ASSERT_TRUE(loaded.isOk() && loaded->has_value());
  EXPECT_EQ((*loaded)->url, "http://h:1");
  EXPECT_FALSE(loadConfig(dir->path() + "/absent.json")->has_value());
  ASSERT_TRUE(os::writeFileAtomic(path, "{oops").isOk());
  EXPECT_NE(loadConfig(path).status().message().find("berth login"), std::string::npos);
}

TEST(ConfigTest, FlagsBeatEnvironmentBeatsFile) {
  auto dir = os::TempDir::create();
  std::string token_file = dir->path() + "/t";
  ASSERT_TRUE(os::writeFileAtomic(token_file, "berth_flag\n").isOk());
  CredentialSources s;
  s.file = Credentials{"http://file:1", "berth_file"};
  EXPECT_EQ(resolveCredentials(s)->url, "http://file:1");
  s.env = {{"BERTH_URL", "http://env:1"}, {"BERTH_TOKEN", "berth_env"}};
  EXPECT_EQ(resolveCredentials(s)->token, "berth_env");
  s.flag_url = "http://flag:1";
  s.flag_token_file = token_file;
  auto c = resolveCredentials(s);
  EXPECT_EQ(c->url, "http://flag:1");
  EXPECT_EQ(c->token, "berth_flag");
}

TEST(ConfigTest, NothingConfiguredSaysHowToLogIn) {
  auto c = resolveCredentials({});
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().message(), "not logged in; run 'berth login URL --token-file FILE'");
}

}  // namespace
}  // namespace berth::cli
