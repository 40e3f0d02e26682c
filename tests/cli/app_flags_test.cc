#include "cli/app_flags.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(AppFlagsTest, EnvKeepsEqualsInValues) {
  auto env = parseEnvFlags({"A=1", "URL=x=y", "EMPTY="});
  ASSERT_TRUE(env.isOk());
  EXPECT_EQ((*env)["URL"], "x=y");
  EXPECT_EQ((*env)["EMPTY"], "");
  EXPECT_EQ(parseEnvFlags({"NOVALUE"}).status().message(), "--env must be KEY=VALUE, not 'NOVALUE'");
  EXPECT_FALSE(parseEnvFlags({"=x"}).isOk());
}

TEST(AppFlagsTest, PortsWithProtocols) {
  auto ports = parsePortFlags({"8080", "53/udp"});
  ASSERT_TRUE(ports.isOk());
  EXPECT_EQ((*ports)[0]["protocol"], "tcp");
  EXPECT_EQ((*ports)[1]["port"], 53);
  for (const char* bad : {"0", "65536", "80/sctp", "http", "80x"}) EXPECT_FALSE(parsePortFlags({bad}).isOk()) << bad;
}

TEST(AppFlagsTest, SplitsCommandOnWhitespace) {
  EXPECT_EQ(splitCommand("  busybox  httpd -f "), (std::vector<std::string>{"busybox", "httpd", "-f"}));
}

}  // namespace
}  // namespace berth::cli
