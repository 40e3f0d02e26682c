#include "agent/network/network_plan.h"

#include <algorithm>
#include <map>

#include "common/crypto.h"

namespace berth::agent {

std::string bridgeName(const std::string& project) {
  return kBridgePrefix + sha256Hex("bridge\n" + project).substr(0, 10);
}

std::string tapName(const std::string& project, const std::string& vm) {
  return kTapPrefix + sha256Hex("tap\n" + project + "\n" + vm).substr(0, 10);
}

std::string macAddress(const std::string& project, const std::string& vm) {
  const std::string hex = sha256Hex("mac\n" + project + "\n" + vm);
  // 02: locally administered, unicast.
  std::string mac = "02";
  for (int i = 0; i < 5; ++i) mac += ":" + hex.substr(2 * i, 2);
  return mac;
}

std::vector<Ipv4Cidr> alwaysDenied() { return {{0xA9FE0000u, 16}, {0x7F000000u, 8}}; }

Result<NodeNetworkPlan> planNetworks(const model::NodeAssignment& assignment,
                                     std::vector<Ipv4Cidr> operator_denied) {
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
                      {}};
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
  return plan;
}

}  // namespace berth::agent
