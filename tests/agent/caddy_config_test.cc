// The document the agent loads into Caddy: routes by host to the given backends, the admin API
// only on the agent's unix socket, certificates from the CA the operator chose.

#include "agent/ingress/caddy_config.h"

#include <gtest/gtest.h>

namespace berth::agent {
namespace {

using nlohmann::json;

const CaddyFiles kFiles{"/var/lib/berth-agent/ingress/admin.sock",
                        "/var/lib/berth-agent/ingress/storage"};

TEST(CaddyConfig, RoutesEachHostToItsBackendsAndEverythingElseToA404) {
  IngressSettings settings{"", 7080, 7443, "internal", ""};
  const json config = caddyConfig(settings, kFiles,
                                  {{"shop.example.com", {"10.64.0.2:8080", "10.64.0.3:8080"}},
                                   {"a.example.org", {"127.0.0.1:40001"}}});
  const json& server = config["apps"]["http"]["servers"]["berth"];
  EXPECT_EQ(server["listen"], json::array({":7443"}));
  EXPECT_EQ(config["apps"]["http"]["http_port"], 7080);
  // Left at 443 so that the redirect from 7080 names port 7443.
  EXPECT_FALSE(config["apps"]["http"].contains("https_port"));
  const json& routes = server["routes"];
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0]["match"][0]["host"], json::array({"a.example.org"}));
  EXPECT_EQ(routes[1]["match"][0]["host"], json::array({"shop.example.com"}));
  const json& proxy = routes[1]["handle"][0];
  EXPECT_EQ(proxy["handler"], "reverse_proxy");
  EXPECT_EQ(proxy["upstreams"],
            json::parse(R"([{"dial":"10.64.0.2:8080"},{"dial":"10.64.0.3:8080"}])"));
  EXPECT_EQ(routes[1]["terminal"], true);
  EXPECT_FALSE(routes[2].contains("match"));
  EXPECT_EQ(routes[2]["handle"][0]["status_code"], 404);
}

TEST(CaddyConfig, DrainingBackendsStayReferencedByARouteNoRequestMatches) {
  const json config = caddyConfig(IngressSettings{}, kFiles,
                                  {{"shop.example.com", {"10.64.0.2:18080"}}}, {"10.64.0.2:8080"});
  const json& routes = config["apps"]["http"]["servers"]["berth"]["routes"];
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[1]["handle"][0]["upstreams"], json::parse(R"([{"dial":"10.64.0.2:8080"}])"));
  EXPECT_EQ(routes[1]["match"],
            json::parse(R"([{"remote_ip":{"ranges":["255.255.255.255/32"]}}])"));
}

TEST(CaddyConfig, TheAdminApiIsOnlyTheAgentsSocketAndNothingIsPersisted) {
  const json config = caddyConfig(IngressSettings{}, kFiles, {});
  EXPECT_EQ(config["admin"]["listen"], "unix//var/lib/berth-agent/ingress/admin.sock");
  EXPECT_EQ(config["admin"]["origins"], json::array({kCaddyAdminOrigin}));
  EXPECT_EQ(config["admin"]["config"]["persist"], false);
  EXPECT_EQ(caddyBootstrapConfig(kFiles), json({{"admin", config["admin"]}}));
  EXPECT_EQ(config["storage"]["root"], kFiles.storage_dir);
  // No domain: no server, so nothing listens.
  EXPECT_TRUE(config["apps"]["http"]["servers"].empty());
}

TEST(CaddyConfig, CertificatesComeFromAcmeOrFromTheIngresssOwnCa) {
  IngressSettings acme{"192.0.2.10", 80, 443, "acme", "ops@example.com"};
  json config = caddyConfig(acme, kFiles, {{"shop.example.com", {"10.64.0.2:8080"}}});
  EXPECT_EQ(config["apps"]["tls"]["automation"]["policies"][0]["issuers"],
            json::parse(R"([{"module":"acme","email":"ops@example.com"}])"));
  EXPECT_EQ(config["apps"]["http"]["servers"]["berth"]["listen"], json::array({"192.0.2.10:443"}));

  IngressSettings internal{"", 80, 443, "internal", ""};
  config = caddyConfig(internal, kFiles, {});
  EXPECT_EQ(config["apps"]["tls"]["automation"]["policies"][0]["issuers"],
            json::parse(R"([{"module":"internal"}])"));
  // Never into the host's trust store: the CA is exported (berth domain ca), not installed.
  EXPECT_EQ(config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"], false);
}

}  // namespace
}  // namespace berth::agent
