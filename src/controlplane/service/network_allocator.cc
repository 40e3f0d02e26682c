#include "controlplane/service/network_allocator.h"

#include <algorithm>
#include <set>

namespace berth::controlplane {

namespace {
struct Range {
  uint64_t first, last;  // inclusive
};

// Taken networks as sorted, disjoint ranges (overlapping ones merged).
Result<std::vector<Range>> takenRanges(const std::vector<std::string>& taken) {
  std::vector<Range> ranges;
  ranges.reserve(taken.size());
  for (const auto& text : taken) {
    auto cidr = parseIpv4Cidr(text, "an allocated subnet");
    if (!cidr.isOk()) return internalError(cidr.status().message());
    ranges.push_back({cidr->base, cidr->last()});
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  std::vector<Range> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}
}  // namespace

Result<std::string> subnetGateway(const std::string& subnet) {
  BERTH_ASSIGN_OR_RETURN(Ipv4Cidr cidr, parseIpv4Cidr(subnet, "subnet"));
  if (cidr.prefix > 30)
    return invalidArgument("subnet '" + subnet + "' is too small for a gateway and a VM");
  return formatIpv4(cidr.base + 1);
}

NetworkPool::NetworkPool()
    : NetworkPool(Ipv4Cidr{10u << 24 | 64u << 16, 10}, kDefaultSubnetPrefix, kDefaultPool) {}

Result<NetworkPool> NetworkPool::create(const std::string& pool, int subnet_prefix) {
  BERTH_ASSIGN_OR_RETURN(Ipv4Cidr cidr, parseIpv4Cidr(pool, "the project network pool"));
  if (subnet_prefix < cidr.prefix || subnet_prefix > 30) {
    return invalidArgument("project subnets must be /" + std::to_string(cidr.prefix) +
                           " to /30 in the pool " + pool + ", not /" +
                           std::to_string(subnet_prefix));
  }
  return NetworkPool(cidr, subnet_prefix, cidr.toString());
}

Result<std::string> NetworkPool::allocateSubnet(const std::vector<std::string>& taken) const {
  BERTH_ASSIGN_OR_RETURN(auto ranges, takenRanges(taken));
  const uint64_t step = uint64_t{1} << (32 - subnet_prefix_);
  const uint64_t end = uint64_t{pool_.base} + pool_.size();  // exclusive
  uint64_t candidate = pool_.base;
  for (const auto& r : ranges) {
    if (r.last < candidate) continue;
    if (r.first >= candidate + step) break;
    candidate = (r.last + 1 + step - 1) / step * step;  // the first aligned block past it
  }
  if (candidate + step > end) {
    return failedPrecondition(
        "the project network pool " + text_ +
        " is full; delete unused projects or start berthd with a larger --project-subnets");
  }
  return Ipv4Cidr{static_cast<uint32_t>(candidate), subnet_prefix_}.toString();
}

Result<std::string> allocateVmAddress(const std::string& project, const std::string& subnet,
                                      const std::vector<std::string>& taken) {
  auto cidr = parseIpv4Cidr(subnet, "project " + project + "'s subnet");
  if (!cidr.isOk()) return internalError(cidr.status().message());
  std::set<uint32_t> used;
  for (const auto& text : taken) {
    if (text.empty()) continue;
    auto address = parseIpv4(text);
    if (!address.isOk())
      return internalError("a VM of project '" + project + "' has a damaged address: " + text);
    used.insert(*address);
  }
  // .0 is the network, .1 the gateway, the last address the broadcast.
  for (uint64_t a = uint64_t{cidr->base} + 2; a < cidr->last(); ++a) {
    if (!used.count(static_cast<uint32_t>(a))) return formatIpv4(static_cast<uint32_t>(a));
  }
  return failedPrecondition("project " + project + "'s network " + subnet +
                            " has no free address; delete one of its VMs first");
}

}  // namespace berth::controlplane
