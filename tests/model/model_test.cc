#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/app_spec.h"
#include "model/node_protocol.h"

namespace berth::model {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

AppSpec fullSpec() {
  AppSpec spec;
  spec.kind = "container";
  spec.image = "sha256:" + std::string(64, 'a');
  spec.command = {"/bin/web", "--port", "$(PORT)"};
  spec.env = {{"MODE", "prod"}};
  spec.ports = {{8080, "tcp", 18080}, {9090, "tcp", 0}};
  spec.replicas = 1;
  spec.vm = "web-1";
  spec.secrets = {{"DB_PASSWORD", "env", 2}, {"TLS_KEY", "file", 1}};
  spec.resources = {256, 500, 64};
  spec.restart = "on-failure";
  spec.health.type = "http";
  spec.health.path = "/healthz";
  spec.health.interval_ms = 1000;
  return spec;
}

TEST(AppSpecJsonTest, RoundTripsEveryField) {
  const AppSpec spec = fullSpec();
  auto back = appSpecFromJson(appSpecToJson(spec));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(*back, spec);
  auto from_text = appSpecFromJson(appSpecToJson(spec).dump());
  ASSERT_TRUE(from_text.isOk());
  EXPECT_EQ(*from_text, spec);
}

// Releases made before health checks were stored without "health": their text must not change,
// and reading them gives the struct's defaults (the only place defaults are written).
TEST(AppSpecJsonTest, AbsentMembersTakeTheStructDefaults) {
  auto spec = appSpecFromJson(json{{"command", {"true"}}, {"health", {{"type", "tcp"}}}});
  ASSERT_TRUE(spec.isOk());
  EXPECT_EQ(spec->kind, "process");
  EXPECT_EQ(spec->restart, "always");
  EXPECT_EQ(spec->replicas, 1);
  EXPECT_FALSE(spec->vm.has_value());
  const HealthSpec defaults;
  EXPECT_EQ(spec->health.interval_ms, defaults.interval_ms);
  EXPECT_EQ(spec->health.timeout_ms, defaults.timeout_ms);
  EXPECT_EQ(spec->health.grace_ms, defaults.grace_ms);
  EXPECT_EQ(spec->health.retries, defaults.retries);

  AppSpec no_check;
  no_check.command = {"true"};
  EXPECT_FALSE(appSpecToJson(no_check).contains("health"));
}

TEST(AppSpecJsonTest, AWrongTypeIsNamedAndNothingThrows) {
  auto bad_port = appSpecFromJson(json{{"ports", {{{"port", "eighty"}}}}});
  ASSERT_FALSE(bad_port.isOk());
  EXPECT_EQ(bad_port.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_port.status().message(), HasSubstr("spec.ports[0].port has the wrong type"));

  EXPECT_THAT(appSpecFromJson(json{{"health", "yes"}}).status().message(),
              HasSubstr("spec.health"));
  EXPECT_THAT(appSpecFromJson(json{{"command", {1, 2}}}).status().message(),
              HasSubstr("spec.command"));
  EXPECT_FALSE(appSpecFromJson(json::array()).isOk());
  EXPECT_FALSE(appSpecFromJson(std::string("{not json")).isOk());
}

TEST(AppSpecRulesTest, SpanFields) {
  AppSpec spec = fullSpec();
  EXPECT_TRUE(validateAppSpec(spec).isOk());
  spec.ports.push_back({8080, "tcp", 0});
  EXPECT_THAT(validateAppSpec(spec).message(), HasSubstr("port 8080/tcp is listed twice"));
  spec = fullSpec();
  spec.env["DB_PASSWORD"] = "x";
  EXPECT_THAT(validateAppSpec(spec).message(), HasSubstr("both an env variable and a secret"));
  spec = fullSpec();
  spec.replicas = 2;
  EXPECT_THAT(validateAppSpec(spec).message(), HasSubstr("pinned to VM 'web-1'"));
}

NodeAssignment sampleAssignment() {
  NodeAssignment a;
  a.revision = 42;
  a.vms.push_back({"shop", "web-1", 2, 1024, 4, "qemu", "microvm", "running", 3, "10.64.3.2"});
  a.networks.push_back({"shop",
                        "10.64.3.0/24",
                        "10.64.3.1",
                        "deny",
                        {{"web-1.shop.internal", "10.64.3.2"}, {"web.shop.internal", "10.64.3.2"}},
                        0x0A4003,
                        {{"n2", "192.0.2.2", {{"db-1", "10.64.3.3"}}}}});
  AppAssignment app{"shop",       "web",
                    "web-1",      7,
                    fullSpec(),   {{"DB_PASSWORD", "env", "hunter2"}},
                    std::nullopt, {"shop.example.com", "web.shop.berth.example"}};
  app.image =
      ContainerImage{"sha256:" + std::string(64, 'b'),
                     "sha256:" + std::string(64, 'c'),
                     4096,
                     {{"/entry"}, {"serve"}, {"PATH=/bin"}, "/srv", "1000:1000", {"8080/tcp"}}};
  a.apps.push_back(app);
  return a;
}

TEST(NodeAssignmentJsonTest, RoundTripsWithSecretsAndImagesOnTheirApp) {
  const NodeAssignment a = sampleAssignment();
  const json j = nodeAssignmentToJson(a);
  EXPECT_EQ(j["apps"][0]["secrets"][0]["value"], "hunter2");
  EXPECT_EQ(j["apps"][0]["image"]["config"]["working_dir"], "/srv");
  EXPECT_EQ(j["vms"][0]["address"], "10.64.3.2");
  EXPECT_EQ(j["networks"][0]["gateway"], "10.64.3.1");
  EXPECT_EQ(j["networks"][0]["hosts"][1]["name"], "web.shop.internal");
  EXPECT_EQ(j["networks"][0]["vni"], 0x0A4003);
  EXPECT_EQ(j["networks"][0]["peers"][0]["address"], "192.0.2.2");
  EXPECT_EQ(j["networks"][0]["peers"][0]["vms"][0]["name"], "db-1");
  auto back = nodeAssignmentFromJson(json::parse(j.dump()));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(*back, a);
}

TEST(NodeAssignmentJsonTest, AMalformedMemberIsNamed) {
  json j = nodeAssignmentToJson(sampleAssignment());
  j["apps"][0]["release"] = "seven";
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(),
              HasSubstr("apps[0].release has the wrong type"));
  j = nodeAssignmentToJson(sampleAssignment());
  j["vms"][0]["power"] = 1;
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(), HasSubstr("vms[0].power"));
  j = nodeAssignmentToJson(sampleAssignment());
  j["apps"][0]["spec"]["ports"] = "all";
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(), HasSubstr("apps[0].spec"));
  EXPECT_FALSE(nodeAssignmentFromJson(json("nothing")).isOk());
}

TEST(NodeAssignmentJsonTest, AMalformedNetworkIsNamed) {
  json j = nodeAssignmentToJson(sampleAssignment());
  j["vms"][0]["address"] = 10;
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(),
              HasSubstr("vms[0].address has the wrong type"));
  j = nodeAssignmentToJson(sampleAssignment());
  j["networks"] = {{"project", "shop"}};
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(),
              HasSubstr("networks has the wrong type"));
  j = nodeAssignmentToJson(sampleAssignment());
  j["networks"][0]["egress"] = false;
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(),
              HasSubstr("networks[0].egress has the wrong type"));
  j = nodeAssignmentToJson(sampleAssignment());
  j["networks"][0]["hosts"][1]["address"] = json::array();
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(),
              HasSubstr("networks[0].hosts[1].address has the wrong type"));
  j = nodeAssignmentToJson(sampleAssignment());
  j["networks"][0]["hosts"] = "everyone";
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(),
              HasSubstr("networks[0].hosts has the wrong type"));
  j = nodeAssignmentToJson(sampleAssignment());
  j["networks"][0]["vni"] = "blue";
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(),
              HasSubstr("networks[0].vni has the wrong type"));
  j = nodeAssignmentToJson(sampleAssignment());
  j["networks"][0]["peers"][0]["vms"][0]["address"] = 3;
  EXPECT_THAT(nodeAssignmentFromJson(j).status().message(),
              HasSubstr("networks[0].peers[0].vms[0].address has the wrong type"));
}

TEST(NodeAssignmentJsonTest, AnAssignmentWithoutNetworksReadsAsNone) {
  // What a berthd that allocates no networks sends: no address, no networks member.
  json j = nodeAssignmentToJson(sampleAssignment());
  j.erase("networks");
  j["vms"][0].erase("address");
  auto back = nodeAssignmentFromJson(j);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_TRUE(back->networks.empty());
  EXPECT_EQ(back->vms[0].address, "");
  // A berthd before overlays: a network without vni and peers is this node's alone.
  j = nodeAssignmentToJson(sampleAssignment());
  j["networks"][0].erase("vni");
  j["networks"][0].erase("peers");
  back = nodeAssignmentFromJson(j);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->networks[0].vni, 0);
  EXPECT_TRUE(back->networks[0].peers.empty());
  ProjectNetwork defaults;
  EXPECT_EQ(defaults.egress, "allow");
}

TEST(NodeReportJsonTest, ServingReleaseOnlyWhenSet) {
  NodeReport r;
  r.vms.push_back({"shop", "web-1", "running", ""});
  r.apps.push_back({"shop", "web", 3, "running", "", 0, "web-1"});
  r.apps.push_back({"shop", "api", 5, "failed", "not healthy in time", 4, "web-1"});
  const json j = nodeReportToJson(r);
  EXPECT_FALSE(j["apps"][0].contains("serving_release"));
  EXPECT_EQ(j["apps"][1]["serving_release"], 4);
  EXPECT_EQ(j["apps"][1]["vm"], "web-1");
  EXPECT_EQ(j["vms"][0]["state"], "running");
}

TEST(NodeRegistrationJsonTest, AddressAndIngressOnlyWhenKnown) {
  const json j = nodeRegistrationToJson({"node-1", "", {8, 4096, 100}, {}});
  EXPECT_EQ(j["capacity"]["memory_mib"], 4096);
  EXPECT_FALSE(j.contains("address"));
  EXPECT_FALSE(j.contains("ingress"));
  EXPECT_EQ(nodeRegistrationToJson({"node-1", "10.0.0.2", {}, {}})["address"], "10.0.0.2");
  const json ingress = nodeRegistrationToJson(
      {"node-1", "", {}, {80, 443, "-----BEGIN CERTIFICATE-----\n"}})["ingress"];
  EXPECT_EQ(
      ingress,
      (json{{"http_port", 80}, {"https_port", 443}, {"ca", "-----BEGIN CERTIFICATE-----\n"}}));
}

}  // namespace
}  // namespace berth::model
