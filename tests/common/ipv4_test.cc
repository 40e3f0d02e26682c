// The one parser of IPv4 text that berthd (its network pool and allocations) and the agent (the
// assignment it turns into nftables rules, --deny-egress) share.

#include "common/ipv4.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Ipv4, ParsesCidrsStrictly) {
  auto pool = parseIpv4Cidr("10.64.0.0/10");
  ASSERT_TRUE(pool.isOk()) << pool.status().toString();
  EXPECT_EQ(pool->prefix, 10);
  EXPECT_EQ(pool->size(), uint64_t{1} << 22);
  EXPECT_EQ(pool->toString(), "10.64.0.0/10");
  EXPECT_EQ(formatIpv4(pool->last()), "10.127.255.255");
  EXPECT_TRUE(pool->contains(*parseIpv4("10.127.255.255")));
  EXPECT_FALSE(pool->contains(*parseIpv4("10.128.0.0")));
  EXPECT_TRUE(parseIpv4Cidr("0.0.0.0/0").isOk());
  EXPECT_TRUE(parseIpv4Cidr("192.168.7.9/32").isOk());
  for (const char* bad :
       {"", "10.64.0.0", "10.64.0.0/", "10.64.0.0/33", "10.64.0.0/-1", "10.64.0/10",
        "10.64.0.0.0/10", "10.064.0.0/10", "10.256.0.0/10", "10.64.0.0/1O", "fd00::/8",
        "10.64.0.0/10 ", " 10.64.0.0/10", "10.64.0.0/010x", "1111.1.1.1/8", "x/8",
        "10.64.0.0/8; drop", "1.2.3.4.5/8", "10.64.0.0/0x8"}) {
    EXPECT_EQ(parseIpv4Cidr(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(parseIpv4("10.0.0.1 ").isOk());
  EXPECT_FALSE(parseIpv4("010.0.0.1x").isOk());
}

TEST(Ipv4, HostBitsAreRefusedWithTheNetworkMeant) {
  EXPECT_EQ(parseIpv4Cidr("10.64.0.1/24").status().message(),
            "network '10.64.0.1/24' has host bits set; did you mean 10.64.0.0/24?");
  EXPECT_EQ(parseIpv4Cidr("10.64.3.1/24", "the pool").status().message(),
            "the pool '10.64.3.1/24' has host bits set; did you mean 10.64.3.0/24?");
}

}  // namespace
}  // namespace berth
