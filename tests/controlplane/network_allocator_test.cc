#include "controlplane/service/network_allocator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::controlplane {
namespace {

using ::testing::HasSubstr;

TEST(NetworkAllocatorTest, ASubnetsGatewayIsItsFirstAddress) {
  EXPECT_EQ(*subnetGateway("10.64.3.0/24"), "10.64.3.1");
}

TEST(NetworkAllocatorTest, PoolsAreValidated) {
  EXPECT_EQ(NetworkPool().text(), "10.64.0.0/10");
  EXPECT_EQ(NetworkPool().subnetPrefix(), 24);
  EXPECT_THAT(NetworkPool::create("10.64.0.1/10").status().message(), HasSubstr("host bits"));
  EXPECT_THAT(NetworkPool::create("nope").status().message(), HasSubstr("CIDR"));
  // Subnets larger than the pool, or too small for a gateway and a VM.
  EXPECT_FALSE(NetworkPool::create("10.64.0.0/24", 16).isOk());
  EXPECT_FALSE(NetworkPool::create("10.64.0.0/24", 31).isOk());
  EXPECT_TRUE(NetworkPool::create("10.64.0.0/24", 24).isOk());
}

TEST(NetworkAllocatorTest, PicksTheLowestFreeSubnetAndReusesAFreedOne) {
  NetworkPool pool;
  EXPECT_EQ(*pool.allocateSubnet({}), "10.64.0.0/24");
  EXPECT_EQ(*pool.allocateSubnet({"10.64.0.0/24", "10.64.1.0/24"}), "10.64.2.0/24");
  // The first project was deleted: its subnet is the lowest free one again.
  EXPECT_EQ(*pool.allocateSubnet({"10.64.1.0/24", "10.64.2.0/24"}), "10.64.0.0/24");
  // Order does not matter.
  EXPECT_EQ(*pool.allocateSubnet({"10.64.2.0/24", "10.64.0.0/24", "10.64.1.0/24"}), "10.64.3.0/24");
}

TEST(NetworkAllocatorTest, AvoidsSubnetsAllocatedUnderAnotherPoolOrSize) {
  // The operator moved the pool or changed the size: what projects hold still counts.
  auto pool = NetworkPool::create("10.64.0.0/16", 24);
  ASSERT_TRUE(pool.isOk());
  EXPECT_EQ(*pool->allocateSubnet({"10.64.0.0/22", "10.0.0.0/24"}), "10.64.4.0/24");
  EXPECT_EQ(*pool->allocateSubnet({"10.64.0.0/25", "10.64.0.128/25"}), "10.64.1.0/24");
  EXPECT_FALSE(pool->allocateSubnet({"10.0.0.0/8"}).isOk());
  auto small = NetworkPool::create("10.64.0.0/16", 26);
  ASSERT_TRUE(small.isOk());
  EXPECT_EQ(*small->allocateSubnet({"10.64.0.0/26", "10.64.0.128/25"}), "10.64.0.64/26");
  EXPECT_EQ(*small->allocateSubnet({"10.64.0.0/24"}), "10.64.1.0/26");
  EXPECT_EQ(small->allocateSubnet({"garbage"}).status().code(), StatusCode::kInternal);
}

TEST(NetworkAllocatorTest, AFullPoolSaysSo) {
  auto pool = NetworkPool::create("10.64.0.0/23", 24);
  ASSERT_TRUE(pool.isOk());
  auto full = pool->allocateSubnet({"10.64.0.0/24", "10.64.1.0/24"});
  EXPECT_EQ(full.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(full.status().message(), HasSubstr("the project network pool 10.64.0.0/23 is full"));
  // A pool that is not a multiple of the subnet size is impossible (the prefix check), but one
  // at the very top of the address space must not wrap around.
  auto top = NetworkPool::create("255.255.255.0/24", 25);
  ASSERT_TRUE(top.isOk());
  EXPECT_EQ(*top->allocateSubnet({"255.255.255.0/25"}), "255.255.255.128/25");
  EXPECT_FALSE(top->allocateSubnet({"255.255.255.0/25", "255.255.255.128/25"}).isOk());
  EXPECT_FALSE(top->allocateSubnet({"255.255.255.0/24"}).isOk());
}

TEST(NetworkAllocatorTest, AHugePoolIsSearchedByJumpsNotBlocks) {
  auto pool = NetworkPool::create("0.0.0.0/0", 30);
  ASSERT_TRUE(pool.isOk());
  EXPECT_EQ(*pool->allocateSubnet({"0.0.0.0/1"}), "128.0.0.0/30");
  EXPECT_FALSE(pool->allocateSubnet({"0.0.0.0/1", "128.0.0.0/1"}).isOk());
}

TEST(NetworkAllocatorTest, VmAddressesStartAtTwoAndSkipTheBroadcast) {
  EXPECT_EQ(*allocateVmAddress("shop", "10.64.3.0/24", {}), "10.64.3.2");
  EXPECT_EQ(*allocateVmAddress("shop", "10.64.3.0/24", {"10.64.3.2", "10.64.3.3"}), "10.64.3.4");
  // A deleted VM's address is reused first.
  EXPECT_EQ(*allocateVmAddress("shop", "10.64.3.0/24", {"10.64.3.3", "", "10.64.3.4"}), "10.64.3.2");
  std::vector<std::string> taken;
  for (int i = 2; i <= 253; ++i) taken.push_back("10.64.3." + std::to_string(i));
  EXPECT_EQ(*allocateVmAddress("shop", "10.64.3.0/24", taken), "10.64.3.254");
  taken.push_back("10.64.3.254");
  auto full = allocateVmAddress("shop", "10.64.3.0/24", taken);
  EXPECT_EQ(full.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(full.status().message(), HasSubstr("project shop's network 10.64.3.0/24 has no free address"));
  // The smallest subnet holds one VM.
  EXPECT_EQ(*allocateVmAddress("tiny", "10.64.0.4/30", {}), "10.64.0.6");
  EXPECT_FALSE(allocateVmAddress("tiny", "10.64.0.4/30", {"10.64.0.6"}).isOk());
  EXPECT_EQ(allocateVmAddress("shop", "10.64.3.0/24", {"10.64.3.x"}).status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace berth::controlplane
