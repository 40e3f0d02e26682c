#pragma once
// What a node's bridged networking must look like, drawn from its assignment: one bridge per
// project with a VM here, one tap per VM, and the project's policy. Pure: the plan is checked
// and rendered (nft_ruleset.h) before any command runs, so a bad assignment changes nothing.
//
// Every address and name that reaches the nftables ruleset or a command line passes through
// here, re-rendered from its parsed form: berthd is trusted, but a ruleset is not the place to
// find out it sent something odd.

#include <cstdint>
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
inline constexpr const char* kBridgePrefix = "bb-";
inline constexpr const char* kTapPrefix = "bt-";

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
  bool operator==(const BridgePlan&) const = default;
};

struct NodeNetworkPlan {
  std::vector<BridgePlan> bridges;  // sorted by bridge name
  std::vector<Ipv4Cidr> denied;     // never reachable from a guest, whatever the project's egress
  bool operator==(const NodeNetworkPlan&) const = default;
};

// Always denied to guests: link-local (cloud metadata lives at 169.254.169.254) and loopback.
std::vector<Ipv4Cidr> alwaysDenied();

// The plan for `assignment`'s VMs. A VM without an address, or one outside its project's
// subnet, or a project network that is malformed, is an InvalidArgument naming it.
// `operator_denied`: the ranges the operator listed (--deny-egress), already parsed.
Result<NodeNetworkPlan> planNetworks(const model::NodeAssignment& assignment,
                                     std::vector<Ipv4Cidr> operator_denied);

}  // namespace berth::agent
