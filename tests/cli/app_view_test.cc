#include "cli/app_view.h"

#include <gtest/gtest.h>

#include <sstream>

namespace berth::cli {
namespace {

using nlohmann::json;

constexpr const char* kDigest = "sha256:3bf1b5e1d72413e3190068f7a880ed808092389f43a6f6cd1ced0dd54e00a7e8";

// An app as berthd renders it: its spec in the model's canonical form.
json appAnswer(const model::AppSpec& spec) {
  return {{"name", "web"},
          {"project", "demo"},
          {"release", 2},
          {"spec", model::appSpecToJson(spec)},
          {"status", {{"release", 2}, {"state", "running"}, {"detail", ""}}}};
}

model::AppSpec containerSpec() {
  model::AppSpec spec;
  spec.kind = "container";
  spec.image = kDigest;
  spec.ports = {{.port = 8080, .protocol = "tcp"}};
  return spec;
}

TEST(AppViewTest, ContainerAppWithoutCommandRunsItsImageEntrypoint) {
  std::ostringstream out;
  ASSERT_TRUE(writeApp(out, appAnswer(containerSpec())).isOk());
  EXPECT_EQ(out.str(),
            "Name:      web\n"
            "Project:   demo\n"
            "Release:   2\n"
            "State:     running r2\n"
            "Kind:      container\n"
            "Image:     " + std::string(kDigest) + "\n"
            "Command:   (image entrypoint)\n"
            "Ports:     8080/tcp\n"
            "Replicas:  1\n"
            "VM:        -\n");
}

TEST(AppViewTest, CommandIsShownWhenThereIsOne) {
  model::AppSpec spec = containerSpec();
  spec.command = {"nginx", "-g", "daemon off;"};
  EXPECT_EQ(commandText(spec), "nginx -g daemon off;");
  model::AppSpec process;
  process.image = kDigest;  // a bundle: it is not what runs
  EXPECT_EQ(commandText(process), "-");
}

TEST(AppViewTest, EveryFieldOfAProcessApp) {
  model::AppSpec spec;
  spec.command = {"busybox", "httpd", "-f"};
  spec.env = {{"B", "x=y"}, {"A", "1"}};
  spec.ports = {{.port = 8080, .protocol = "tcp"}, {.port = 53, .protocol = "udp"}};
  spec.vm = "vm-1";
  spec.secrets = {{.name = "DB", .as = "file", .version = 3}};
  spec.health = {.type = "exec", .command = {"test", "-f", "/ready"}};
  std::ostringstream out;
  ASSERT_TRUE(writeApp(out, appAnswer(spec)).isOk());
  EXPECT_EQ(out.str(),
            "Name:      web\n"
            "Project:   demo\n"
            "Release:   2\n"
            "State:     running r2\n"
            "Kind:      process\n"
            "Command:   busybox httpd -f\n"
            "Ports:     8080/tcp,53/udp\n"
            "Replicas:  1\n"
            "VM:        vm-1\n"
            "Env:       A=1\n"
            "Env:       B=x=y\n"
            "Secret:    DB v3 (file)\n"
            "Health:    exec: test -f /ready every 10000 ms, timeout 2000 ms, grace 5000 ms, 3 retries\n");
}

TEST(AppViewTest, MalformedSpecIsOneErrorAndNoOutput) {
  json answer = appAnswer(containerSpec());
  answer["spec"]["replicas"] = "three";
  std::ostringstream out;
  Status s = writeApp(out, answer);
  EXPECT_EQ(s.message(), "berthd's answer for app 'web' is malformed: spec.replicas has the wrong type");
  EXPECT_EQ(out.str(), "");
  answer.erase("spec");
  EXPECT_EQ(appRow(answer).status().message(), "berthd's answer for app 'web' is malformed: spec must be a JSON object");
}

TEST(AppViewTest, RowsSayWhatRuns) {
  auto app = appRow(appAnswer(containerSpec()));
  ASSERT_TRUE(app.isOk());
  EXPECT_EQ(*app, (Row{"web", "2", "running r2", "container", "1", "8080/tcp", "(image entrypoint)"}));
  json release = {{"number", 4},
                  {"spec", model::appSpecToJson(containerSpec())},
                  {"created_at", "2026-11-22T13:18:00.123Z"},
                  {"created_by", "tok_1"},
                  {"state", "running"},
                  {"rollback_of", 2},
                  {"automatic", true}};
  auto row = releaseRow(release);
  ASSERT_TRUE(row.isOk());
  EXPECT_EQ(*row, (Row{"4", "2026-11-22 13:18:00", "tok_1", "running, rollback of 2 (automatic)", "8080/tcp",
                       "(image entrypoint)"}));
}

}  // namespace
}  // namespace berth::cli
