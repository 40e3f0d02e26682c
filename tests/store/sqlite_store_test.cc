#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "os/temp_dir.h"
#include "store/sqlite_db.h"
#include "store/sqlite_migrations.h"

namespace berth::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::create("berth-store-");
    ASSERT_TRUE(dir.isOk());
    dir_.emplace(std::move(dir).value());
    path_ = dir_->path() + "/berth.db";
    reopen();
  }
  void reopen() {
    store_.reset();
    auto s = SqliteStore::open(path_);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = std::move(s).value();
  }
  Status createProject(const std::string& name) {
    return store_->write([&](Tx& tx) {
      Project p;
      p.name = name;
      p.version = 1;
      return tx.insertProject(p);
    });
  }
  Result<Project> getProject(const std::string& name) {
    std::optional<Project> out;
    Status s = store_->read([&](Tx& tx) {
      BERTH_ASSIGN_OR_RETURN(out, tx.getProject(name));
      return Status::ok();
    });
    if (!s.isOk()) return s;
    return *out;
  }

  std::optional<os::TempDir> dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, MigratesToLatestAndReopens) {
  ASSERT_TRUE(createProject("demo").isOk());
  reopen();
  EXPECT_TRUE(getProject("demo").isOk());
  auto db = SqliteDb::open(path_, true);
  ASSERT_TRUE(db.isOk());
  auto st = (*db)->prepare("PRAGMA user_version");
  ASSERT_TRUE(st.isOk());
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(st->int64At(0), latestSchemaVersion());
  auto mode = (*db)->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(*mode->step());
  EXPECT_EQ(mode->textAt(0), "wal");
}

TEST_F(SqliteStoreTest, RefusesDatabaseFromNewerBerth) {
  store_.reset();
  {
    auto db = SqliteDb::open(path_, false);
    ASSERT_TRUE((*db)->exec("PRAGMA user_version = 999").isOk());
  }
  auto s = SqliteStore::open(path_);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("999"), std::string::npos);
}

TEST_F(SqliteStoreTest, FailedTransactionChangesNothing) {
  Status s = store_->write([&](Tx& tx) {
    Project p;
    p.name = "half";
    BERTH_RETURN_IF_ERROR(tx.insertProject(p));
    BERTH_RETURN_IF_ERROR(tx.appendEvent(Event{0, 1, "t", "project.create", "half", "projects/half", "{}"}).status());
    return invalidArgument("changed my mind");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(getProject("half").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->lastEventSeq(), 0);
}

TEST_F(SqliteStoreTest, ThrowingTransactionFailsAloneAndStoreKeepsWorking) {
  Status s = store_->write([](Tx&) -> Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_TRUE(createProject("after").isOk());
}

TEST_F(SqliteStoreTest, DuplicateInsertIsAlreadyExists) {
  ASSERT_TRUE(createProject("demo").isOk());
  Status s = createProject("demo");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("project 'demo' already exists"), std::string::npos) << s.message();
}

TEST_F(SqliteStoreTest, StaleVersionIsRejectedAndChangesNothing) {
  ASSERT_TRUE(createProject("demo").isOk());
  auto p = getProject("demo");
  ASSERT_TRUE(p.isOk());
  Project changed = *p;
  changed.quotas.vcpus = 2;
  ASSERT_TRUE(store_->write([&](Tx& tx) { return tx.updateProject(changed, 1); }).isOk());
  EXPECT_EQ(getProject("demo")->version, 2);
  changed.quotas.vcpus = 64;
  Status stale = store_->write([&](Tx& tx) { return tx.updateProject(changed, 1); });
  EXPECT_EQ(stale.code(), StatusCode::kVersionMismatch);
  EXPECT_EQ(getProject("demo")->quotas.vcpus, 2);
}

TEST_F(SqliteStoreTest, ConcurrentWritesAreGroupCommittedAndEachDurable) {
  constexpr int kThreads = 16, kPerThread = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every third write fails on purpose: it must not disturb its batch-mates.
        bool fail = i % 3 == 0;
        Status s = store_->write([&](Tx& tx) {
          Project p;
          p.name = "p" + std::to_string(t) + "-" + std::to_string(i);
          BERTH_RETURN_IF_ERROR(tx.insertProject(p));
          return fail ? invalidArgument("planned failure") : Status::ok();
        });
        if (s.isOk() == fail) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(store_->writeCount(), kThreads * kPerThread);
  EXPECT_LT(store_->commitCount(), store_->writeCount());
  reopen();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string name = "p" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_EQ(getProject(name).isOk(), i % 3 != 0) << name;
    }
  }
}

TEST_F(SqliteStoreTest, PagesThroughProjects) {
  for (const char* n : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(createProject(n).isOk());
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  do {
    Page<Project> page;
    ASSERT_TRUE(store_->read([&](Tx& tx) {
      BERTH_ASSIGN_OR_RETURN(page, tx.listProjects(after, 2));
      return Status::ok();
    }).isOk());
    for (auto& p : page.items) seen.push_back(p.name);
    after = page.next;
    ++pages;
  } while (!after.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(pages, 3);
}

TEST_F(SqliteStoreTest, EventWaitersWakeOnCommit) {
  std::atomic<int64_t> seen{0};
  std::thread waiter([&] { seen = store_->waitForEvents(0, std::chrono::seconds(30)); });
  ASSERT_TRUE(store_->write([](Tx& tx) {
    return tx.appendEvent(Event{0, 1, "t", "project.create", std::nullopt, "projects/x", "{}"}).status();
  }).isOk());
  waiter.join();
  EXPECT_EQ(seen, 1);
  std::vector<Event> events;
  ASSERT_TRUE(store_->read([&](Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(events, tx.listEvents(0, std::nullopt, 10));
    return Status::ok();
  }).isOk());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].action, "project.create");
}

TEST_F(SqliteStoreTest, AWriterSeesItsOwnEventsInLastEventSeqAtOnce) {
  // Concurrent writers make batches; each must observe its own event when write() returns.
  std::atomic<int> stale{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        int64_t mine = 0;
        ASSERT_TRUE(store_->write([&](Tx& tx) {
          BERTH_ASSIGN_OR_RETURN(mine, tx.appendEvent(Event{0, 1, "t", "x", std::nullopt, "o", "{}"}));
          return Status::ok();
        }).isOk());
        if (store_->lastEventSeq() < mine) ++stale;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stale, 0);
}

TEST_F(SqliteStoreTest, DeletingProjectWithVmsIsRefusedByForeignKey) {
  ASSERT_TRUE(createProject("demo").isOk());
  ASSERT_TRUE(store_->write([](Tx& tx) {
    Vm vm;
    vm.project = "demo";
    vm.name = "web";
    return tx.insertVm(vm);
  }).isOk());
  Status s = store_->write([](Tx& tx) { return tx.deleteProject("demo"); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(getProject("demo").isOk());
}

TEST_F(SqliteStoreTest, KeepsProjectNetworksAndVmAddressesUniqueAndAcrossRestarts) {
  ASSERT_TRUE(createProject("empty").isOk());
  EXPECT_EQ(getProject("empty")->subnet, "");
  EXPECT_EQ(getProject("empty")->egress, "allow");
  auto insertProject = [&](const std::string& name, const std::string& subnet) {
    return store_->write([&](Tx& tx) {
      Project p;
      p.name = name;
      p.subnet = subnet;
      p.egress = "deny";
      return tx.insertProject(p);
    });
  };
  auto insertVm = [&](const std::string& project, const std::string& name, const std::string& address) {
    return store_->write([&](Tx& tx) {
      Vm vm;
      vm.project = project;
      vm.name = name;
      vm.address = address;
      return tx.insertVm(vm);
    });
  };
  ASSERT_TRUE(insertProject("a", "10.64.0.0/24").isOk());
  ASSERT_TRUE(insertProject("b", "10.64.1.0/24").isOk());
  EXPECT_FALSE(insertProject("c", "10.64.0.0/24").isOk());
  ASSERT_TRUE(createProject("d").isOk());  // several projects without a subnet yet
  ASSERT_TRUE(insertVm("a", "web", "10.64.0.2").isOk());
  EXPECT_FALSE(insertVm("a", "db", "10.64.0.2").isOk());
  ASSERT_TRUE(insertVm("a", "old-1", "").isOk());
  ASSERT_TRUE(insertVm("a", "old-2", "").isOk());
  ASSERT_TRUE(insertVm("b", "web", "10.64.1.2").isOk());

  reopen();
  EXPECT_EQ(getProject("a")->subnet, "10.64.0.0/24");
  EXPECT_EQ(getProject("a")->egress, "deny");
  std::vector<std::string> subnets;
  std::vector<Vm> vms;
  ASSERT_TRUE(store_->read([&](Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(subnets, tx.listProjectSubnets());
    BERTH_ASSIGN_OR_RETURN(vms, tx.listVmsByAge("a"));
    return Status::ok();
  }).isOk());
  EXPECT_EQ(subnets, (std::vector<std::string>{"10.64.0.0/24", "10.64.1.0/24"}));
  ASSERT_EQ(vms.size(), 3u);
  EXPECT_EQ(vms[2].address, "10.64.0.2");

  // Updates carry the network fields; a taken subnet or address is refused.
  Project d = *getProject("d");
  d.subnet = "10.64.1.0/24";
  EXPECT_FALSE(store_->write([&](Tx& tx) { return tx.updateProject(d, d.version); }).isOk());
  d.subnet = "10.64.2.0/24";
  d.egress = "deny";
  ASSERT_TRUE(store_->write([&](Tx& tx) { return tx.updateProject(d, d.version); }).isOk());
  EXPECT_EQ(getProject("d")->subnet, "10.64.2.0/24");
  EXPECT_EQ(getProject("d")->egress, "deny");
  Vm old = vms[0];
  old.address = "10.64.0.2";
  EXPECT_FALSE(store_->write([&](Tx& tx) { return tx.updateVm(old, old.version); }).isOk());
  old.address = "10.64.0.3";
  ASSERT_TRUE(store_->write([&](Tx& tx) { return tx.updateVm(old, old.version); }).isOk());
  // A deleted VM's address is free again.
  ASSERT_TRUE(store_->write([](Tx& tx) { return tx.deleteVm("a", "web"); }).isOk());
  EXPECT_TRUE(insertVm("a", "db", "10.64.0.2").isOk());
}

TEST_F(SqliteStoreTest, AHostPortHasOneClaimAcrossProjectsGoneWithItsAppAndKeptAcrossRestarts) {
  ASSERT_TRUE(createProject("a").isOk());
  ASSERT_TRUE(createProject("b").isOk());
  auto insertApp = [&](const std::string& project, const std::string& name, int64_t created_at) {
    return store_->write([&](Tx& tx) {
      App app;
      app.project = project;
      app.name = name;
      app.spec_json = "{}";
      app.version = 1;
      app.created_at = created_at;
      return tx.insertApp(app);
    });
  };
  auto claim = [&](int64_t port, const std::string& project, const std::string& app) {
    return store_->write([&](Tx& tx) { return tx.insertHostPortClaim({port, project, app, 7}); });
  };
  auto claimsOf = [&](const std::string& project, const std::string& app) {
    std::vector<HostPortClaim> out;
    EXPECT_TRUE(store_->read([&](Tx& tx) {
      BERTH_ASSIGN_OR_RETURN(out, tx.listHostPortClaims(project, app));
      return Status::ok();
    }).isOk());
    return out;
  };
  ASSERT_TRUE(insertApp("a", "web", 20).isOk());
  ASSERT_TRUE(insertApp("b", "web", 10).isOk());
  ASSERT_TRUE(insertApp("a", "api", 10).isOk());
  ASSERT_TRUE(claim(8081, "a", "web").isOk());
  ASSERT_TRUE(claim(8080, "a", "web").isOk());
  // Taken is taken, whoever asks: another project, another app, the same app.
  EXPECT_EQ(claim(8080, "b", "web").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(claim(8080, "a", "api").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(claim(8080, "a", "web").code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(claim(9000, "b", "web").isOk());

  reopen();
  EXPECT_EQ(claimsOf("a", "web"), (std::vector<HostPortClaim>{{8080, "a", "web", 7}, {8081, "a", "web", 7}}));
  EXPECT_EQ(claimsOf("a", "api"), std::vector<HostPortClaim>{});
  HostPortClaim held;
  ASSERT_TRUE(store_->read([&](Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(held, tx.getHostPortClaim(9000));
    EXPECT_EQ(tx.getHostPortClaim(9001).status().code(), StatusCode::kNotFound);
    return Status::ok();
  }).isOk());
  EXPECT_EQ(held, (HostPortClaim{9000, "b", "web", 7}));

  // Oldest first, ties by project then name: the order startup rebuilds claims in.
  std::vector<App> apps;
  ASSERT_TRUE(store_->read([&](Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(apps, tx.listAppsByAge());
    return Status::ok();
  }).isOk());
  ASSERT_EQ(apps.size(), 3u);
  EXPECT_EQ(apps[0].project + "/" + apps[0].name, "a/api");
  EXPECT_EQ(apps[1].project + "/" + apps[1].name, "b/web");
  EXPECT_EQ(apps[2].project + "/" + apps[2].name, "a/web");

  // Released one by one, or all with the app; a released port is free to anyone.
  ASSERT_TRUE(store_->write([](Tx& tx) { return tx.deleteHostPortClaim(8081); }).isOk());
  EXPECT_EQ(claimsOf("a", "web"), (std::vector<HostPortClaim>{{8080, "a", "web", 7}}));
  ASSERT_TRUE(store_->write([](Tx& tx) { return tx.deleteApp("a", "web"); }).isOk());
  EXPECT_EQ(claimsOf("a", "web"), std::vector<HostPortClaim>{});
  EXPECT_TRUE(claim(8080, "b", "web").isOk());
  EXPECT_EQ(claimsOf("b", "web"), (std::vector<HostPortClaim>{{8080, "b", "web", 7}, {9000, "b", "web", 7}}));
}

TEST_F(SqliteStoreTest, ADomainIsOneAppsAcrossProjectsGoneWithItsAppAndKeptAcrossRestarts) {
  ASSERT_TRUE(createProject("a").isOk());
  ASSERT_TRUE(createProject("b").isOk());
  ASSERT_TRUE(store_->write([](Tx& tx) {
    for (const char* name : {"web", "api"}) {
      App app;
      app.project = "a";
      app.name = name;
      app.spec_json = "{}";
      app.version = 1;
      BERTH_RETURN_IF_ERROR(tx.insertApp(app));
    }
    return Status::ok();
  }).isOk());
  auto add = [&](const std::string& name, const std::string& project, const std::string& app) {
    return store_->write([&](Tx& tx) { return tx.insertDomain({name, project, app, 7, "tok_1"}); });
  };
  auto domainsOf = [&](const std::string& project) {
    std::vector<Domain> out;
    EXPECT_TRUE(store_->read([&](Tx& tx) {
      BERTH_ASSIGN_OR_RETURN(out, tx.listDomains(project));
      return Status::ok();
    }).isOk());
    return out;
  };
  ASSERT_TRUE(add("www.shop.test", "a", "web").isOk());
  ASSERT_TRUE(add("shop.test", "a", "web").isOk());
  ASSERT_TRUE(add("api.shop.test", "a", "api").isOk());
  // Taken is taken, whoever asks: another project, another app, the same app.
  EXPECT_EQ(add("shop.test", "b", "web").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(add("shop.test", "a", "api").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(add("shop.test", "a", "web").code(), StatusCode::kAlreadyExists);

  reopen();
  EXPECT_EQ(domainsOf("a"), (std::vector<Domain>{{"api.shop.test", "a", "api", 7, "tok_1"},
                                                 {"shop.test", "a", "web", 7, "tok_1"},
                                                 {"www.shop.test", "a", "web", 7, "tok_1"}}));
  EXPECT_EQ(domainsOf("b"), std::vector<Domain>{});
  Domain held;
  ASSERT_TRUE(store_->read([&](Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(held, tx.getDomain("api.shop.test"));
    EXPECT_EQ(tx.getDomain("other.test").status().code(), StatusCode::kNotFound);
    return Status::ok();
  }).isOk());
  EXPECT_EQ(held.app, "api");

  ASSERT_TRUE(store_->write([](Tx& tx) { return tx.deleteDomain("api.shop.test"); }).isOk());
  EXPECT_EQ(store_->write([](Tx& tx) { return tx.deleteDomain("api.shop.test"); }).code(), StatusCode::kNotFound);
  // Deleting the app releases its names, in the same transaction.
  ASSERT_TRUE(store_->write([](Tx& tx) { return tx.deleteApp("a", "web"); }).isOk());
  EXPECT_EQ(domainsOf("a"), std::vector<Domain>{});
  EXPECT_TRUE(add("shop.test", "b", "web").isOk());
}

TEST_F(SqliteStoreTest, ANodesIngressIsRefreshedByEachRegistration) {
  Node node;
  node.name = "n1";
  node.vcpus = 4;
  node.ingress_http_port = 80;
  node.ingress_https_port = 443;
  node.ingress_ca = "-----BEGIN CERTIFICATE-----\nx\n";
  ASSERT_TRUE(store_->write([&](Tx& tx) { return tx.upsertNode(node); }).isOk());
  reopen();
  auto stored = [&] {
    Node out;
    EXPECT_TRUE(store_->read([&](Tx& tx) {
      BERTH_ASSIGN_OR_RETURN(out, tx.getNode("n1"));
      return Status::ok();
    }).isOk());
    return out;
  };
  EXPECT_EQ(stored().ingress_https_port, 443);
  EXPECT_EQ(stored().ingress_ca, node.ingress_ca);
  node.ingress_http_port = node.ingress_https_port = 0;
  node.ingress_ca.clear();
  ASSERT_TRUE(store_->write([&](Tx& tx) { return tx.upsertNode(node); }).isOk());
  EXPECT_EQ(stored().ingress_http_port, 0);
  EXPECT_EQ(stored().ingress_https_port, 0);
  EXPECT_EQ(stored().ingress_ca, "");
}

}  // namespace
}  // namespace berth::store
