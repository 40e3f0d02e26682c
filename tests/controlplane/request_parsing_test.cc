#include <gtest/gtest.h>

#include "controlplane/api/openapi.h"
#include "controlplane/api/request_context.h"
#include "controlplane/berthd_options.h"
#include "controlplane/http/http_types.h"

namespace berth::controlplane {
namespace {

TEST(QueryTest, DecodesPairs) {
  auto q = parseQuery("a=1&b=x%20y&c=p+q&flag&=&d=%zz");
  EXPECT_EQ(q["a"], "1");
  EXPECT_EQ(q["b"], "x y");
  EXPECT_EQ(q["c"], "p q");
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q["d"], "%zz");
}

HttpRequest withHeader(const std::string& name, const std::string& value) {
  HttpRequest r;
  r.headers[name] = value;
  return r;
}

TEST(IfMatchTest, AcceptsQuotedWeakBareAndStar) {
  EXPECT_EQ(*parseIfMatch(withHeader("if-match", "\"3\"")), 3);
  EXPECT_EQ(*parseIfMatch(withHeader("if-match", "W/\"4\"")), 4);
  EXPECT_EQ(*parseIfMatch(withHeader("if-match", "5")), 5);
  EXPECT_FALSE(parseIfMatch(withHeader("if-match", "*"))->has_value());
  EXPECT_FALSE(parseIfMatch(HttpRequest{})->has_value());
  EXPECT_EQ(parseIfMatch(withHeader("if-match", "\"abc\"")).status().code(), StatusCode::kInvalidArgument);
}

TEST(PagingTest, ValidatesLimit) {
  HttpRequest r;
  EXPECT_EQ(parsePaging(r)->limit, 100);
  r.query["limit"] = "7";
  r.query["after"] = "x";
  EXPECT_EQ(parsePaging(r)->limit, 7);
  EXPECT_EQ(parsePaging(r)->after, "x");
  for (const char* bad : {"0", "1001", "abc", "-1", "5x"}) {
    r.query["limit"] = bad;
    EXPECT_FALSE(parsePaging(r).isOk()) << bad;
  }
}

TEST(ListenTest, SplitsHostAndPort) {
  auto o = listenOptions("127.0.0.1:0");
  ASSERT_TRUE(o.isOk());
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 0);
  EXPECT_EQ(listenOptions("[::1]:7070")->host, "::1");
  EXPECT_FALSE(listenOptions("7070").isOk());
  EXPECT_FALSE(listenOptions("h:70000").isOk());
  EXPECT_FALSE(listenOptions("h:12ab").isOk());
}

TEST(OpenApiTest, DocumentIsValidAndCoversEveryRoute) {
  const auto& doc = openApiDocument();
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  for (const char* path : {"/v1/healthz", "/v1/tokens", "/v1/projects/{project}/vms/{vm}/restart",
                           "/v1/projects/{project}/apps/{app}/rollback", "/v1/events"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
}

}  // namespace
}  // namespace berth::controlplane
