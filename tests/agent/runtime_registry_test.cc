// The runtime registry: a VM's runtime name finds its driver, and a name the node lacks is
// refused with what it has instead of falling back to another driver.

#include "agent/runtime/runtime_registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace berth::agent {
namespace {

// A driver that only has a name: the registry never calls anything else.
class NamedRuntime final : public Runtime {
 public:
  explicit NamedRuntime(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  RuntimeCapabilities capabilities() const override { return {}; }
  Result<pid_t> launch(const VmLaunch&, const Paths::Vm&) override { return internalError("not in this test"); }
  std::optional<pid_t> running(const Paths::Vm&) override { return std::nullopt; }
  std::string channelEndpoint(const Paths::Vm& vm) const override { return vm.channelSocket(); }
  Status stop(const Paths::Vm&) override { return Status::ok(); }
  Status kill(const Paths::Vm&) override { return Status::ok(); }

 private:
  std::string name_;
};

TEST(RuntimeRegistry, FindsEachDriverByItsName) {
  RuntimeRegistry registry("n1");
  auto qemu = std::make_unique<NamedRuntime>("qemu");
  auto firecracker = std::make_unique<NamedRuntime>("firecracker");
  Runtime* qemu_ptr = qemu.get();
  Runtime* firecracker_ptr = firecracker.get();
  ASSERT_TRUE(registry.add(std::move(qemu)).isOk());
  ASSERT_TRUE(registry.add(std::move(firecracker)).isOk());
  auto found = registry.find("qemu");
  ASSERT_TRUE(found.isOk());
  EXPECT_EQ(*found, qemu_ptr);
  found = registry.find("firecracker");
  ASSERT_TRUE(found.isOk());
  EXPECT_EQ(*found, firecracker_ptr);
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"firecracker", "qemu"}));
}

TEST(RuntimeRegistry, AnUnknownRuntimeIsRefusedNamingTheNodeAndWhatItHas) {
  RuntimeRegistry registry("n1");
  ASSERT_TRUE(registry.add(std::make_unique<NamedRuntime>("qemu")).isOk());
  ASSERT_TRUE(registry.add(std::make_unique<NamedRuntime>("libvirt")).isOk());
  auto found = registry.find("firecracker");
  ASSERT_FALSE(found.isOk());
  EXPECT_EQ(found.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(found.status().message(), "runtime 'firecracker' is not available on node n1; it has: libvirt, qemu");
}

TEST(RuntimeRegistry, ANodeWithoutRuntimesSaysSo) {
  RuntimeRegistry registry("bare");
  auto found = registry.find("qemu");
  ASSERT_FALSE(found.isOk());
  EXPECT_EQ(found.status().message(), "runtime 'qemu' is not available on node bare; it has: none");
}

TEST(RuntimeRegistry, ASecondDriverOfTheSameNameIsRefusedAndTheFirstKept) {
  RuntimeRegistry registry("n1");
  auto first = std::make_unique<NamedRuntime>("qemu");
  Runtime* first_ptr = first.get();
  ASSERT_TRUE(registry.add(std::move(first)).isOk());
  EXPECT_EQ(registry.add(std::make_unique<NamedRuntime>("qemu")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*registry.find("qemu"), first_ptr);
}

TEST(Runtime, ADriverWithoutOptionalOperationsRefusesThemUnderItsOwnName) {
  NamedRuntime cloud_hypervisor("cloud-hypervisor");
  const Status paused = cloud_hypervisor.pause(Paths::Vm{"/d/vm"});
  EXPECT_EQ(paused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(paused.message(), "runtime 'cloud-hypervisor' cannot pause a VM");
}

}  // namespace
}  // namespace berth::agent
