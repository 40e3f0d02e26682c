// The real Caddy (Debian's caddy, installed by scripts/setup) driven through its admin socket:
// started with the first domain, reloaded with new routes, its CA exported, found again by a
// second CaddyIngress (an agent restart), and answering HTTPS for the routed name.

#include "agent/ingress/caddy_ingress.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "agent/ingress/caddy_admin.h"
#include "os/file_util.h"
#include "os/temp_dir.h"

namespace berth::agent {
namespace {

using namespace std::chrono_literals;

class CaddyIngressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto caddy = CaddyIngress::findCaddy();
    ASSERT_TRUE(caddy.isOk()) << caddy.status().toString() << " (scripts/setup installs it)";
    caddy_ = *caddy;
  }
  void TearDown() override {
    if (auto pid = os::readFile(dir_.path() + "/ingress/caddy.pid"); pid.isOk())
      ::kill(std::atoi(pid->c_str()), SIGKILL);
  }
  std::string admin() const { return dir_.path() + "/ingress/admin.sock"; }
  // Ports from the ephemeral range's top, unlikely to be taken on a test machine.
  // Each test its own ports: ctest runs them in parallel.
  IngressSettings settings(int offset = 0) const {
    return IngressSettings{"127.0.0.1", 48080 + offset, 48443 + offset, "internal", ""};
  }

  os::TempDir dir_ = os::TempDir::create("berth-caddy-").value();
  std::string caddy_;
};

TEST_F(CaddyIngressTest, StartsWithTheFirstDomainLoadsRoutesAndExportsItsCa) {
  CaddyIngress ingress(settings(), dir_.path() + "/ingress", caddy_);
  // No domain: no process.
  ASSERT_TRUE(ingress.route({}).isOk());
  EXPECT_FALSE(caddyAdminRequest(admin(), "GET", "/config/", "", 1s).isOk());
  EXPECT_TRUE(ingress.describe().ca.empty());

  Status routed = ingress.route({{"shop.example.com", {"127.0.0.1:48081"}}});
  ASSERT_TRUE(routed.isOk()) << routed.toString();
  auto config = caddyAdminRequest(
      admin(), "GET", "/config/apps/http/servers/berth/routes/0/match/0/host/0", "", 2s);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->body, "\"shop.example.com\"\n");
  // The internal CA exists once Caddy runs with routes; the node registers it.
  std::string ca;
  for (int i = 0; i < 100 && (ca = ingress.describe().ca).empty(); ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ca.rfind("-----BEGIN CERTIFICATE-----", 0), 0u) << ca;
  EXPECT_EQ(ingress.describe().https_port, 48443);
  EXPECT_EQ(ingress.requestsTo("127.0.0.1:48081"), 0u);

  // A second agent finds the same process and replaces the routes.
  CaddyIngress again(settings(), dir_.path() + "/ingress", caddy_);
  ASSERT_TRUE(again.route({{"blog.example.com", {"127.0.0.1:48082"}}}).isOk());
  config = caddyAdminRequest(admin(), "GET",
                             "/config/apps/http/servers/berth/routes/0/match/0/host/0", "", 2s);
  ASSERT_TRUE(config.isOk());
  EXPECT_EQ(config->body, "\"blog.example.com\"\n");
  auto pid_before = os::readFile(dir_.path() + "/ingress/caddy.pid");
  ASSERT_TRUE(again.route({}).isOk());
  EXPECT_EQ(os::readFile(dir_.path() + "/ingress/caddy.pid").value(), pid_before.value());
  // The backend taken out stays counted (Caddy forgets an upstream's requests with its last
  // route) until it is seen idle; then it goes with the next reload.
  config = caddyAdminRequest(admin(), "GET", "/reverse_proxy/upstreams", "", 2s);
  ASSERT_TRUE(config.isOk());
  EXPECT_NE(config->body.find("127.0.0.1:48082"), std::string::npos) << config->body;
  EXPECT_EQ(again.requestsTo("127.0.0.1:48082"), 0u);
  ASSERT_TRUE(again.route({}).isOk());
  config = caddyAdminRequest(admin(), "GET", "/config/apps/http/servers", "", 2s);
  ASSERT_TRUE(config.isOk());
  EXPECT_EQ(config->body, "{}\n");
}

TEST_F(CaddyIngressTest, APortAlreadyTakenIsAnErrorThatSaysSo) {
  CaddyIngress first(settings(100), dir_.path() + "/ingress", caddy_);
  ASSERT_TRUE(first.route({{"shop.example.com", {"127.0.0.1:48081"}}}).isOk());
  auto other = os::TempDir::create("berth-caddy-").value();
  CaddyIngress second(settings(100), other.path() + "/ingress", caddy_);
  Status s = second.route({{"blog.example.com", {"127.0.0.1:48082"}}});
  if (auto pid = os::readFile(other.path() + "/ingress/caddy.pid"); pid.isOk())
    ::kill(std::atoi(pid->c_str()), SIGKILL);
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("48543"), std::string::npos) << s.toString();
}

}  // namespace
}  // namespace berth::agent
