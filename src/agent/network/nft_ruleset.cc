#include "agent/network/nft_ruleset.h"

namespace berth::agent {
namespace {

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

std::string set(const std::vector<std::string>& items) {
  std::string out = "{ ";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + " }";
}

}  // namespace

std::string renderRuleset(const NodeNetworkPlan& plan) {
  const std::string any_bridge = quoted(std::string(kBridgePrefix) + "*");
  const std::string any_tap = quoted(std::string(kTapPrefix) + "*");
  std::vector<std::string> denied;
  for (const Ipv4Cidr& cidr : plan.denied) denied.push_back(cidr.toString());

  // Declaring a table before deleting it makes the delete valid when it does not exist yet; the
  // whole document is one transaction, so no packet ever sees the tables half-built.
  std::string out =
      "table inet berth\ndelete table inet berth\n"
      "table bridge berth\ndelete table bridge berth\n\n"
      "table inet berth {\n";

  // A guest's resolver sends its A and AAAA queries at once from one socket; connection tracking
  // can drop one of the pair (the insert race behind the "5 s DNS delay" of Kubernetes), and the
  // query then waits for the client's retry. DNS to a project's own resolver needs no tracking.
  out += "  chain prerouting {\n    type filter hook prerouting priority raw; policy accept;\n";
  out += "    iifname " + any_bridge + " udp dport 53 notrack\n  }\n";
  out += "  chain output {\n    type filter hook output priority raw; policy accept;\n";
  out += "    oifname " + any_bridge + " udp sport 53 notrack\n  }\n";
  out += "  chain input {\n    type filter hook input priority filter; policy accept;\n";
  out += "    iifname " + any_bridge + " ct state established,related accept\n";
  for (const BridgePlan& bridge : plan.bridges) {
    out += "    iifname " + quoted(bridge.bridge) + " ip daddr " + bridge.gateway +
           " meta l4proto { tcp, udp } th dport 53 accept\n";
  }
  out += "    iifname " + any_bridge + " drop\n  }\n";

  out += "  chain forward {\n    type filter hook forward priority filter; policy accept;\n";
  // Within a bridge frames are switched, not routed; but where br_netfilter is loaded (Docker
  // loads it) they pass this hook too, in and out of the same bridge.
  for (const BridgePlan& bridge : plan.bridges) {
    out +=
        "    iifname " + quoted(bridge.bridge) + " oifname " + quoted(bridge.bridge) + " accept\n";
  }
  out += "    oifname " + any_bridge + " ct state established,related accept\n";
  out += "    oifname " + any_bridge + " drop\n";
  out += "    iifname " + any_bridge + " ip daddr " + set(denied) + " drop\n";
  for (const BridgePlan& bridge : plan.bridges) {
    if (bridge.egress) out += "    iifname " + quoted(bridge.bridge) + " accept\n";
  }
  out += "    iifname " + any_bridge + " drop\n  }\n";

  out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  for (const BridgePlan& bridge : plan.bridges) {
    if (bridge.egress) {
      out += "    ip saddr " + bridge.subnet.toString() + " oifname != " + quoted(bridge.bridge) +
             " masquerade\n";
    }
  }
  out += "  }\n}\n\n";

  out +=
      "table bridge berth {\n  chain prerouting {\n    type filter hook prerouting priority "
      "filter; policy accept;\n";
  for (const BridgePlan& bridge : plan.bridges) {
    for (const TapPlan& tap : bridge.taps) {
      const std::string from = "    iifname " + quoted(tap.tap);
      out += from + " ether saddr != " + tap.mac + " drop\n";
      out += from + " ether type arp arp saddr ip != " + tap.address + " drop\n";
      out += from + " ether type ip ip saddr != " + tap.address + " drop\n";
    }
  }
  out += "    iifname " + any_tap + " ether type != { ip, arp } drop\n  }\n}\n";
  return out;
}

std::string removeRuleset() {
  return "table inet berth\ndelete table inet berth\ntable bridge berth\ndelete table bridge "
         "berth\n";
}

}  // namespace berth::agent
