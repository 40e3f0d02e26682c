#include "controlplane/service/project_overlay.h"

#include <algorithm>
#include <map>

#include "common/ipv4.h"

namespace berth::controlplane {
namespace {

// The node's underlay address as stored, or "" when it has none that is a valid IPv4.
Result<std::string> underlayOf(store::Tx& tx, const std::string& node) {
  BERTH_ASSIGN_OR_RETURN(store::Node stored, tx.getNode(node));
  auto address = parseIpv4(stored.address);
  return address.isOk() ? formatIpv4(*address) : std::string();
}

}  // namespace

int64_t overlayVni(const std::string& subnet) {
  auto cidr = parseIpv4Cidr(subnet);
  if (!cidr.isOk() || cidr->prefix > 24) return 0;
  return cidr->base >> 8;
}

Result<std::vector<model::NetworkPeer>> overlayPeers(store::Tx& tx, const std::string& project,
                                                     const std::string& node) {
  std::vector<model::NetworkPeer> peers;
  BERTH_ASSIGN_OR_RETURN(std::string own, underlayOf(tx, node));
  if (own.empty()) return peers;
  std::map<std::string, std::vector<model::RemoteVm>> by_node;
  BERTH_ASSIGN_OR_RETURN(auto vms, tx.listVmsByAge(project));
  for (const store::Vm& vm : vms) {
    if (!vm.node || *vm.node == node || vm.address.empty()) continue;
    by_node[*vm.node].push_back({vm.name, vm.address});
  }
  for (auto& [name, remote] : by_node) {
    auto address = underlayOf(tx, name);
    // A VM placed on a node since deleted is the scheduler's to move; it makes no peer.
    if (!address.isOk() || address->empty()) continue;
    std::sort(remote.begin(), remote.end(),
              [](const model::RemoteVm& a, const model::RemoteVm& b) { return a.name < b.name; });
    peers.push_back({name, *address, std::move(remote)});
  }
  return peers;
}

}  // namespace berth::controlplane
