#pragma once
// Bridged networking (docs/networking.md): each project with a VM on this node gets a Linux
// bridge whose address is the project's gateway and resolver, each VM a tap on it, and one
// nftables ruleset (nft_ruleset.h) keeps projects apart, keeps guests off the host and applies
// each project's egress policy. Needs CAP_NET_ADMIN; without it the agent uses user mode.
//
// The bridges, taps, ruleset and resolvers outlive the agent, as the VMs do: a restarted agent
// re-applies the same plan over them and changes nothing a guest would notice. An assignment
// with no VM removes them all, the ruleset included.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/network/network_plan.h"
#include "agent/network/vm_network.h"
#include "os/unique_fd.h"

namespace berth::agent {

class BridgedNetwork final : public VmNetwork {
 public:
  // `state_dir` holds the ruleset and the resolvers' files; `denied` are the operator's ranges
  // no guest may reach (--deny-egress); `underlay` is how this node reaches the others
  // (--underlay-address: without one, every project network stays on this node). One agent per
  // network namespace may build bridges (two would delete each other's taps and replace each
  // other's ruleset): this takes a lock held until the object goes, and fails naming the holder's
  // lock file when another agent has it.
  static Result<std::unique_ptr<BridgedNetwork>> claim(std::string state_dir,
                                                       std::vector<Ipv4Cidr> denied,
                                                       Underlay underlay = {});

  // Whether this process may build bridges (CAP_NET_ADMIN, /dev/net/tun, nft and dnsmasq), and
  // if not, why: the agent says so when it falls back to user mode.
  static Status usable();

  std::string mode() const override { return "bridged"; }
  std::string underlayAddress() const override { return underlay_.address; }
  Status apply(const model::NodeAssignment& assignment) override;
  Result<std::vector<Nic>> nicsFor(const model::VmSpec& vm, const Paths::Vm& paths) const override;
  Result<std::string> exposePort(const model::VmSpec& vm, const Paths::Vm& paths,
                                 int guest_port) override;

 private:
  Status applyLinks(const NodeNetworkPlan& plan);
  // The bridge's tunnel as `overlay` draws it: the device (made again if its identity changed)
  // and its forwarding entries.
  Status applyOverlay(const BridgePlan& bridge, bool present);
  struct Placement {
    const BridgePlan* bridge;
    const TapPlan* tap;
  };
  // Where `vm` is in the applied plan (mu_ held).
  Result<Placement> placementOf(const model::VmSpec& vm) const;

  BridgedNetwork(std::string state_dir, std::vector<Ipv4Cidr> denied, Underlay underlay,
                 os::UniqueFd lock);

  const std::string state_dir_;
  const std::vector<Ipv4Cidr> denied_;
  const Underlay underlay_;
  const os::UniqueFd lock_;
  mutable std::mutex mu_;
  NodeNetworkPlan applied_;  // guarded by mu_
  bool applied_once_ = false;
};

}  // namespace berth::agent
