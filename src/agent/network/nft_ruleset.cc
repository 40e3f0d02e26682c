#include "agent/network/nft_ruleset.h"

namespace berth::agent {
namespace {

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

// The head of a base chain that accepts what its rules do not drop.
std::string chain(const std::string& name, const std::string& type, const std::string& priority) {
  return "  chain " + name + " {\n    type " + type + " hook " + name + " priority " + priority +
         "; policy accept;\n";
}

// A base chain of one rule.
std::string chainOf(const std::string& name, const std::string& type, const std::string& priority,
                    const std::string& rule) {
  return chain(name, type, priority) + "    " + rule + "\n  }\n";
}

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
  out += chainOf("prerouting", "filter", "raw", "iifname " + any_bridge + " udp dport 53 notrack");
  out += chainOf("output", "filter", "raw", "oifname " + any_bridge + " udp sport 53 notrack");
  out += chain("input", "filter", "filter");
  // A tunnel's packets come in as UDP: only the project's own peers may send into its VNI (the
  // VNI is the 24 bits after the VXLAN header's flags; other VNIs are no project's of ours and
  // the kernel drops them unless something else on the host owns them).
  for (const BridgePlan& bridge : plan.bridges) {
    if (!bridge.overlay) continue;
    out += "    udp dport " + std::to_string(kVxlanPort) + " @th,96,24 " +
           std::to_string(bridge.overlay->vni) + " ip saddr != " + set(bridge.overlay->peers) +
           " drop\n";
  }
  out += "    iifname " + any_bridge + " ct state established,related accept\n";
  for (const BridgePlan& bridge : plan.bridges) {
    out += "    iifname " + quoted(bridge.bridge) + " ip daddr " + bridge.gateway +
           " meta l4proto { tcp, udp } th dport 53 accept\n";
  }
  out += "    iifname " + any_bridge + " drop\n  }\n";

  out += chain("forward", "filter", "filter");
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

  out += chain("postrouting", "nat", "srcnat");
  for (const BridgePlan& bridge : plan.bridges) {
    if (bridge.egress) {
      out += "    ip saddr " + bridge.subnet.toString() + " oifname != " + quoted(bridge.bridge) +
             " masquerade\n";
    }
  }
  out += "  }\n}\n\n";

  out += "table bridge berth {\n" + chain("prerouting", "filter", "filter");
  // What a tunnel brings in: only the project's VMs on its other nodes (each already held to its
  // own MAC and address by its node's tap rules), never a node's gateway, which has the same
  // address on every node, and never a question about it.
  for (const BridgePlan& bridge : plan.bridges) {
    if (!bridge.overlay) continue;
    const OverlayPlan& overlay = *bridge.overlay;
    const std::string from = "    iifname " + quoted(overlay.device);
    out += from + " ether saddr != " + set(overlay.remote_macs) + " drop\n";
    out += from + " ether type arp arp saddr ip != " + set(overlay.remote_addresses) + " drop\n";
    out += from + " ether type arp arp daddr ip " + bridge.gateway + " drop\n";
    out += from + " ether type ip ip saddr != " + set(overlay.remote_addresses) + " drop\n";
    out += from + " ether type != { ip, arp } drop\n";
  }
  for (const BridgePlan& bridge : plan.bridges) {
    for (const TapPlan& tap : bridge.taps) {
      const std::string from = "    iifname " + quoted(tap.tap);
      out += from + " ether saddr != " + tap.mac + " drop\n";
      out += from + " ether type arp arp saddr ip != " + tap.address + " drop\n";
      out += from + " ether type ip ip saddr != " + tap.address + " drop\n";
    }
  }
  out += "    iifname " + any_tap + " ether type != { ip, arp } drop\n  }\n";

  // Each node's gateway is its own: the host neither hears nor speaks on a tunnel, and a guest's
  // question or packet for its gateway stays on its node.
  const std::string any_vxlan = quoted(std::string(kVxlanPrefix) + "*");
  out += chainOf("input", "filter", "filter", "iifname " + any_vxlan + " drop");
  out += chainOf("output", "filter", "filter", "oifname " + any_vxlan + " drop");
  out += chain("forward", "filter", "filter");
  for (const BridgePlan& bridge : plan.bridges) {
    if (!bridge.overlay) continue;
    const std::string to = "    oifname " + quoted(bridge.overlay->device);
    out += to + " ether type arp arp daddr ip " + bridge.gateway + " drop\n";
    out += to + " ether type ip ip daddr " + bridge.gateway + " drop\n";
  }
  out += "  }\n}\n";
  return out;
}

std::string removeRuleset() {
  return "table inet berth\ndelete table inet berth\ntable bridge berth\ndelete table bridge "
         "berth\n";
}

}  // namespace berth::agent
