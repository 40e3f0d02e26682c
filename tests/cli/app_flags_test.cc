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
  EXPECT_EQ(*ports, (std::vector<model::PortSpec>{{.port = 8080, .protocol = "tcp"}, {.port = 53, .protocol = "udp"}}));
  for (const char* bad : {"0", "65536", "80/sctp", "http", "80x"}) EXPECT_FALSE(parsePortFlags({bad}).isOk()) << bad;
}

TEST(AppFlagsTest, SpecMembersAreOnlyThoseNamedInTheModelsForm) {
  model::AppSpec spec;
  spec.command = {"busybox", "httpd"};
  spec.ports = {{.port = 8080, .protocol = "tcp"}};
  spec.replicas = 3;
  EXPECT_EQ(specMembers(spec, {"command", "ports"}),
            nlohmann::json::parse(R"({"command": ["busybox", "httpd"], "ports": [{"port": 8080, "protocol": "tcp"}]})"));
  EXPECT_EQ(specMembers(spec, {}), nlohmann::json::object());
}

TEST(AppFlagsTest, SplitsCommandOnWhitespace) {
  EXPECT_EQ(splitCommand("  busybox  httpd -f "), (std::vector<std::string>{"busybox", "httpd", "-f"}));
}

}  // namespace
TEST(AppFlagsTest, DurationsTakeAUnit) {
  EXPECT_EQ(*parseDuration("500ms", "--x"), 500);
  EXPECT_EQ(*parseDuration("2s", "--x"), 2000);
  EXPECT_EQ(*parseDuration("3", "--x"), 3000);
  EXPECT_EQ(*parseDuration("1m", "--x"), 60000);
  for (const char* bad : {"", "s", "2h", "1.5s", "-1s", "99999999999s"}) {
    auto d = parseDuration(bad, "--health-interval");
    ASSERT_FALSE(d.isOk()) << bad;
    EXPECT_NE(d.status().message().find("--health-interval must be a duration"), std::string::npos);
  }
}

TEST(AppFlagsTest, HealthFlagsMakeOneCheck) {
  HealthFlags none;
  EXPECT_FALSE(healthBody(none)->has_value());
  HealthFlags http;
  http.http_path = "/healthz";
  http.interval = "1s";
  http.retries = 2;
  EXPECT_EQ(**healthBody(http),
            (nlohmann::json{{"type", "http"}, {"path", "/healthz"}, {"interval_ms", 1000}, {"retries", 2}}));
  HealthFlags exec;
  exec.command = "test -f /ready";
  EXPECT_EQ((**healthBody(exec))["command"], (nlohmann::json{"test", "-f", "/ready"}));
  HealthFlags off;
  off.none = true;
  EXPECT_EQ(**healthBody(off), (nlohmann::json{{"type", "none"}}));
  HealthFlags two = http;
  two.tcp = true;
  EXPECT_FALSE(healthBody(two).isOk());
  HealthFlags tuned_only;
  tuned_only.grace = "5s";
  EXPECT_NE(healthBody(tuned_only).status().message().find("need a check"), std::string::npos);
}

}  // namespace berth::cli
