#pragma once
// Fixtures of the service tests: a fresh SQLite store in a temporary directory with the
// services over it, a fake clock, the bootstrap admin, and helpers to mint tokens.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controlplane/service/services.h"
#include "os/temp_dir.h"
#include "store/sqlite_store.h"

namespace berth::controlplane {

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.emplace(std::move(os::TempDir::create("berth-services-").value()));
    store_ = std::move(store::SqliteStore::open(dir_->path() + "/berth.db").value());
    services_ = std::make_unique<Services>(*store_, clock_);
    auto secret = services_->tokens.bootstrapAdminToken();
    ASSERT_TRUE(secret.isOk() && secret->has_value());
    admin_ = services_->tokens.authenticate(**secret).value();
  }

  // The principal of a new token, as authenticating its secret gives it.
  Principal principal(const std::string& name, Role role, const std::optional<std::string>& project) {
    auto t = services_->tokens.create(admin_, name, role, project);
    EXPECT_TRUE(t.isOk()) << t.status().toString();
    return services_->tokens.authenticate(t->secret).value();
  }

  std::vector<store::Event> events() { return services_->events.list(admin_, 0, std::nullopt, 1000).value(); }

  FakeClock clock_;
  std::optional<os::TempDir> dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Services> services_;
  Principal admin_;
};

// Project "a" with small quotas: 4 vCPUs, 2048 MiB, 10 GiB of disk, 3 VMs.
class ProjectTest : public ServicesTest {
 protected:
  void SetUp() override {
    ServicesTest::SetUp();
    ASSERT_TRUE(services_->projects.create(admin_, "a", ProjectPatch{QuotaPatch{4, 2048, 10, 3}, {}}).isOk());
  }

  Principal tokenFor(Role role, const std::string& project) {
    return principal("t" + std::to_string(n_++), role, project);
  }

  Result<store::Vm> vm(const std::string& name, int64_t vcpus, const Principal* who = nullptr) {
    store::Vm v;
    v.project = "a";
    v.name = name;
    v.vcpus = vcpus;
    v.memory_mib = 256;
    v.disk_gib = 1;
    return services_->vms.create(who ? *who : admin_, v);
  }

  int n_ = 0;
};

}  // namespace berth::controlplane
