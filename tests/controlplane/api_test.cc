#include "controlplane/api/api.h"

#include <gtest/gtest.h>

#include "os/temp_dir.h"
#include "store/sqlite_store.h"

namespace berth::controlplane {
namespace {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.emplace(std::move(os::TempDir::create("berth-api-").value()));
    store_ = std::move(store::SqliteStore::open(dir_->path() + "/berth.db").value());
    services_ = std::make_unique<Services>(*store_, clock_);
    secret_ = **services_->tokens.bootstrapAdminToken();
    ApiOptions options;
    options.auth_failures = RateLimit{0.2, 3};
    api_ = std::make_unique<Api>(*services_, clock_, options);
  }

  HttpResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& token = "", const std::string& content_type = "application/json") {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.remote_address = "192.0.2.1";
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) r.headers["content-type"] = content_type;
    return api_->handle(r);
  }

  static std::string code(const HttpResponse& r) {
    return nlohmann::json::parse(r.body)["error"]["code"].get<std::string>();
  }

  FakeClock clock_;
  std::optional<os::TempDir> dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Services> services_;
  std::unique_ptr<Api> api_;
  std::string secret_;
};

TEST_F(ApiTest, HealthNeedsNoTokenButEverythingElseDoes) {
  EXPECT_EQ(call("GET", "/v1/healthz").status, 200);
  auto r = call("GET", "/v1/projects");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), "unauthenticated");
  EXPECT_EQ(call("GET", "/v1/projects", "", secret_).status, 200);
}

TEST_F(ApiTest, RepeatedBadTokensAreSlowedDownEvenForGoodOnes) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call("GET", "/v1/projects", "", "berth_bad").status, 401);
  auto blocked = call("GET", "/v1/projects", "", secret_);
  EXPECT_EQ(blocked.status, 429);
  EXPECT_EQ(code(blocked), "rate_limited");
  clock_.advance(std::chrono::seconds(5));
  EXPECT_EQ(call("GET", "/v1/projects", "", secret_).status, 200);
}

TEST_F(ApiTest, RoutingErrors) {
  auto r = call("PUT", "/v1/projects", "", secret_);
  EXPECT_EQ(r.status, 405);
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "POST, GET");
  EXPECT_EQ(call("GET", "/v1/nope", "", secret_).status, 404);
  auto media = call("POST", "/v1/projects", "{\"name\":\"x\"}", secret_, "text/plain");
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(code(media), "unsupported_media_type");
}

TEST_F(ApiTest, CreateAnswers201WithEtagAndBadInputWritesNothing) {
  auto created = call("POST", "/v1/projects", R"({"name":"demo","quotas":{"vms":2}})", secret_);
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.headers[0], (std::pair<std::string, std::string>{"ETag", "\"1\""}));
  int64_t events = store_->lastEventSeq();
  for (const char* bad : {R"({"name":"Demo2"})", R"({"name":"d2","quotas":{"vms":-1}})", R"({"name":"d2","x":1})",
                          R"({"name":"d2","quotas":[]})", "not json"}) {
    auto r = call("POST", "/v1/projects", bad, secret_);
    EXPECT_EQ(r.status, 400) << bad;
  }
  EXPECT_EQ(store_->lastEventSeq(), events);
  EXPECT_EQ(call("GET", "/v1/projects/d2", "", secret_).status, 404);
}

}  // namespace
}  // namespace berth::controlplane
