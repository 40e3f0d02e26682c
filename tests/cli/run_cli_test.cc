// runCli in-process: usage errors exit 2, missing login exits 1 with one line, and commands
// against a fake API client that answers canned bodies.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "cli/context.h"
#include "model/app_spec.h"

namespace berth::cli {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run(std::vector<const char*> args) {
  args.insert(args.begin(), "berth");
  std::ostringstream out, err;
  int code = runCli(static_cast<int>(args.size()), args.data(), {{"HOME", "/nonexistent"}}, out, err);
  return {code, out.str(), err.str()};
}

// Answers GETs of known paths with their bodies, anything else with NotFound.
class FakeApi : public client::ApiClient {
 public:
  explicit FakeApi(std::map<std::string, nlohmann::json> answers) : answers_(std::move(answers)) {}
  Result<client::ApiResponse> get(const std::string& path) override {
    auto it = answers_.find(path);
    if (it == answers_.end()) return notFound("no answer for GET " + path);
    return client::ApiResponse{200, it->second};
  }
  Result<client::ApiResponse> post(const std::string& path, const nlohmann::json&) override { return refused(path); }
  Result<client::ApiResponse> patch(const std::string& path, const nlohmann::json&) override { return refused(path); }
  Result<client::ApiResponse> del(const std::string& path) override { return refused(path); }
  Result<client::ApiResponse> postBytes(const std::string& path, const std::string&, const std::string&) override {
    return refused(path);
  }
  Result<std::string> download(const std::string& path, std::uint64_t) override { return refused(path).status(); }
  Status stream(const client::StreamRequest& r, const std::function<bool(const client::SseEvent&)>&) override {
    return refused(r.path).status();
  }
  const std::string& url() const override { return url_; }

 private:
  static Result<client::ApiResponse> refused(const std::string& path) { return permissionDenied("fake: " + path); }
  std::map<std::string, nlohmann::json> answers_;
  std::string url_ = "http://fake";
};

CliRun runAgainst(std::map<std::string, nlohmann::json> answers, std::vector<const char*> args) {
  args.insert(args.begin(), "berth");
  std::ostringstream out, err;
  auto fake = [&answers](const std::string&, std::string) -> Result<std::unique_ptr<client::ApiClient>> {
    return std::unique_ptr<client::ApiClient>(std::make_unique<FakeApi>(answers));
  };
  int code = runCli(static_cast<int>(args.size()), args.data(),
                    {{"HOME", "/nonexistent"}, {"BERTH_URL", "http://fake"}, {"BERTH_TOKEN", "t"}}, out, err, fake);
  return {code, out.str(), err.str()};
}

constexpr const char* kDigest = "sha256:3bf1b5e1d72413e3190068f7a880ed808092389f43a6f6cd1ced0dd54e00a7e8";

nlohmann::json containerApp() {
  model::AppSpec spec;
  spec.kind = "container";
  spec.image = kDigest;
  return {{"name", "web"}, {"project", "demo"}, {"release", 1}, {"spec", model::appSpecToJson(spec)},
          {"status", {{"release", 0}, {"state", "pending"}, {"detail", ""}}}};
}

TEST(RunCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"project"}).code, 2);
  EXPECT_EQ(run({"vm", "create", "web"}).code, 2);  // --project missing
  CliRun r = run({"token", "create", "x", "--role", "root"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("berth: ", 0), 0u);
}

TEST(RunCliTest, HelpExitsZeroWithExamples) {
  CliRun r = run({"vm", "create", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("EXAMPLES:\n  berth vm create web --project demo"), std::string::npos);
}

TEST(RunCliTest, NotLoggedInIsOneLineAndExitOne) {
  CliRun r = run({"project", "ls"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "berth: not logged in; run 'berth login URL --token-file FILE'\n");
}

TEST(RunCliTest, BadFlagValueIsOneLineAndExitOne) {
  CliRun r = run({"--url", "http://127.0.0.1:1", "app", "create", "x", "-p", "demo", "--port", "99999", "--cmd", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "berth: --port must be PORT or PORT/tcp or PORT/udp with PORT in 1..65535, not '99999'\n");
}

TEST(RunCliTest, AppShowSaysAContainerAppRunsItsImageEntrypoint) {
  CliRun r = runAgainst({{"/v1/projects/demo/apps/web", containerApp()}}, {"app", "show", "web", "-p", "demo"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Name:      web\n"
            "Project:   demo\n"
            "Release:   1\n"
            "State:     pending\n"
            "Kind:      container\n"
            "Image:     " + std::string(kDigest) + "\n"
            "Command:   (image entrypoint)\n"
            "Ports:     -\n"
            "Replicas:  1\n"
            "VM:        -\n");
}

TEST(RunCliTest, AppListsCommandColumnIsNotTheImage) {
  nlohmann::json page = {{"items", {containerApp()}}, {"next", nullptr}};
  CliRun r = runAgainst({{"/v1/projects/demo/apps?limit=1000", page}}, {"app", "ls", "-p", "demo"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME   RELEASE   STATE     KIND        REPLICAS   PORTS   COMMAND\n"
            "web    1         pending   container   1          -       (image entrypoint)\n");
}

TEST(RunCliTest, MalformedAppFromBerthdIsOneLineAndExitOne) {
  nlohmann::json app = containerApp();
  app["spec"]["ports"] = "8080";
  CliRun r = runAgainst({{"/v1/projects/demo/apps/web", app}}, {"app", "show", "web", "-p", "demo"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "berth: berthd's answer for app 'web' is malformed: spec.ports has the wrong type\n");
  // --json passes berthd's answer through as it is.
  r = runAgainst({{"/v1/projects/demo/apps/web", app}}, {"app", "show", "web", "-p", "demo", "--json"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out), app);
}

}  // namespace
}  // namespace berth::cli
