#include "controlplane/service/domain_service.h"

#include <gtest/gtest.h>

#include "controlplane/service/host_name.h"
#include "controlplane/service/scheduler.h"
#include "services_fixture.h"

namespace berth::controlplane {
namespace {

TEST(HostNameTest, NormalizesCaseAndTheTrailingDot) {
  EXPECT_EQ(normalizeHostName("Shop.Example.COM.", "x").value(), "shop.example.com");
  EXPECT_EQ(normalizeHostName("a-1.b2.example", "x").value(), "a-1.b2.example");
  EXPECT_EQ(normalizeHostName("xn--bcher-kva.example", "x").value(), "xn--bcher-kva.example");
  EXPECT_EQ(normalizeHostName(std::string(63, 'a') + ".example.com", "x")->size(), 63u + 12u);
}

TEST(HostNameTest, RefusesWhatIsNotAHostNameSayingWhy) {
  const std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                std::string(63, 'c') + "." + std::string(60, 'd') + ".com";  // 254
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "is empty"},
      {".", "is empty"},
      {"localhost", "single label"},
      {"*.example.com", "wildcard"},
      {"-a.example.com", "may not start or end with '-'"},
      {"a-.example.com", "may not start or end with '-'"},
      {"a_b.example.com", "only a-z, 0-9 and '-'"},
      {"ex ample.com", "only a-z, 0-9 and '-'"},
      {"shop.example.com:443", "only a-z, 0-9 and '-'"},
      {"10.0.0.1", "IP address"},
      {"a..example.com", "empty label"},
      {".example.com", "empty label"},
      {"web.demo.internal", ".internal"},
      {std::string(64, 'a') + ".example.com", "longer than 63"},
      {long_name, "at most 253"},
  };
  for (const auto& [name, why] : bad) {
    auto r = normalizeHostName(name, "domain 'x'");
    ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(r.status().message().find(why), std::string::npos)
        << name << ": " << r.status().message();
    EXPECT_EQ(r.status().message().rfind("domain 'x'", 0), 0u) << r.status().message();
  }
}

TEST(HostNameTest, ANameIsWithinADomainOnlyAtALabelBoundary) {
  EXPECT_TRUE(isWithinDomain("apps.example.com", "apps.example.com"));
  EXPECT_TRUE(isWithinDomain("web.demo.apps.example.com", "apps.example.com"));
  EXPECT_FALSE(isWithinDomain("myapps.example.com", "apps.example.com"));
  EXPECT_FALSE(isWithinDomain("example.com", "apps.example.com"));
  EXPECT_FALSE(isWithinDomain("example.com", ""));
}

// Projects "a" (with apps web and api) and "b" (with app shop) on a berthd whose base domain is
// apps.test, and one node n1.
class DomainsTest : public ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    services_ =
        std::make_unique<Services>(*store_, clock_, NetworkPool{}, HostPortRange{}, "apps.test");
    ASSERT_TRUE(services_->projects.create(admin_, "b", ProjectPatch{}).isOk());
    for (const auto& [project, app] :
         {std::pair{"a", "web"}, std::pair{"a", "api"}, std::pair{"b", "shop"}}) {
      ASSERT_TRUE(services_->apps.create(admin_, project, app, publishing(0)).isOk()) << app;
    }
  }

  static AppSpecPatch publishing(int64_t host_port) {
    AppSpecPatch p;
    p.command = std::vector<std::string>{"httpd"};
    p.replicas = 1;
    p.ports = std::vector<model::PortSpec>{{8080, "tcp", host_port}};
    return p;
  }

  Result<DomainAdded> add(const std::string& project, const std::string& app,
                          const std::string& name) {
    return services_->domains.add(admin_, project, app, name);
  }

  std::vector<std::string> names(const std::string& project) {
    std::vector<std::string> out;
    auto domains = services_->domains.list(admin_, project);
    EXPECT_TRUE(domains.isOk()) << domains.status().toString();
    if (!domains.isOk()) return out;
    for (const auto& d : domains.value()) out.push_back(d.app + ":" + d.name);
    return out;
  }

  Status registerNode(store::Node n) {
    n.name = "n1";
    n.vcpus = 8;
    n.memory_mib = 8192;
    n.disk_gib = 100;
    return services_->nodes.registerNode(admin_, n).status();
  }
};

TEST_F(DomainsTest, AddListAndRemoveAreRecordedAsEvents) {
  auto added = add("a", "web", "WWW.Shop.Test.");
  ASSERT_TRUE(added.isOk()) << added.status().toString();
  EXPECT_TRUE(added->created);
  EXPECT_EQ(added->domain,
            (store::Domain{"www.shop.test", "a", "web", clock_.wallMillis(), admin_.token_id}));
  ASSERT_TRUE(add("a", "api", "api.shop.test").isOk());
  EXPECT_EQ(events().back().action, "domain.add");
  EXPECT_EQ(events().back().object, "projects/a/domains/api.shop.test");
  EXPECT_EQ(events().back().details_json, R"({"app":"api"})");
  EXPECT_EQ(names("a"), (std::vector<std::string>{"api:api.shop.test", "web:www.shop.test"}));

  // Adding it again to the same app changes nothing.
  const size_t before = events().size();
  auto again = add("a", "web", "www.shop.test");
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(events().size(), before);

  ASSERT_TRUE(services_->domains.remove(admin_, "a", "WWW.shop.test").isOk());
  EXPECT_EQ(events().back().action, "domain.remove");
  EXPECT_EQ(events().back().details_json, R"({"app":"web"})");
  EXPECT_EQ(names("a"), (std::vector<std::string>{"api:api.shop.test"}));
}

TEST_F(DomainsTest, ANameHeldElsewhereIsAConflictThatNamesNoOtherProject) {
  ASSERT_TRUE(add("a", "web", "shop.test").isOk());
  const size_t before = events().size();
  auto taken = add("b", "shop", "Shop.Test");
  EXPECT_EQ(taken.status().code(), StatusCode::kConflict);
  EXPECT_EQ(taken.status().message(), "domain 'shop.test' is already in use");
  // The project's own other app is the caller's to know of.
  auto mine = add("a", "api", "shop.test");
  EXPECT_EQ(mine.status().code(), StatusCode::kConflict);
  EXPECT_NE(mine.status().message().find("app 'web'"), std::string::npos)
      << mine.status().message();
  EXPECT_EQ(events().size(), before);
  EXPECT_EQ(names("b"), std::vector<std::string>{});

  // Another project's name is as absent as one nobody holds, and stays.
  auto other = services_->domains.remove(admin_, "b", "shop.test");
  EXPECT_EQ(other.code(), StatusCode::kNotFound);
  EXPECT_EQ(other.message(), "domain 'shop.test' does not exist in project 'b'");
  EXPECT_EQ(services_->domains.remove(admin_, "b", "nobody.test").message(),
            "domain 'nobody.test' does not exist in project 'b'");
  EXPECT_EQ(names("a"), std::vector<std::string>{"web:shop.test"});
}

TEST_F(DomainsTest, NamesUnderTheBaseDomainBadNamesAndMissingAppsAreRefusedBeforeAnyWrite) {
  const size_t before = events().size();
  for (const char* platform :
       {"apps.test", "web.a.apps.test", "shop.b.apps.test", "x.y.apps.test"}) {
    auto r = add("a", "web", platform);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << platform;
    EXPECT_NE(r.status().message().find("base domain 'apps.test'"), std::string::npos)
        << r.status().message();
  }
  EXPECT_EQ(add("a", "web", "*.shop.test").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(add("a", "web", "127.0.0.1").status().code(), StatusCode::kInvalidArgument);
  auto missing = add("a", "nope", "shop.test");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "app 'nope' does not exist in project 'a'");
  EXPECT_EQ(events().size(), before);
  EXPECT_TRUE(add("a", "web", "myapps.test").isOk());
}

TEST_F(DomainsTest, DeployersAddViewersOnlyList) {
  ASSERT_TRUE(
      services_->domains.add(tokenFor(Role::kDeployer, "a"), "a", "web", "shop.test").isOk());
  Principal viewer = tokenFor(Role::kViewer, "a");
  EXPECT_EQ(services_->domains.list(viewer, "a")->size(), 1u);
  EXPECT_EQ(services_->domains.add(viewer, "a", "web", "two.test").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->domains.remove(viewer, "a", "shop.test").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->domains.list(tokenFor(Role::kViewer, "b"), "a").status().code(),
            StatusCode::kNotFound);
}

TEST_F(DomainsTest, AProjectHoldsAtMostAHundred) {
  for (int i = 0; i < DomainService::kMaxPerProject; ++i) {
    ASSERT_TRUE(add("a", i % 2 ? "web" : "api", "n" + std::to_string(i) + ".shop.test").isOk())
        << i;
  }
  auto over = add("a", "web", "one-more.shop.test");
  EXPECT_EQ(over.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(over.status().message().find("the most a project may have"), std::string::npos);
  EXPECT_TRUE(add("b", "shop", "one-more.shop.test").isOk());  // per project
}

TEST_F(DomainsTest, DeletingTheAppReleasesItsNames) {
  ASSERT_TRUE(add("a", "web", "shop.test").isOk());
  ASSERT_TRUE(add("a", "api", "api.shop.test").isOk());
  ASSERT_TRUE(services_->apps.remove(admin_, "a", "web", std::nullopt).isOk());
  EXPECT_EQ(names("a"), std::vector<std::string>{"api:api.shop.test"});
  EXPECT_TRUE(add("b", "shop", "shop.test").isOk());
}

TEST_F(DomainsTest, AnAssignmentCarriesTheAppsDomainsAndItsDefaultName) {
  ASSERT_TRUE(registerNode({}).isOk());
  ASSERT_TRUE(add("a", "web", "www.shop.test").isOk());
  ASSERT_TRUE(add("a", "web", "shop.test").isOk());
  ASSERT_TRUE(add("a", "api", "api.shop.test").isOk());
  Scheduler scheduler(*store_, clock_, SchedulerOptions{std::chrono::seconds(30)});
  ASSERT_TRUE(scheduler.runOnce().isOk());

  auto assignment = services_->nodes.assignment(admin_, "n1");
  ASSERT_TRUE(assignment.isOk()) << assignment.status().toString();
  std::map<std::string, std::vector<std::string>> domains;
  for (const auto& app : assignment->apps) domains[app.project + "/" + app.name] = app.domains;
  EXPECT_EQ(domains["a/web"],
            (std::vector<std::string>{"shop.test", "web.a.apps.test", "www.shop.test"}));
  EXPECT_EQ(domains["a/api"], (std::vector<std::string>{"api.a.apps.test", "api.shop.test"}));
  EXPECT_EQ(domains["b/shop"], (std::vector<std::string>{"shop.b.apps.test"}));

  // Without a base domain, only the project's own names.
  Services plain(*store_, clock_);
  auto without = plain.nodes.assignment(admin_, "n1");
  ASSERT_TRUE(without.isOk());
  for (const auto& app : without->apps) {
    if (app.name == "shop") {
      EXPECT_EQ(app.domains, std::vector<std::string>{});
    }
    if (app.name == "api") {
      EXPECT_EQ(app.domains, std::vector<std::string>{"api.shop.test"});
    }
  }
}

TEST_F(DomainsTest, AnAppShowsItsNamesAndWhereItAnswers) {
  store::Node node;
  node.ingress_http_port = 8080;
  node.ingress_https_port = 8443;
  ASSERT_TRUE(registerNode(node).isOk());
  ASSERT_TRUE(services_->apps.update(admin_, "a", "web", publishing(18080), std::nullopt).isOk());
  ASSERT_TRUE(add("a", "web", "shop.test").isOk());
  Scheduler scheduler(*store_, clock_, SchedulerOptions{std::chrono::seconds(30)});
  ASSERT_TRUE(scheduler.runOnce().isOk());

  auto web = services_->apps.get(admin_, "a", "web");
  ASSERT_TRUE(web.isOk());
  EXPECT_EQ(web->domains, (std::vector<std::string>{"shop.test", "web.a.apps.test"}));
  EXPECT_EQ(web->urls,
            (std::vector<std::string>{"https://shop.test:8443", "https://web.a.apps.test:8443",
                                      "http://127.0.0.1:18080"}));
  // Lists show the same; an ingress on 443 needs no port.
  node.ingress_https_port = 443;
  node.address = "10.1.2.3:7071";
  ASSERT_TRUE(registerNode(node).isOk());
  auto page = services_->apps.list(admin_, "a", "", 10);
  ASSERT_TRUE(page.isOk());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[1].urls,
            (std::vector<std::string>{"https://shop.test", "https://web.a.apps.test",
                                      "http://10.1.2.3:18080"}));
}

TEST_F(DomainsTest, ANodesIngressIsCheckedAndItsCaServedToAnyToken) {
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  Principal viewer = tokenFor(Role::kViewer, "b");
  EXPECT_EQ(services_->nodes.ingressCa(viewer).status().code(), StatusCode::kNotFound);

  const std::vector<std::tuple<int64_t, int64_t, std::string, std::string>> bad = {
      {0, 443, "", "ingress.http_port is required"},
      {80, 70000, "", "ingress.https_port must be 0..65535"},
      {-1, 443, "", "ingress.http_port must be 0..65535"},
      {80, 443, "not a certificate", "PEM certificate"},
      {80, 443, pem + std::string(16 * 1024, 'x'), "at most 16 KiB"},
  };
  for (const auto& [http, https, ca, why] : bad) {
    store::Node node;
    node.ingress_http_port = http;
    node.ingress_https_port = https;
    node.ingress_ca = ca;
    Status s = registerNode(node);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << why;
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
  }
  EXPECT_EQ(services_->nodes.list(admin_)->size(), 0u);  // nothing stored

  store::Node node;
  node.ingress_http_port = 80;
  node.ingress_https_port = 443;
  node.ingress_ca = pem;
  ASSERT_TRUE(registerNode(node).isOk());
  EXPECT_EQ(services_->nodes.list(admin_)->at(0).ingress_https_port, 443);
  EXPECT_EQ(services_->nodes.ingressCa(viewer).value(), pem);
}

}  // namespace
}  // namespace berth::controlplane
