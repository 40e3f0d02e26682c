// The bridged network's plan and ruleset, drawn from an assignment without touching the node:
// names that fit Linux's 15 characters, addresses checked against their project's subnet, and
// an nftables document that keeps projects apart and guests off the host.

#include "agent/network/network_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
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
  EXPECT_LE(vxlanName(long_name).size(), 15u);
  EXPECT_EQ(vxlanName("shop").rfind(kVxlanPrefix, 0), 0u);
  EXPECT_NE(vxlanName("shop"), vxlanName("blog"));
}

// twoProjects() where shop also runs VM "api" on node n2 (192.0.2.2) and "cache" on n3.
model::NodeAssignment shopAcrossNodes() {
  model::NodeAssignment assignment = twoProjects();
  assignment.networks[0].vni = 0x0A4000;
  assignment.networks[0].peers = {{"n2", "192.0.2.2", {{"api", "10.64.0.4"}}},
                                  {"n3", "192.0.2.3", {{"cache", "10.64.0.5"}}}};
  return assignment;
}

const Underlay kUnderlay{"192.0.2.1", 1500};

TEST(NetworkPlan, AProjectOnOtherNodesTooGetsATunnelToEach) {
  auto plan = planNetworks(shopAcrossNodes(), {}, kUnderlay);
  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
  const BridgePlan& shop = plan->bridges[0].project == "shop" ? plan->bridges[0] : plan->bridges[1];
  const BridgePlan& blog = plan->bridges[0].project == "shop" ? plan->bridges[1] : plan->bridges[0];
  EXPECT_FALSE(blog.overlay);
  ASSERT_TRUE(shop.overlay);
  const OverlayPlan& overlay = *shop.overlay;
  EXPECT_EQ(overlay.device, vxlanName("shop"));
  EXPECT_EQ(overlay.vni, 0x0A4000);
  EXPECT_EQ(overlay.local, "192.0.2.1");
  EXPECT_EQ(overlay.mtu, 1450);
  EXPECT_EQ(overlay.peers, (std::vector<std::string>{"192.0.2.2", "192.0.2.3"}));
  EXPECT_EQ(overlay.remote_addresses, (std::vector<std::string>{"10.64.0.4", "10.64.0.5"}));
  ASSERT_EQ(overlay.remote_macs.size(), 2u);
  // Every broadcast reaches each peer; each remote VM's MAC goes to its own node only.
  const std::vector<FdbEntry> fdb = {{kFloodMac, "192.0.2.2"},
                                     {kFloodMac, "192.0.2.3"},
                                     {macAddress("shop", "api"), "192.0.2.2"},
                                     {macAddress("shop", "cache"), "192.0.2.3"}};
  std::vector<FdbEntry> sorted = fdb;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(overlay.fdb, sorted);
  // Every guest of the node fits a tunnel, whether its project has one yet or not.
  EXPECT_EQ(plan->guest_mtu, 1450);
}

TEST(NetworkPlan, WithoutAnUnderlayNoProjectGetsATunnel) {
  auto plan = planNetworks(shopAcrossNodes(), {});
  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
  for (const BridgePlan& bridge : plan->bridges) EXPECT_FALSE(bridge.overlay);
  EXPECT_EQ(plan->guest_mtu, 0);
  // A project alone on this node has none either, and an underlay still lowers guests' MTU.
  plan = planNetworks(twoProjects(), {}, {"192.0.2.1", 9000});
  ASSERT_TRUE(plan.isOk());
  for (const BridgePlan& bridge : plan->bridges) EXPECT_FALSE(bridge.overlay);
  EXPECT_EQ(plan->guest_mtu, 8950);
}

TEST(NetworkPlan, RefusesAnOverlayThatCannotBeAppliedNamingIt) {
  struct Case {
    std::function<void(model::NodeAssignment&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& a) { a.networks[0].vni = 0; },
       "project shop's overlay has VNI 0, not one of 1 to 16777215"},
      {[](auto& a) { a.networks[0].vni = 1 << 24; }, "project shop's overlay has VNI 16777216"},
      {[](auto& a) { a.networks[0].peers[0].address = "192.0.2.1"; },
       "project shop's overlay names node n2 at '192.0.2.1', not another node's IPv4 address"},
      {[](auto& a) { a.networks[0].peers[0].address = "n2.example"; },
       "names node n2 at 'n2.example'"},
      {[](auto& a) { a.networks[0].peers[1].vms[0].address = "10.64.1.9"; },
       "project shop's overlay has VM 'cache' at '10.64.1.9' on node n3, not an address in "
       "10.64.0.0/24"},
  };
  for (const Case& c : cases) {
    model::NodeAssignment assignment = shopAcrossNodes();
    c.spoil(assignment);
    auto plan = planNetworks(assignment, {}, kUnderlay);
    EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << plan.status().message();
  }
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

TEST(NftRuleset, ATunnelTakesOnlyItsPeersAndItsRemoteVmsAndNoGateway) {
  auto plan = planNetworks(shopAcrossNodes(), {}, kUnderlay);
  ASSERT_TRUE(plan.isOk());
  const std::string rules = renderRuleset(*plan);
  const auto has = [&](const std::string& line) { return rules.find(line) != std::string::npos; };
  const std::string vx = "\"" + vxlanName("shop") + "\"";
  // Into the project's VNI (0x0A4000 = 671744) only from its peers; no rule for blog's.
  EXPECT_TRUE(has("udp dport 4789 @th,96,24 671744 ip saddr != { 192.0.2.2, 192.0.2.3 } drop\n"));
  EXPECT_EQ(rules.find("@th,96,24"), rules.rfind("@th,96,24"));
  // Out of the tunnel: only the remote VMs, as themselves; nothing about the gateway.
  const std::string api = macAddress("shop", "api"), cache = macAddress("shop", "cache");
  const std::string macs = api < cache ? api + ", " + cache : cache + ", " + api;
  EXPECT_TRUE(has("iifname " + vx + " ether saddr != { " + macs + " } drop"));
  EXPECT_TRUE(has("iifname " + vx + " ether type ip ip saddr != { 10.64.0.4, 10.64.0.5 } drop"));
  EXPECT_TRUE(
      has("iifname " + vx + " ether type arp arp saddr ip != { 10.64.0.4, 10.64.0.5 } drop"));
  EXPECT_TRUE(has("iifname " + vx + " ether type arp arp daddr ip 10.64.0.1 drop"));
  EXPECT_TRUE(has("iifname " + vx + " ether type != { ip, arp } drop"));
  // Into the tunnel: nothing for the gateway; the host neither hears nor speaks on any tunnel.
  EXPECT_TRUE(has("oifname " + vx + " ether type arp arp daddr ip 10.64.0.1 drop"));
  EXPECT_TRUE(has("oifname " + vx + " ether type ip ip daddr 10.64.0.1 drop"));
  EXPECT_TRUE(
      has("type filter hook input priority filter; policy accept;\n    iifname \"bx-*\" drop"));
  EXPECT_TRUE(
      has("type filter hook output priority filter; policy accept;\n    oifname \"bx-*\" drop"));
  // The taps' rules stay.
  EXPECT_TRUE(has("iifname \"" + tapName("shop", "web") +
                  "\" ether saddr != " + macAddress("shop", "web") + " drop"));
}

TEST(NftRuleset, RemovalDeletesBothTablesEvenIfAbsent) {
  EXPECT_EQ(
      removeRuleset(),
      "table inet berth\ndelete table inet berth\ntable bridge berth\ndelete table bridge berth\n");
}

}  // namespace
}  // namespace berth::agent
