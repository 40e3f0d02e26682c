#pragma once
// What a node's bridged networking must look like, drawn from its assignment: one bridge per
// project with a VM here, one tap per VM, the project's policy, and, where the project has VMs
// on other nodes too, a VXLAN tunnel on the bridge to each of them (docs/networking.md "Across
// nodes"). Pure: the plan is checked
// and rendered (nft_ruleset.h) before any command runs, so a bad assignment changes nothing.
//
// Every address and name that reaches the nftables ruleset or a command line passes through
// here, re-rendered from its parsed form: berthd is trusted, but a ruleset is not the place to
// find out it sent something odd.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ipv4.h"
#include "common/result.h"
#include "model/node_protocol.h"

namespace berth::agent {

// Linux interface names are at most 15 characters: these are 13, derived from a hash so that
// any project and VM name fits and a restarted agent derives the same ones.
std::string bridgeName(const std::string& project);
std::string tapName(const std::string& project, const std::string& vm);
// A locally administered unicast MAC, stable for the VM: the bridge's filter pins it to the tap.
std::string macAddress(const std::string& project, const std::string& vm);
// The project's VXLAN device, the bridge's port to the other nodes.
std::string vxlanName(const std::string& project);
inline constexpr const char* kBridgePrefix = "bb-";
inline constexpr const char* kTapPrefix = "bt-";
inline constexpr const char* kVxlanPrefix = "bx-";
inline constexpr int kVxlanPort = 4789;  // IANA's
// What VXLAN over IPv4 wraps around a guest's IP packet: its Ethernet header (14), VXLAN (8),
// UDP (8) and the outer IPv4 header (20).
inline constexpr int kVxlanOverhead = 50;
inline constexpr const char* kFloodMac = "00:00:00:00:00:00";

// How this node reaches the others: its underlay address (validated; "" joins no overlay) and
// the MTU of the link that carries it.
struct Underlay {
  std::string address;
  int mtu = 1500;
};

// A static forwarding entry of a VXLAN device: frames for `mac` go to the node at `dst`
// (kFloodMac: a copy of every broadcast, multicast and unknown frame goes there).
struct FdbEntry {
  std::string mac;
  std::string dst;
  auto operator<=>(const FdbEntry&) const = default;
};

// The project's tunnel to its other nodes.
struct OverlayPlan {
  std::string device;  // bx-<hash>
  int64_t vni = 0;
  std::string local;               // this node's underlay address
  int mtu = 0;                     // the underlay's less kVxlanOverhead
  std::vector<std::string> peers;  // their underlay addresses, sorted, unique
  std::vector<std::string>
      remote_macs;  // the project's VMs elsewhere, sorted: all that may come in
  std::vector<std::string> remote_addresses;  // theirs, sorted
  std::vector<FdbEntry> fdb;                  // sorted
  bool operator==(const OverlayPlan&) const = default;
};

struct TapPlan {
  std::string vm;
  std::string tap;
  std::string mac;
  std::string address;  // "10.64.3.2"
  bool operator==(const TapPlan&) const = default;
};

struct BridgePlan {
  std::string project;
  std::string bridge;
  Ipv4Cidr subnet;
  std::string gateway;  // the bridge's own address, the VMs' router and resolver
  bool egress = true;
  std::vector<TapPlan> taps;
  std::vector<model::NetworkHost> hosts;  // the project's names, for its resolver
  std::optional<OverlayPlan> overlay;     // none: the project's VMs are all on this node
  bool operator==(const BridgePlan&) const = default;
};

struct NodeNetworkPlan {
  std::vector<BridgePlan> bridges;  // sorted by bridge name
  std::vector<Ipv4Cidr> denied;     // never reachable from a guest, whatever the project's egress
  // The MTU every guest's NIC is given (0: the NIC's default, 1500): on a node with an underlay,
  // small enough for a frame to cross a tunnel whole, whether its project has one yet or not
  // (a guest learns it at boot only).
  int guest_mtu = 0;
  bool operator==(const NodeNetworkPlan&) const = default;
};

// Always denied to guests: link-local (cloud metadata lives at 169.254.169.254) and loopback.
std::vector<Ipv4Cidr> alwaysDenied();

// The plan for `assignment`'s VMs. A VM without an address, or one outside its project's
// subnet, or a project network that is malformed (a peer included), is an InvalidArgument
// naming it. `operator_denied`: the ranges the operator listed (--deny-egress), already parsed.
// `underlay`: this node's; without an address no project gets a tunnel, whatever its peers.
Result<NodeNetworkPlan> planNetworks(const model::NodeAssignment& assignment,
                                     std::vector<Ipv4Cidr> operator_denied,
                                     const Underlay& underlay = {});

}  // namespace berth::agent
