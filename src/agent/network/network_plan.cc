#include "agent/network/network_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/crypto.h"

namespace berth::agent {

std::string bridgeName(const std::string& project) {
  return kBridgePrefix + sha256Hex("bridge\n" + project).substr(0, 10);
}

std::string tapName(const std::string& project, const std::string& vm) {
  return kTapPrefix + sha256Hex("tap\n" + project + "\n" + vm).substr(0, 10);
}

std::string vxlanName(const std::string& project) {
  return kVxlanPrefix + sha256Hex("vxlan\n" + project).substr(0, 10);
}

std::string macAddress(const std::string& project, const std::string& vm) {
  const std::string hex = sha256Hex("mac\n" + project + "\n" + vm);
  // 02: locally administered, unicast.
  std::string mac = "02";
  for (int i = 0; i < 5; ++i) mac += ":" + hex.substr(2 * i, 2);
  return mac;
}

std::vector<Ipv4Cidr> alwaysDenied() { return {{0xA9FE0000u, 16}, {0x7F000000u, 8}}; }

namespace {

constexpr int64_t kMaxVni = (1 << 24) - 1;

// The tunnel of `network` (already checked but for its overlay) from this node, or none when
// the project has no VM elsewhere or this node no underlay.
Result<std::optional<OverlayPlan>> planOverlay(const model::ProjectNetwork& network,
                                               const Ipv4Cidr& subnet, const Underlay& underlay) {
  if (network.peers.empty() || underlay.address.empty()) return std::optional<OverlayPlan>();
  const std::string what = "project " + network.project + "'s overlay";
  if (network.vni < 1 || network.vni > kMaxVni) {
    return invalidArgument(what + " has VNI " + std::to_string(network.vni) + ", not one of 1 to " +
                           std::to_string(kMaxVni));
  }
  OverlayPlan overlay{vxlanName(network.project),
                      network.vni,
                      underlay.address,
                      underlay.mtu - kVxlanOverhead,
                      {},
                      {},
                      {},
                      {}};
  std::set<std::string> peers, macs, addresses;
  std::set<FdbEntry> fdb;
  for (const model::NetworkPeer& peer : network.peers) {
    auto address = parseIpv4(peer.address);
    if (!address.isOk() || formatIpv4(*address) == underlay.address) {
      return invalidArgument(what + " names node " + peer.node + " at '" + peer.address +
                             "', not another node's IPv4 address");
    }
    const std::string dst = formatIpv4(*address);
    peers.insert(dst);
    fdb.insert({kFloodMac, dst});
    for (const model::RemoteVm& vm : peer.vms) {
      auto vm_address = parseIpv4(vm.address);
      if (vm.name.empty() || !vm_address.isOk() || !subnet.contains(*vm_address)) {
        return invalidArgument(what + " has VM '" + vm.name + "' at '" + vm.address + "' on node " +
                               peer.node + ", not an address in " + network.subnet);
      }
      const std::string mac = macAddress(network.project, vm.name);
      macs.insert(mac);
      addresses.insert(formatIpv4(*vm_address));
      fdb.insert({mac, dst});
    }
  }
  overlay.peers.assign(peers.begin(), peers.end());
  overlay.remote_macs.assign(macs.begin(), macs.end());
  overlay.remote_addresses.assign(addresses.begin(), addresses.end());
  overlay.fdb.assign(fdb.begin(), fdb.end());
  return std::optional<OverlayPlan>(std::move(overlay));
}

}  // namespace

Result<NodeNetworkPlan> planNetworks(const model::NodeAssignment& assignment,
                                     std::vector<Ipv4Cidr> operator_denied,
                                     const Underlay& underlay) {
  std::map<std::string, BridgePlan> by_project;
  for (const model::ProjectNetwork& network : assignment.networks) {
    auto subnet = parseIpv4Cidr(network.subnet, "project " + network.project + "'s network");
    if (!subnet.isOk()) return subnet.status();
    if (subnet->prefix < 8 || subnet->prefix > 29) {
      return invalidArgument("project " + network.project + "'s network " + network.subnet +
                             " is not a /8 to /29");
    }
    auto gateway = parseIpv4(network.gateway);
    if (!gateway.isOk() || !subnet->contains(*gateway)) {
      return invalidArgument("project " + network.project + "'s gateway '" + network.gateway +
                             "' is not in " + network.subnet);
    }
    if (network.egress != "allow" && network.egress != "deny") {
      return invalidArgument("project " + network.project + "'s egress '" + network.egress +
                             "' is not allow or deny");
    }
    BridgePlan bridge{network.project,
                      bridgeName(network.project),
                      *subnet,
                      formatIpv4(*gateway),
                      network.egress == "allow",
                      {},
                      {},
                      std::nullopt};
    for (const model::NetworkHost& host : network.hosts) {
      auto address = parseIpv4(host.address);
      // A resolver's hosts file takes a name per line: nothing but a DNS name may pass.
      const bool name_ok = !host.name.empty() && host.name.size() <= 253 &&
                           host.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-.") ==
                               std::string::npos;
      if (!address.isOk() || !subnet->contains(*address) || !name_ok) {
        return invalidArgument("project " + network.project + "'s name '" + host.name + "' -> '" +
                               host.address + "' is not a name in " + network.subnet);
      }
      bridge.hosts.push_back({host.name, formatIpv4(*address)});
    }
    BERTH_ASSIGN_OR_RETURN(bridge.overlay, planOverlay(network, *subnet, underlay));
    if (!by_project.emplace(network.project, std::move(bridge)).second) {
      return invalidArgument("project " + network.project + " has two networks");
    }
  }
  for (const model::VmSpec& vm : assignment.vms) {
    auto bridge = by_project.find(vm.project);
    if (bridge == by_project.end()) {
      return invalidArgument("VM " + vm.project + "/" + vm.name +
                             " has no project network in the assignment");
    }
    auto address = parseIpv4(vm.address);
    if (!address.isOk() || !bridge->second.subnet.contains(*address) ||
        formatIpv4(*address) == bridge->second.gateway) {
      return invalidArgument("VM " + vm.project + "/" + vm.name + "'s address '" + vm.address +
                             "' is not a host address in " + bridge->second.subnet.toString());
    }
    bridge->second.taps.push_back({vm.name, tapName(vm.project, vm.name),
                                   macAddress(vm.project, vm.name), formatIpv4(*address)});
  }
  NodeNetworkPlan plan;
  for (auto& [project, bridge] : by_project) {
    // A project with no VM here needs no bridge here.
    if (bridge.taps.empty()) continue;
    std::sort(bridge.taps.begin(), bridge.taps.end(),
              [](const TapPlan& a, const TapPlan& b) { return a.tap < b.tap; });
    plan.bridges.push_back(std::move(bridge));
  }
  std::sort(plan.bridges.begin(), plan.bridges.end(),
            [](const BridgePlan& a, const BridgePlan& b) { return a.bridge < b.bridge; });
  plan.denied = alwaysDenied();
  for (const Ipv4Cidr& cidr : operator_denied) plan.denied.push_back(cidr);
  if (!underlay.address.empty()) plan.guest_mtu = underlay.mtu - kVxlanOverhead;
  return plan;
}

}  // namespace berth::agent
