#include "controlplane/service/image_service.h"

#include <gtest/gtest.h>

#include <set>

#include "services_fixture.h"

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

class ImageServiceTest : public ProjectTest {};

TEST_F(ImageServiceTest, ImportsRecordOnceAndContainerAppsNeedAnImportedImage) {
  FakeImporter importer;
  auto noop = [](const ImportStep&) {};
  EXPECT_EQ(services_->images.import(admin_, "a", "/x", "label", noop).status().code(), StatusCode::kUnavailable);
  services_->images.useImporter(&importer);
  AppSpecPatch container;
  container.kind = "container";
  container.image = "sha256:" + std::string(64, 'a');
  auto refused = services_->apps.create(admin_, "a", "web", container);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("berth image import"), std::string::npos);

  std::vector<std::string> phases;
  auto first =
      services_->images.import(admin_, "a", "/x", "label", [&](const ImportStep& s) { phases.push_back(s.phase); });
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_FALSE(first->second);
  EXPECT_EQ(phases, std::vector<std::string>{"unpack"});
  auto second = services_->images.import(admin_, "a", "/x", "label", noop);
  ASSERT_TRUE(second.isOk());
  EXPECT_TRUE(second->second);
  EXPECT_EQ(services_->images.list(admin_, "a")->size(), 1u);
  EXPECT_TRUE(services_->apps.create(admin_, "a", "web", container).isOk());

  const size_t events_before = events().size();
  EXPECT_EQ(services_->images.import(admin_, "a", "bad", "label", noop).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(events().size(), events_before) << "a failed import records nothing";
  EXPECT_EQ(services_->images.import(tokenFor(Role::kViewer, "a"), "a", "/x", "l", noop).status().code(),
            StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace berth::controlplane
