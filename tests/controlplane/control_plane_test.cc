#include "controlplane/service/control_plane.h"

#include <gtest/gtest.h>

#include <set>

#include "os/temp_dir.h"
#include "store/sqlite_store.h"

namespace berth::controlplane {
namespace {

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.emplace(std::move(os::TempDir::create("berth-cp-").value()));
    store_ = std::move(store::SqliteStore::open(dir_->path() + "/berth.db").value());
    cp_ = std::make_unique<ControlPlane>(*store_, clock_);
    auto secret = cp_->bootstrapAdminToken();
    ASSERT_TRUE(secret.isOk() && secret->has_value());
    admin_ = cp_->authenticate(**secret).value();
    ASSERT_TRUE(cp_->createProject(admin_, "a", QuotaPatch{4, 2048, 10, 3}).isOk());
  }

  Principal tokenFor(Role role, const std::string& project) {
    auto t = cp_->createToken(admin_, "t" + std::to_string(n_++), role, project);
    EXPECT_TRUE(t.isOk()) << t.status().toString();
    return cp_->authenticate(t->secret).value();
  }

  Result<store::Vm> vm(const std::string& name, int64_t vcpus, const Principal* who = nullptr) {
    store::Vm v;
    v.project = "a";
    v.name = name;
    v.vcpus = vcpus;
    v.memory_mib = 256;
    v.disk_gib = 1;
    return cp_->createVm(who ? *who : admin_, v);
  }

  std::vector<store::Event> events() { return cp_->listEvents(admin_, 0, std::nullopt, 1000).value(); }

  FakeClock clock_;
  std::optional<os::TempDir> dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<ControlPlane> cp_;
  Principal admin_;
  int n_ = 0;
};

TEST_F(ControlPlaneTest, BootstrapCreatesTheAdminTokenOnlyOnce) {
  auto again = cp_->bootstrapAdminToken();
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(admin_.role, Role::kAdmin);
}

TEST_F(ControlPlaneTest, UnknownAndRevokedTokensAreUnauthenticated) {
  EXPECT_EQ(cp_->authenticate("berth_nope").status().code(), StatusCode::kUnauthenticated);
  auto t = cp_->createToken(admin_, "ci", Role::kDeployer, "a");
  ASSERT_TRUE(t.isOk());
  EXPECT_EQ(t->secret.size(), 6u + 64u);
  EXPECT_NE(t->token.hash, t->secret);
  ASSERT_TRUE(cp_->authenticate(t->secret).isOk());
  ASSERT_TRUE(cp_->deleteToken(admin_, t->token.id).isOk());
  EXPECT_EQ(cp_->authenticate(t->secret).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ControlPlaneTest, OwnersManageOnlyTheirProjectsNonAdminTokens) {
  Principal owner = tokenFor(Role::kOwner, "a");
  EXPECT_TRUE(cp_->createToken(owner, "dep", Role::kDeployer, "a").isOk());
  EXPECT_EQ(cp_->createToken(owner, "root", Role::kAdmin, std::nullopt).status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(cp_->createProject(admin_, "b", {}).isOk());
  EXPECT_EQ(cp_->createToken(owner, "x", Role::kViewer, "b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cp_->createToken(admin_, "x", Role::kViewer, std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ControlPlaneTest, VmQuotaNamesTheLimitAndTheExcess) {
  ASSERT_TRUE(vm("one", 3).isOk());
  auto over = vm("two", 2);
  ASSERT_EQ(over.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(over.status().message(), "quota exceeded in project 'a': vcpus would be 5 of a quota of 4 (over by 1)");
  auto update = cp_->updateVm(admin_, "a", "one", VmPatch{5, {}, {}, {}, {}}, std::nullopt);
  EXPECT_EQ(update.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cp_->getProject(admin_, "a")->usage.vcpus, 3);
}

TEST_F(ControlPlaneTest, QuotaCannotDropBelowUsage) {
  ASSERT_TRUE(vm("one", 3).isOk());
  auto r = cp_->updateProject(admin_, "a", QuotaPatch{2, {}, {}, {}}, std::nullopt);
  ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("already uses 3"), std::string::npos);
}

TEST_F(ControlPlaneTest, ProjectWithVmsCannotBeDeleted) {
  ASSERT_TRUE(vm("one", 1).isOk());
  EXPECT_EQ(cp_->deleteProject(admin_, "a", std::nullopt).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(cp_->deleteVm(admin_, "a", "one", std::nullopt).isOk());
  EXPECT_TRUE(cp_->deleteProject(admin_, "a", std::nullopt).isOk());
}

TEST_F(ControlPlaneTest, StaleIfMatchChangesNothing) {
  ASSERT_TRUE(vm("one", 1).isOk());
  auto stale = cp_->powerVm(admin_, "a", "one", PowerAction::kStop, 7);
  EXPECT_EQ(stale.status().code(), StatusCode::kVersionMismatch);
  EXPECT_EQ(cp_->getVm(admin_, "a", "one")->power, "running");
  auto ok = cp_->powerVm(admin_, "a", "one", PowerAction::kStop, 1);
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(ok->power, "stopped");
  EXPECT_EQ(ok->version, 2);
}

TEST_F(ControlPlaneTest, ReleasesAreNumberedImmutableAndRollBack) {
  AppSpecPatch create;
  create.command = std::vector<std::string>{"httpd", "-p", "8080"};
  ASSERT_TRUE(cp_->createApp(admin_, "a", "site", create).isOk());
  AppSpecPatch change;
  change.env = std::map<std::string, std::string>{{"MODE", "v2"}};
  auto v2 = cp_->updateApp(admin_, "a", "site", change, std::nullopt);
  ASSERT_TRUE(v2.isOk());
  EXPECT_EQ(v2->release, 2);
  // The same change again makes no release.
  EXPECT_EQ(cp_->updateApp(admin_, "a", "site", change, std::nullopt)->release, 2);

  auto rolled = cp_->rollbackApp(admin_, "a", "site", std::nullopt, std::nullopt);
  ASSERT_TRUE(rolled.isOk());
  EXPECT_EQ(rolled->release, 3);
  EXPECT_EQ(model::appSpecFromJson(rolled->spec_json)->env.size(), 0u);
  auto history = cp_->listReleases(admin_, "a", "site", 0, 10);
  ASSERT_TRUE(history.isOk());
  ASSERT_EQ(history->items.size(), 3u);
  EXPECT_EQ(history->items[0].number, 3);
  EXPECT_EQ(history->items[1].spec_json, v2->spec_json);
  EXPECT_EQ(cp_->rollbackApp(admin_, "a", "site", 3, std::nullopt).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cp_->rollbackApp(admin_, "a", "site", 9, std::nullopt).status().code(), StatusCode::kNotFound);
}

TEST_F(ControlPlaneTest, AppNeedsACommandOrImageAndAnExistingVm) {
  EXPECT_EQ(cp_->createApp(admin_, "a", "empty", {}).status().code(), StatusCode::kInvalidArgument);
  AppSpecPatch pinned;
  pinned.command = std::vector<std::string>{"x"};
  pinned.vm = "ghost";
  EXPECT_EQ(cp_->createApp(admin_, "a", "pinned", pinned).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cp_->listApps(admin_, "a", "", 10)->items.size(), 0u);
}

TEST_F(ControlPlaneTest, EveryMutationIsOneEventWithItsActor) {
  Principal deployer = tokenFor(Role::kDeployer, "a");
  size_t before = events().size();
  ASSERT_TRUE(vm("one", 1, &deployer).isOk());
  ASSERT_TRUE(cp_->powerVm(deployer, "a", "one", PowerAction::kRestart, std::nullopt).isOk());
  EXPECT_FALSE(vm("two", 100, &deployer).isOk());  // refused: no event
  auto all = events();
  ASSERT_EQ(all.size(), before + 2);
  EXPECT_EQ(all[before].action, "vm.create");
  EXPECT_EQ(all[before].actor, deployer.token_id);
  EXPECT_EQ(all[before + 1].action, "vm.restart");
  EXPECT_EQ(all[before + 1].object, "projects/a/vms/one");
}

TEST_F(ControlPlaneTest, ProjectTokensSeeOnlyTheirEventsAndProjects) {
  ASSERT_TRUE(cp_->createProject(admin_, "b", {}).isOk());
  Principal viewer = tokenFor(Role::kViewer, "b");
  auto visible = cp_->listEvents(viewer, 0, std::nullopt, 1000);
  ASSERT_TRUE(visible.isOk());
  for (const auto& e : *visible) EXPECT_EQ(e.project, "b");
  EXPECT_EQ(cp_->listEvents(viewer, 0, "a", 10).status().code(), StatusCode::kNotFound);
  auto projects = cp_->listProjects(viewer, "", 10);
  ASSERT_EQ(projects->items.size(), 1u);
  EXPECT_EQ(projects->items[0].project.name, "b");
}

}  // namespace
}  // namespace berth::controlplane

namespace berth::controlplane {
namespace {

TEST_F(ControlPlaneTest, DeletingAProjectRevokesItsCachedTokensAtOnce) {
  ASSERT_TRUE(cp_->createProject(admin_, "gone", {}).isOk());
  auto t = cp_->createToken(admin_, "v", Role::kViewer, "gone");
  ASSERT_TRUE(t.isOk());
  ASSERT_TRUE(cp_->authenticate(t->secret).isOk());  // now cached
  ASSERT_TRUE(cp_->authenticate(t->secret).isOk());
  ASSERT_TRUE(cp_->deleteProject(admin_, "gone", std::nullopt).isOk());
  EXPECT_EQ(cp_->authenticate(t->secret).status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace berth::controlplane

namespace berth::controlplane {
namespace {

// Stands in for skopeo, libarchive and mkfs: the service's own rules are what is tested here.
class FakeImporter final : public ImageImporter {
 public:
  Result<ImportResult> import(const std::string& source,
                              const std::function<void(const ImportStep&)>& progress) override {
    ++calls;
    if (source == "bad") return invalidArgument("layer entry '../evil' leaves the root");
    progress({"unpack", 1, 1, 10, 10});
    const bool cached = seen.count(source) > 0;
    seen.insert(source);
    return ImportResult{"sha256:" + std::string(64, 'a'), "{}", "sha256:" + std::string(64, 'b'), 4096, cached};
  }
  int calls = 0;
  std::set<std::string> seen;
};

class ImageServiceTest : public ControlPlaneTest {};

TEST_F(ImageServiceTest, ImportsRecordOnceAndContainerAppsNeedAnImportedImage) {
  FakeImporter importer;
  auto noop = [](const ImportStep&) {};
  EXPECT_EQ(cp_->importImage(admin_, "a", "/x", "label", noop).status().code(), StatusCode::kUnavailable);
  cp_->useImageImporter(&importer);
  AppSpecPatch container;
  container.kind = "container";
  container.image = "sha256:" + std::string(64, 'a');
  auto refused = cp_->createApp(admin_, "a", "web", container);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("berth image import"), std::string::npos);

  std::vector<std::string> phases;
  auto first = cp_->importImage(admin_, "a", "/x", "label", [&](const ImportStep& s) { phases.push_back(s.phase); });
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_FALSE(first->second);
  EXPECT_EQ(phases, std::vector<std::string>{"unpack"});
  auto second = cp_->importImage(admin_, "a", "/x", "label", noop);
  ASSERT_TRUE(second.isOk());
  EXPECT_TRUE(second->second);
  EXPECT_EQ(cp_->listImages(admin_, "a")->size(), 1u);
  EXPECT_TRUE(cp_->createApp(admin_, "a", "web", container).isOk());

  const size_t events_before = events().size();
  EXPECT_EQ(cp_->importImage(admin_, "a", "bad", "label", noop).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(events().size(), events_before) << "a failed import records nothing";
  EXPECT_EQ(cp_->importImage(tokenFor(Role::kViewer, "a"), "a", "/x", "l", noop).status().code(),
            StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace berth::controlplane
