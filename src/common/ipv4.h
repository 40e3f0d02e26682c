#pragma once
// IPv4 addresses and networks as text the operator, berthd and a node exchange ("10.64.3.2",
// "10.64.0.0/10"), parsed strictly: berthd allocates project networks from them and the agent
// writes them into its nftables ruleset and command lines, so both read them through this one
// parser.

#include <compare>
#include <cstdint>
#include <string>

#include "common/result.h"

namespace berth {

// An IPv4 network: `base` (host byte order) with no host bits set, /`prefix`.
struct Ipv4Cidr {
  uint32_t base = 0;
  int prefix = 32;
  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  uint32_t last() const { return static_cast<uint32_t>(base + size() - 1); }
  bool contains(uint32_t address) const { return address >= base && address <= last(); }
  std::string toString() const;
  auto operator<=>(const Ipv4Cidr&) const = default;
};

std::string formatIpv4(uint32_t address);
// A strict dotted quad: four decimal parts 0..255, no leading zeros (which some tools read as
// octal), nothing around it.
Result<uint32_t> parseIpv4(const std::string& text);
// "10.64.0.0/10"; InvalidArgument naming `what` when malformed or when host bits are set.
Result<Ipv4Cidr> parseIpv4Cidr(const std::string& text, const std::string& what = "network");

}  // namespace berth
