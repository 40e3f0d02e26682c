// Bridged networking applied for real, in a network namespace of the test's own (a thread that
// unshared it: the ip, nft and dnsmasq it runs inherit it), so the host's links and rules are
// never touched. Needs root (CAP_NET_ADMIN), as CI has; the VMs' view of the same rules is
// tests/e2e's.

#include "agent/network/bridged_network.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <thread>

#include "network_fixtures.h"
#include "os/file_util.h"
#include "os/run_command.h"
#include "os/temp_dir.h"

namespace berth::agent {
namespace {

using fixtures::vmAt;

model::NodeAssignment shopAndBlog() {
  model::NodeAssignment assignment;
  assignment.vms = {vmAt("shop", "web", "10.64.0.2"), vmAt("blog", "app", "10.64.1.2")};
  assignment.networks = {
      {"shop", "10.64.0.0/24", "10.64.0.1", "allow", {{"web.shop.internal", "10.64.0.2"}}, 0, {}},
      {"blog", "10.64.1.0/24", "10.64.1.1", "deny", {{"app.blog.internal", "10.64.1.2"}}, 0, {}}};
  return assignment;
}

bool linkUp(const std::string& name) {
  return os::runCommand({"sh", "-c", "ip -o link show dev " + name + " | grep -q ',UP'"}).isOk();
}

// What `busybox nslookup name server` prints, or its error.
std::string lookup(const std::string& name, const std::string& server) {
  auto out = os::TempDir::create("berth-lookup-");
  const std::string file = out->path() + "/out";
  (void)os::runCommand(
      {"sh", "-c", "busybox nslookup " + name + " " + server + " > " + file + " 2>&1"});
  auto text = os::readFile(file);
  return text.isOk() ? *text : text.status().toString();
}

// Runs `body` on a thread inside a fresh network namespace with loopback up.
void inOwnNetworkNamespace(const std::function<void()>& body) {
  std::thread([&] {
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET)";
    ASSERT_TRUE(os::runCommand({"ip", "link", "set", "lo", "up"}).isOk());
    body();
  }).join();
}

class BridgedNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!BridgedNetwork::usable().isOk()) {
      GTEST_SKIP()
          << "needs root with CAP_NET_ADMIN, /dev/net/tun, ip, nft and dnsmasq (CI has them): "
          << BridgedNetwork::usable().message();
    }
  }
  os::TempDir dir_ = os::TempDir::create("berth-bridged-").value();
};

TEST_F(BridgedNetworkTest, BuildsBridgesTapsRulesAndResolversAndRemovesThemAll) {
  inOwnNetworkNamespace([&] {
    auto claimed = BridgedNetwork::claim(dir_.path() + "/net", {});
    ASSERT_TRUE(claimed.isOk()) << claimed.status().toString();
    BridgedNetwork& network = **claimed;
    // A second agent in the same namespace would undo this one's work: refused while it runs.
    EXPECT_EQ(BridgedNetwork::claim(dir_.path() + "/other", {}).status().code(),
              StatusCode::kFailedPrecondition);
    // Whatever fails below, the resolvers (processes that would keep the namespace alive) go.
    struct Teardown {
      BridgedNetwork& network;
      ~Teardown() { (void)network.apply(model::NodeAssignment{}); }
    } teardown{network};
    const Status applied = network.apply(shopAndBlog());
    ASSERT_TRUE(applied.isOk()) << applied.toString();
    const std::string shop = bridgeName("shop"), blog = bridgeName("blog");
    EXPECT_TRUE(linkUp(shop));
    EXPECT_TRUE(linkUp(blog));
    EXPECT_TRUE(os::runCommand(
                    {"sh", "-c", "ip -o addr show dev " + shop + " | grep -q 'inet 10.64.0.1/24'"})
                    .isOk());
    EXPECT_TRUE(os::runCommand({"sh", "-c",
                                "ip -o link show dev " + tapName("shop", "web") +
                                    " | grep -q 'master " + shop + "'"})
                    .isOk());
    EXPECT_TRUE(os::runCommand({"nft", "list", "table", "inet", "berth"}).isOk());
    EXPECT_TRUE(os::runCommand({"nft", "list", "table", "bridge", "berth"}).isOk());

    // Each project's resolver answers its own names, on its own gateway only.
    EXPECT_NE(lookup("web.shop.internal", "10.64.0.1").find("10.64.0.2"), std::string::npos);
    EXPECT_EQ(lookup("app.blog.internal", "10.64.0.1").find("10.64.1.2"), std::string::npos);
    EXPECT_NE(lookup("app.blog.internal", "10.64.1.1").find("10.64.1.2"), std::string::npos);

    // The NIC a VM boots with, and where its ports are reached.
    auto nics = network.nicsFor(vmAt("shop", "web", "10.64.0.2"), Paths::Vm{});
    ASSERT_TRUE(nics.isOk());
    EXPECT_EQ(nics->front().tap, tapName("shop", "web"));
    EXPECT_EQ(nics->front().guest_cidr, "10.64.0.2/24");
    EXPECT_EQ(nics->front().dns, "10.64.0.1");
    auto backend = network.exposePort(vmAt("shop", "web", ""), Paths::Vm{}, 8080);
    ASSERT_TRUE(backend.isOk());
    EXPECT_EQ(*backend, "10.64.0.2:8080");
    EXPECT_EQ(network.nicsFor(vmAt("shop", "ghost", ""), Paths::Vm{}).status().code(),
              StatusCode::kFailedPrecondition);

    // A new name reaches the running resolver.
    model::NodeAssignment more = shopAndBlog();
    more.vms.push_back(vmAt("shop", "db", "10.64.0.3"));
    more.networks[0].hosts.push_back({"db.shop.internal", "10.64.0.3"});
    ASSERT_TRUE(network.apply(more).isOk());
    std::string answer;
    for (int i = 0; i < 50 && answer.find("10.64.0.3") == std::string::npos; ++i) {
      answer = lookup("db.shop.internal", "10.64.0.1");
    }
    EXPECT_NE(answer.find("10.64.0.3"), std::string::npos) << answer;

    // An assignment it cannot apply changes nothing.
    model::NodeAssignment bad = more;
    bad.vms[0].address = "192.0.2.1";
    EXPECT_EQ(network.apply(bad).code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(linkUp(tapName("shop", "web")));

    // The blog project leaves the node: its bridge, tap and resolver go.
    model::NodeAssignment shop_only = more;
    shop_only.vms.erase(shop_only.vms.begin() + 1);
    shop_only.networks.pop_back();
    ASSERT_TRUE(network.apply(shop_only).isOk());
    EXPECT_FALSE(os::runCommand({"ip", "link", "show", "dev", blog}).isOk());
    EXPECT_FALSE(os::runCommand({"ip", "link", "show", "dev", tapName("blog", "app")}).isOk());
    EXPECT_FALSE(os::pathExists(dir_.path() + "/net/" + blog + ".pid"));

    // No VM left: nothing of the agent's remains, the tables included.
    ASSERT_TRUE(network.apply(model::NodeAssignment{}).isOk());
    EXPECT_FALSE(os::runCommand({"ip", "link", "show", "dev", shop}).isOk());
    EXPECT_FALSE(os::runCommand({"nft", "list", "table", "inet", "berth"}).isOk());
  });
}

// What `argv` prints, or its error.
std::string output(const std::vector<std::string>& argv) {
  auto out = os::runCommandOutput(argv);
  return out.isOk() ? *out : out.status().toString();
}

TEST_F(BridgedNetworkTest, JoinsAProjectToItsOtherNodesByVxlanAndTakesTheTunnelDownWhenAlone) {
  inOwnNetworkNamespace([&] {
    auto claimed = BridgedNetwork::claim(dir_.path() + "/net", {}, {"192.0.2.1", 1500});
    ASSERT_TRUE(claimed.isOk()) << claimed.status().toString();
    std::unique_ptr<BridgedNetwork> current = std::move(*claimed);
    BridgedNetwork& network = *current;
    EXPECT_EQ(network.underlayAddress(), "192.0.2.1");
    struct Teardown {
      std::unique_ptr<BridgedNetwork>& current;
      ~Teardown() {
        if (current) (void)current->apply(model::NodeAssignment{});
      }
    } teardown{current};
    model::NodeAssignment spanning = shopAndBlog();
    spanning.networks[0].vni = 0x0A4000;
    spanning.networks[0].peers = {{"n2", "192.0.2.2", {{"api", "10.64.0.4"}}}};
    ASSERT_TRUE(network.apply(spanning).isOk());
    const std::string vx = vxlanName("shop");
    const std::string link = output({"ip", "-d", "link", "show", "dev", vx});
    EXPECT_NE(link.find("mtu 1450"), std::string::npos) << link;
    EXPECT_NE(link.find("master " + bridgeName("shop")), std::string::npos) << link;
    EXPECT_NE(link.find("vxlan id 671744 local 192.0.2.1"), std::string::npos) << link;
    EXPECT_NE(link.find("dstport 4789"), std::string::npos) << link;
    EXPECT_NE(link.find("nolearning"), std::string::npos) << link;
    EXPECT_FALSE(os::runCommand({"ip", "link", "show", "dev", vxlanName("blog")}).isOk());
    std::string fdb = output({"bridge", "fdb", "show", "dev", vx});
    EXPECT_NE(fdb.find("00:00:00:00:00:00 dst 192.0.2.2 self permanent"), std::string::npos) << fdb;
    EXPECT_NE(fdb.find(macAddress("shop", "api") + " dst 192.0.2.2 self permanent"),
              std::string::npos)
        << fdb;
    // Guests get an MTU that fits the tunnel.
    auto nics = network.nicsFor(vmAt("shop", "web", "10.64.0.2"), Paths::Vm{});
    ASSERT_TRUE(nics.isOk());
    EXPECT_EQ(nics->front().mtu, 1450);
    const std::string rules = output({"nft", "list", "table", "inet", "berth"});
    EXPECT_NE(rules.find("udp dport 4789 @th,96,24 0xa4000 ip saddr != 192.0.2.2 drop"),
              std::string::npos)
        << rules;

    // VM "api" moves to a third node: the entries follow, the stale ones go.
    spanning.networks[0].peers = {{"n3", "192.0.2.3", {{"api", "10.64.0.4"}}}};
    ASSERT_TRUE(network.apply(spanning).isOk());
    fdb = output({"bridge", "fdb", "show", "dev", vx});
    EXPECT_EQ(fdb.find("192.0.2.2"), std::string::npos) << fdb;
    EXPECT_NE(fdb.find(macAddress("shop", "api") + " dst 192.0.2.3"), std::string::npos) << fdb;

    // An agent restarted over the same links changes nothing and adds no duplicate.
    current.reset();
    auto again = BridgedNetwork::claim(dir_.path() + "/net", {}, {"192.0.2.1", 1500});
    ASSERT_TRUE(again.isOk()) << again.status().toString();
    current = std::move(*again);
    ASSERT_TRUE(current->apply(spanning).isOk());
    EXPECT_EQ(output({"bridge", "fdb", "show", "dev", vx}), fdb);

    // Alone on this node again: the tunnel goes, the bridge stays.
    spanning.networks[0].peers.clear();
    ASSERT_TRUE(current->apply(spanning).isOk());
    EXPECT_FALSE(os::runCommand({"ip", "link", "show", "dev", vx}).isOk());
    EXPECT_TRUE(linkUp(bridgeName("shop")));
  });
}

}  // namespace
}  // namespace berth::agent
