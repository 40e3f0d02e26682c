// The run_app request: command, environment and secrets, the offered image, a container's config,
// $PORT by slot, and the health check's port.

#include "agent/run_app_request.h"

#include <gtest/gtest.h>

namespace berth::agent {
namespace {

using Env = std::map<std::string, std::string>;
using Argv = std::vector<std::string>;

model::AppAssignment web() {
  model::AppAssignment app;
  app.project = "p";
  app.name = "web";
  app.vm = "vm";
  app.release = 4;
  app.spec.command = {"httpd", "-p", "$(PORT)"};
  app.spec.env = {{"MODE", "prod"}};
  app.spec.ports.push_back(model::PortSpec{8080, "tcp", 9000});
  return app;
}

Instance instance(int slot) { return Instance{"web-4", 4, "", slot, "", ""}; }

TEST(RunAppRequest, CarriesTheCommandEnvironmentAndPortOfTheInstancesSlot) {
  auto request = runAppRequest(web(), instance(1), false, std::nullopt);
  ASSERT_TRUE(request.isOk()) << request.status().toString();
  EXPECT_EQ(request->app, "web");
  EXPECT_EQ(request->instance, "web-4");
  EXPECT_FALSE(request->replace);
  EXPECT_EQ(request->argv, (Argv{"httpd", "-p", "$(PORT)"}));
  EXPECT_EQ(request->env, (Env{{"MODE", "prod"}, {"PORT", "18080"}}));
  EXPECT_FALSE(request->health);
  EXPECT_FALSE(request->image);
  // On the wire: replace is written only when false; no health, image or files.
  EXPECT_EQ(request->encode(), (nlohmann::json{{"app", "web"},
                                               {"instance", "web-4"},
                                               {"replace", false},
                                               {"argv", {"httpd", "-p", "$(PORT)"}},
                                               {"env", {{"MODE", "prod"}, {"PORT", "18080"}}}}));
}

TEST(RunAppRequest, SecretsGoToTheEnvironmentOrToRootOnlyFiles) {
  model::AppAssignment app = web();
  app.secrets = {{"TOKEN", "env", "t0k"}, {"tls.key", "file", "KEY"}};
  auto request = runAppRequest(app, instance(0), true, std::nullopt);
  ASSERT_TRUE(request.isOk());
  EXPECT_EQ(request->env.at("TOKEN"), "t0k");
  ASSERT_EQ(request->files.size(), 1u);
  EXPECT_EQ(request->files[0].path, "/run/secrets/web/tls.key");
  EXPECT_EQ(request->files[0].mode, 0400u);
  EXPECT_EQ(request->files[0].data, "KEY");
  EXPECT_EQ(request->encode()["files"][0]["data"], nlohmann::json::binary({'K', 'E', 'Y'}));

  app.secrets = {{"../x", "file", "v"}};
  EXPECT_EQ(runAppRequest(app, instance(0), true, std::nullopt).status().message(),
            "app 'web' names a malformed secret");
}

TEST(RunAppRequest, NamesTheOfferedImageAndTheRelay) {
  auto request = runAppRequest(web(), instance(0), true, OfferedImage{"sha256:ab", 4096, "port:org.berth.images.0"});
  ASSERT_TRUE(request.isOk());
  ASSERT_TRUE(request->image);
  EXPECT_EQ(*request->image, (guest::RunAppRequest::Image{"sha256:ab", 4096, "port:org.berth.images.0"}));
  const nlohmann::json body = request->encode();
  EXPECT_EQ(body["image_digest"], "sha256:ab");
  EXPECT_EQ(body["image_size"], 4096);
  EXPECT_EQ(body["image_source"], "port:org.berth.images.0");
}

TEST(RunAppRequest, AHealthCheckProbesTheInstancesOwnPort) {
  model::AppAssignment app = web();
  app.spec.health.type = "http";
  auto request = runAppRequest(app, instance(1), false, std::nullopt);
  ASSERT_TRUE(request.isOk());
  ASSERT_TRUE(request->health);
  EXPECT_EQ(request->health->type, "http");
  EXPECT_EQ(request->health->port, 18080);
  EXPECT_EQ(request->encode()["health"], (nlohmann::json{{"type", "http"},
                                                         {"port", 18080},
                                                         {"path", "/"},
                                                         {"interval_ms", 10000},
                                                         {"timeout_ms", 2000},
                                                         {"grace_ms", 5000},
                                                         {"retries", 3}}));

  app.spec.ports.clear();
  EXPECT_EQ(runAppRequest(app, instance(0), true, std::nullopt).status().message(),
            "an http or tcp health check needs a port");
  app.spec.health.type = "exec";
  app.spec.health.command = {"true"};
  request = runAppRequest(app, instance(0), true, std::nullopt);
  ASSERT_TRUE(request.isOk());
  ASSERT_TRUE(request->health);
  EXPECT_EQ(request->health->argv, Argv{"true"});
  EXPECT_EQ(request->health->port, 0);
}

TEST(RunAppRequest, AContainerTakesWhatItsSpecLeavesOutFromItsImage) {
  model::AppAssignment app = web();
  app.spec.kind = "container";
  app.spec.command.clear();
  app.spec.resources.memory_mib = 256;
  app.spec.resources.pids = 64;
  model::ContainerImage image;
  image.rootfs_digest = "sha256:cd";
  image.config.entrypoint = {"/docker-entrypoint.sh"};
  image.config.cmd = {"nginx", "-g", "daemon off;"};
  image.config.env = {"PATH=/usr/bin", "MODE=dev"};
  image.config.working_dir = "/srv";
  image.config.user = "101:102";
  app.image = image;
  auto request = runAppRequest(app, instance(0), true, OfferedImage{"sha256:cd", 1, "port:org.berth.images.0"});
  ASSERT_TRUE(request.isOk()) << request.status().toString();
  EXPECT_EQ(request->argv, (Argv{"/docker-entrypoint.sh", "nginx", "-g", "daemon off;"}));
  // The spec's environment wins over the image's.
  EXPECT_EQ(request->env, (Env{{"PATH", "/usr/bin"}, {"MODE", "prod"}, {"PORT", "8080"}}));
  EXPECT_EQ(request->cwd, "/srv");
  EXPECT_EQ(request->uid, 101u);
  EXPECT_EQ(request->gid, 102u);
  EXPECT_TRUE(request->container);
  EXPECT_EQ(request->limits, (guest::RunAppRequest::Limits{256u << 20, 0, 64}));
  const nlohmann::json body = request->encode();
  EXPECT_EQ(body["memory_max"], 256 << 20);
  EXPECT_EQ(body["pids_max"], 64);
  EXPECT_FALSE(body.contains("cpu_max_millis"));

  app.image->config.user = "www-data";
  EXPECT_EQ(runAppRequest(app, instance(0), true, OfferedImage{"sha256:cd", 1, "port:org.berth.images.0"}).status().message(),
            "the image's USER 'www-data' is not numeric, so it cannot be run");
}

TEST(RunAppRequest, AnAppWithoutACommandCannotRun) {
  model::AppAssignment app = web();
  app.spec.command.clear();
  EXPECT_EQ(runAppRequest(app, instance(0), true, std::nullopt).status().message(), "app has no command");
}

}  // namespace
}  // namespace berth::agent
