// The bridged network's plan and ruleset, drawn from an assignment without touching the node:
// names that fit Linux's 15 characters, addresses checked against their project's subnet, and
// an nftables document that keeps projects apart and guests off the host.

#include "agent/network/network_plan.h"

#include <gtest/gtest.h>

#include <functional>

#include "agent/network/nft_ruleset.h"
#include "network_fixtures.h"

namespace berth::agent {
namespace {

using fixtures::vmAt;

model::ProjectNetwork network(const std::string& project, const std::string& subnet,
                              const std::string& gateway, const std::string& egress = "allow") {
  return model::ProjectNetwork{project, subnet, gateway, egress, {}, 0, {}};
}

model::NodeAssignment twoProjects() {
  model::NodeAssignment assignment;
  assignment.vms = {vmAt("shop", "web", "10.64.0.2"), vmAt("shop", "db", "10.64.0.3"),
                    vmAt("blog", "app", "10.64.1.2")};
  assignment.networks = {network("shop", "10.64.0.0/24", "10.64.0.1"),
                         network("blog", "10.64.1.0/24", "10.64.1.1", "deny")};
  assignment.networks[0].hosts = {{"db.shop.internal", "10.64.0.3"},
                                  {"web.shop.internal", "10.64.0.2"}};
  return assignment;
}

TEST(InterfaceNames, FitLinuxAndAreStablePerProjectAndVm) {
  const std::string long_name(63, 'a');
  EXPECT_LE(bridgeName(long_name).size(), 15u);
  EXPECT_LE(tapName(long_name, long_name).size(), 15u);
  EXPECT_EQ(bridgeName("shop"), bridgeName("shop"));
  EXPECT_NE(bridgeName("shop"), bridgeName("blog"));
  EXPECT_EQ(bridgeName("shop").rfind(kBridgePrefix, 0), 0u);
  EXPECT_EQ(tapName("shop", "web").rfind(kTapPrefix, 0), 0u);
  // "a" + "b-c" and "a-b" + "c" must not meet.
  EXPECT_NE(tapName("a", "b-c"), tapName("a-b", "c"));
  const std::string mac = macAddress("shop", "web");
  ASSERT_EQ(mac.size(), 17u);
  EXPECT_EQ(mac.substr(0, 3), "02:");  // locally administered, unicast
  EXPECT_NE(mac, macAddress("shop", "db"));
}

TEST(NetworkPlan, OneBridgePerProjectWithItsTapsAndNames) {
  auto plan = planNetworks(twoProjects(), {});
  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
  ASSERT_EQ(plan->bridges.size(), 2u);
  const BridgePlan& shop = plan->bridges[0].project == "shop" ? plan->bridges[0] : plan->bridges[1];
  const BridgePlan& blog = plan->bridges[0].project == "shop" ? plan->bridges[1] : plan->bridges[0];
  EXPECT_EQ(shop.bridge, bridgeName("shop"));
  EXPECT_EQ(shop.gateway, "10.64.0.1");
  EXPECT_TRUE(shop.egress);
  EXPECT_FALSE(blog.egress);
  ASSERT_EQ(shop.taps.size(), 2u);
  EXPECT_EQ(shop.hosts.size(), 2u);
  ASSERT_EQ(blog.taps.size(), 1u);
  EXPECT_EQ(blog.taps[0].tap, tapName("blog", "app"));
  EXPECT_EQ(blog.taps[0].address, "10.64.1.2");
  EXPECT_EQ(plan->denied, alwaysDenied());
}

TEST(NetworkPlan, AProjectWithoutAVmHereGetsNoBridge) {
  model::NodeAssignment assignment = twoProjects();
  assignment.vms.pop_back();
  auto plan = planNetworks(assignment, {});
  ASSERT_TRUE(plan.isOk());
  ASSERT_EQ(plan->bridges.size(), 1u);
  EXPECT_EQ(plan->bridges[0].project, "shop");
}

TEST(NetworkPlan, RefusesWhatCannotBeAppliedNamingIt) {
  struct Case {
    std::function<void(model::NodeAssignment&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& a) { a.vms[0].address = ""; },
       "VM shop/web's address '' is not a host address in 10.64.0.0/24"},
      {[](auto& a) { a.vms[0].address = "10.64.1.2"; },
       "VM shop/web's address '10.64.1.2' is not a host address in 10.64.0.0/24"},
      {[](auto& a) { a.vms[0].address = "10.64.0.1"; },
       "VM shop/web's address '10.64.0.1' is not a host address in 10.64.0.0/24"},
      {[](auto& a) { a.networks.pop_back(); },
       "VM blog/app has no project network in the assignment"},
      {[](auto& a) { a.networks[0].gateway = "10.64.9.1"; },
       "project shop's gateway '10.64.9.1' is not in 10.64.0.0/24"},
      {[](auto& a) { a.networks[0].egress = "sometimes"; },
       "project shop's egress 'sometimes' is not allow or deny"},
      {[](auto& a) { a.networks[0].subnet = "10.64.0.0/30"; },
       "project shop's network 10.64.0.0/30 is not a /8 to /29"},
      {[](auto& a) { a.networks[0].hosts[0].name = "x\n10.0.0.1 evil"; },
       "project shop's name 'x\n10.0.0.1 evil' -> '10.64.0.3' is not a name in 10.64.0.0/24"},
      {[](auto& a) { a.networks.push_back(a.networks[0]); }, "project shop has two networks"},
  };
  for (const Case& c : cases) {
    model::NodeAssignment assignment = twoProjects();
    c.spoil(assignment);
    auto plan = planNetworks(assignment, {});
    EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << plan.status().message();
  }
}

TEST(NftRuleset, KeepsProjectsApartAndGuestsOffTheHost) {
  auto plan = planNetworks(twoProjects(), {*parseIpv4Cidr("192.168.0.0/16")});
  ASSERT_TRUE(plan.isOk());
  const std::string rules = renderRuleset(*plan);
  const std::string shop = "\"" + bridgeName("shop") + "\"",
                    blog = "\"" + bridgeName("blog") + "\"";
  const auto has = [&](const std::string& line) { return rules.find(line) != std::string::npos; };
  // Replaces the tables in one transaction.
  EXPECT_EQ(rules.rfind("table inet berth\ndelete table inet berth\n", 0), 0u);
  // The host: only a project's own resolver, then nothing.
  EXPECT_TRUE(
      has("iifname " + shop + " ip daddr 10.64.0.1 meta l4proto { tcp, udp } th dport 53 accept"));
  EXPECT_TRUE(has("iifname \"bb-*\" drop\n  }\n  chain forward"));
  // A project's own traffic, even where br_netfilter shows it to this hook, before any drop.
  EXPECT_LT(rules.find("iifname " + shop + " oifname " + shop + " accept"),
            rules.find("oifname \"bb-*\" drop"));
  EXPECT_FALSE(has("iifname " + shop + " oifname " + blog));
  // Nothing new into a project network; denied ranges before any egress.
  EXPECT_LT(rules.find("oifname \"bb-*\" drop"), rules.find("iifname " + shop + " accept"));
  EXPECT_TRUE(has("ip daddr { 169.254.0.0/16, 127.0.0.0/8, 192.168.0.0/16 } drop"));
  EXPECT_LT(rules.find("192.168.0.0/16 } drop"), rules.find("iifname " + shop + " accept"));
  // Egress: shop may, blog may not (no accept, no masquerade).
  EXPECT_TRUE(has("ip saddr 10.64.0.0/24 oifname != " + shop + " masquerade"));
  EXPECT_FALSE(has("iifname " + blog + " accept"));
  EXPECT_FALSE(has("10.64.1.0/24 oifname"));
  // Each tap sends only its VM's MAC and address.
  const std::string tap = "\"" + tapName("blog", "app") + "\"";
  EXPECT_TRUE(has("iifname " + tap + " ether saddr != " + macAddress("blog", "app") + " drop"));
  EXPECT_TRUE(has("iifname " + tap + " ether type ip ip saddr != 10.64.1.2 drop"));
  EXPECT_TRUE(has("iifname " + tap + " ether type arp arp saddr ip != 10.64.1.2 drop"));
  EXPECT_TRUE(has("iifname \"bt-*\" ether type != { ip, arp } drop"));
}

TEST(NftRuleset, RemovalDeletesBothTablesEvenIfAbsent) {
  EXPECT_EQ(
      removeRuleset(),
      "table inet berth\ndelete table inet berth\ntable bridge berth\ndelete table bridge berth\n");
}

}  // namespace
}  // namespace berth::agent
