#include "controlplane/service/host_ports.h"

#include <gtest/gtest.h>

#include "services_fixture.h"

namespace berth::controlplane {
namespace {

TEST(HostPortRangeTest, ParsesLowDashHighAndRefusesAnythingElse) {
  auto r = HostPortRange::parse("80-65535");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->low, 80);
  EXPECT_EQ(r->high, 65535);
  EXPECT_TRUE(r->contains(80));
  EXPECT_FALSE(r->contains(79));
  EXPECT_EQ(HostPortRange::parse(HostPortRange::kDefault)->toString(), "1024-65535");
  EXPECT_EQ(HostPortRange::parse("8080-8080")->toString(), "8080-8080");
  for (const char* bad : {"", "1024", "1024-", "-65535", "0-100", "1024-65536", "2000-1000", "1024-65535x",
                          " 1024-2000", "+1-2", "1024--2000", "99999999999999999999-1"}) {
    auto s = HostPortRange::parse(bad);
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.status().message().find("LOW-HIGH"), std::string::npos) << s.status().message();
  }
}

// Project "a" (from ProjectTest) and project "b", each a tenant of the same platform.
class HostPortsTest : public ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    ASSERT_TRUE(services_->projects.create(admin_, "b", ProjectPatch{}).isOk());
  }

  static AppSpecPatch publishing(int64_t host_port) {
    AppSpecPatch p;
    p.command = std::vector<std::string>{"httpd"};
    p.ports = std::vector<model::PortSpec>{{8080, "tcp", host_port}};
    return p;
  }

  std::vector<int64_t> claims(const std::string& project, const std::string& app) {
    std::vector<int64_t> out;
    EXPECT_TRUE(store_->read([&](store::Tx& tx) {
      BERTH_ASSIGN_OR_RETURN(auto held, tx.listHostPortClaims(project, app));
      for (const auto& c : held) out.push_back(c.port);
      return Status::ok();
    }).isOk());
    return out;
  }

  int64_t vmCount(const std::string& project) { return services_->vms.list(admin_, project, "", 100)->items.size(); }
};

TEST_F(HostPortsTest, AnotherAppsPortIsAConflictNamingNeitherAndWritesNothing) {
  ASSERT_TRUE(services_->apps.create(admin_, "a", "site", publishing(8080)).isOk());
  EXPECT_EQ(claims("a", "site"), std::vector<int64_t>{8080});
  const size_t events_before = events().size();
  const int64_t vms_before = vmCount("b");

  // Another project, then another app of the same project: both refused alike.
  for (const auto& [project, app] : {std::pair{"b", "web"}, std::pair{"a", "other"}}) {
    auto taken = services_->apps.create(admin_, project, app, publishing(8080));
    EXPECT_EQ(taken.status().code(), StatusCode::kConflict);
    EXPECT_EQ(taken.status().message(), "host port 8080 is already published by another app");
  }
  EXPECT_EQ(services_->apps.list(admin_, "b", "", 10)->items.size(), 0u);
  EXPECT_EQ(vmCount("b"), vms_before);  // the replica VM it needed was not made either
  EXPECT_EQ(events().size(), events_before);
  EXPECT_EQ(claims("b", "web"), std::vector<int64_t>{});

  // The same through a patch of an app that exists: no release, no claim.
  ASSERT_TRUE(services_->apps.create(admin_, "b", "web", publishing(9000)).isOk());
  auto moved = services_->apps.update(admin_, "b", "web", publishing(8080), std::nullopt);
  EXPECT_EQ(moved.status().code(), StatusCode::kConflict);
  EXPECT_EQ(moved.status().message(), "host port 8080 is already published by another app");
  EXPECT_EQ(services_->apps.get(admin_, "b", "web")->release, 1);
  EXPECT_EQ(claims("b", "web"), std::vector<int64_t>{9000});
  EXPECT_EQ(claims("a", "site"), std::vector<int64_t>{8080});
}

TEST_F(HostPortsTest, APortOutsideTheRangeIsRefusedNamingTheRangeBeforeAnythingIsWritten) {
  const size_t events_before = events().size();
  auto low = services_->apps.create(admin_, "b", "web", publishing(80));
  EXPECT_EQ(low.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(low.status().message(), "host port 80 is outside the range this platform publishes (1024-65535)");
  EXPECT_EQ(vmCount("b"), 0);
  EXPECT_EQ(events().size(), events_before);

  ASSERT_TRUE(services_->apps.create(admin_, "b", "web", publishing(1024)).isOk());
  auto patched = services_->apps.update(admin_, "b", "web", publishing(1023), std::nullopt);
  EXPECT_EQ(patched.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(services_->apps.get(admin_, "b", "web")->release, 1);
}

TEST_F(HostPortsTest, AnOperatorMayAllowPrivilegedPortsAndNarrowingTheRangeMovesNoApp) {
  services_.reset();
  services_ = std::make_unique<Services>(*store_, clock_, NetworkPool{}, HostPortRange::parse("80-65535").value());
  ASSERT_TRUE(services_->apps.create(admin_, "a", "site", publishing(80)).isOk());

  services_.reset();
  services_ = std::make_unique<Services>(*store_, clock_, NetworkPool{}, HostPortRange::parse("9000-9100").value());
  AppSpecPatch env;
  env.env = std::map<std::string, std::string>{{"MODE", "v2"}};
  auto kept = services_->apps.update(admin_, "a", "site", env, std::nullopt);
  ASSERT_TRUE(kept.isOk()) << kept.status().toString();
  EXPECT_EQ(kept->release, 2);
  EXPECT_EQ(claims("a", "site"), std::vector<int64_t>{80});
  EXPECT_EQ(services_->apps.create(admin_, "b", "web", publishing(8080)).status().message(),
            "host port 8080 is outside the range this platform publishes (9000-9100)");
}

TEST_F(HostPortsTest, AnAppKeepsItsPortAcrossReleasesAndFreesWhatItStopsPublishingOrWhenDeleted) {
  ASSERT_TRUE(services_->apps.create(admin_, "a", "site", publishing(8080)).isOk());
  AppSpecPatch env;
  env.env = std::map<std::string, std::string>{{"MODE", "v2"}};
  ASSERT_EQ(services_->apps.update(admin_, "a", "site", env, std::nullopt)->release, 2);
  EXPECT_EQ(claims("a", "site"), std::vector<int64_t>{8080});

  // Moving to another port frees the old one at once.
  ASSERT_EQ(services_->apps.update(admin_, "a", "site", publishing(8081), std::nullopt)->release, 3);
  EXPECT_EQ(claims("a", "site"), std::vector<int64_t>{8081});
  ASSERT_TRUE(services_->apps.create(admin_, "b", "web", publishing(8080)).isOk());

  // Deleting the app frees the rest.
  EXPECT_EQ(services_->apps.create(admin_, "b", "api", publishing(8081)).status().code(), StatusCode::kConflict);
  ASSERT_TRUE(services_->apps.remove(admin_, "a", "site", std::nullopt).isOk());
  EXPECT_EQ(claims("a", "site"), std::vector<int64_t>{});
  ASSERT_TRUE(services_->apps.create(admin_, "b", "api", publishing(8081)).isOk());
}

TEST_F(HostPortsTest, ARollbackClaimsItsReleasesPortsOrIsAConflictIfAnotherAppTookOne) {
  ASSERT_TRUE(services_->apps.create(admin_, "a", "site", publishing(8080)).isOk());
  ASSERT_TRUE(services_->apps.update(admin_, "a", "site", publishing(8081), std::nullopt).isOk());
  ASSERT_TRUE(services_->apps.create(admin_, "b", "web", publishing(8080)).isOk());
  const size_t events_before = events().size();

  auto back = services_->apps.rollback(admin_, "a", "site", 1, std::nullopt);
  EXPECT_EQ(back.status().code(), StatusCode::kConflict);
  EXPECT_EQ(back.status().message(), "host port 8080 is already published by another app");
  EXPECT_EQ(services_->apps.get(admin_, "a", "site")->release, 2);
  EXPECT_EQ(services_->apps.listReleases(admin_, "a", "site", 0, 10)->items.size(), 2u);
  EXPECT_EQ(claims("a", "site"), std::vector<int64_t>{8081});
  EXPECT_EQ(events().size(), events_before);

  ASSERT_TRUE(services_->apps.remove(admin_, "b", "web", std::nullopt).isOk());
  auto restored = services_->apps.rollback(admin_, "a", "site", 1, std::nullopt);
  ASSERT_TRUE(restored.isOk()) << restored.status().toString();
  EXPECT_EQ(restored->release, 3);
  EXPECT_EQ(claims("a", "site"), std::vector<int64_t>{8080});
}

TEST_F(HostPortsTest, AtStartupAppsWithoutClaimsGetThemAndWhereTwoCollideTheOldestKeepsThePort) {
  // Apps as a berthd before claims wrote them: straight into the store, one port shared.
  auto insertApp = [&](const std::string& project, const std::string& name, int64_t created_at,
                       std::vector<model::PortSpec> ports) {
    model::AppSpec spec;
    spec.command = {"httpd"};
    spec.ports = std::move(ports);
    store::App app;
    app.project = project;
    app.name = name;
    app.spec_json = model::appSpecToJson(spec).dump();
    app.release = app.version = 1;
    app.created_at = created_at;
    return store_->write([&](store::Tx& tx) { return tx.insertApp(app); });
  };
  ASSERT_TRUE(insertApp("b", "late", 200, {{8080, "tcp", 8080}, {9090, "tcp", 9090}}).isOk());
  ASSERT_TRUE(insertApp("a", "early", 100, {{8080, "tcp", 8080}, {80, "tcp", 80}}).isOk());
  ASSERT_TRUE(insertApp("a", "quiet", 50, {{8080, "tcp", 0}}).isOk());
  // One app whose stored spec cannot be read leaves the others their ports.
  ASSERT_TRUE(store_->write([&](store::Tx& tx) {
    store::App broken;
    broken.project = "a";
    broken.name = "broken";
    broken.spec_json = "{\"ports\": 5}";
    broken.created_at = 10;
    return tx.insertApp(broken);
  }).isOk());

  auto collisions = claimPublishedHostPorts(*store_, 7);
  ASSERT_TRUE(collisions.isOk()) << collisions.status().toString();
  ASSERT_EQ(collisions->size(), 2u);
  EXPECT_EQ(collisions->at(0).rfind("app 'broken' of project 'a' publishes no host port: its spec cannot be read: ", 0),
            0u)
      << collisions->at(0);
  EXPECT_EQ(collisions->at(1),
            "host port 8080 stays with app 'early' of project 'a'; app 'late' of project 'b' also publishes it and "
            "is not given it");
  // Outside today's range or not, a port already published stays its app's.
  EXPECT_EQ(claims("a", "early"), (std::vector<int64_t>{80, 8080}));
  EXPECT_EQ(claims("b", "late"), std::vector<int64_t>{9090});
  EXPECT_EQ(claims("a", "quiet"), std::vector<int64_t>{});

  // Every later start finds them in place and says the same.
  EXPECT_EQ(claimPublishedHostPorts(*store_, 8).value(), *collisions);
  EXPECT_EQ(claims("a", "early"), (std::vector<int64_t>{80, 8080}));
  // The app left without its port cannot be deployed until it publishes another.
  AppSpecPatch env;
  env.env = std::map<std::string, std::string>{{"MODE", "v2"}};
  EXPECT_EQ(services_->apps.update(admin_, "b", "late", env, std::nullopt).status().code(), StatusCode::kConflict);
}

}  // namespace
}  // namespace berth::controlplane
