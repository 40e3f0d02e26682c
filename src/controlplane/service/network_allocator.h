#pragma once
// Picks project subnets out of berthd's pool and VM addresses out of a project's subnet: pure
// functions of what is already taken, so the caller's write transaction (with the store's
// UNIQUE indexes behind it) makes an allocation safe against concurrent ones. The lowest free
// block is always chosen, so a freed one is reused first.

#include <cstdint>
#include <string>
#include <vector>

#include "common/ipv4.h"
#include "common/result.h"

namespace berth::controlplane {

// A project subnet's gateway, its first host address (".1"): the node's side of the bridge.
Result<std::string> subnetGateway(const std::string& subnet);

class NetworkPool {
 public:
  static constexpr const char* kDefaultPool = "10.64.0.0/10";
  static constexpr int kDefaultSubnetPrefix = 24;

  // The default: 10.64.0.0/10 in /24s.
  NetworkPool();
  // `subnet_prefix` must be at least the pool's and at most 30 (a gateway, a VM and the
  // broadcast address need a /30).
  static Result<NetworkPool> create(const std::string& pool,
                                    int subnet_prefix = kDefaultSubnetPrefix);

  const std::string& text() const { return text_; }
  int subnetPrefix() const { return subnet_prefix_; }

  // The lowest /subnetPrefix() block of the pool that overlaps none of `taken` (which may lie
  // outside the pool, allocated under an older one); FailedPrecondition when the pool is full.
  Result<std::string> allocateSubnet(const std::vector<std::string>& taken) const;

 private:
  NetworkPool(Ipv4Cidr pool, int subnet_prefix, std::string text)
      : pool_(pool), subnet_prefix_(subnet_prefix), text_(std::move(text)) {}

  Ipv4Cidr pool_;
  int subnet_prefix_;
  std::string text_;
};

// The lowest address of `subnet` not in `taken`, from .2 up (.1 is the gateway, the last the
// broadcast address); FailedPrecondition naming `project` when none is left.
Result<std::string> allocateVmAddress(const std::string& project, const std::string& subnet,
                                      const std::vector<std::string>& taken);

}  // namespace berth::controlplane
