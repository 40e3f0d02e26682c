#include "client/api_client.h"

#include <gtest/gtest.h>

namespace berth::client {
namespace {

TEST(ApiErrorTest, UsesTheServerMessageAndCode) {
  nlohmann::json body = {{"error", {{"code", "not_found"}, {"message", "project 'x' does not exist"}}}};
  Status s = apiError(404, body);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "project 'x' does not exist");
  EXPECT_EQ(apiError(412, {{"error", {{"code", "version_mismatch"}, {"message", "m"}}}}).code(),
            StatusCode::kVersionMismatch);
  EXPECT_EQ(apiError(409, {{"error", {{"code", "conflict"}, {"message", "m"}}}}).code(), StatusCode::kConflict);
}

TEST(ApiErrorTest, FallsBackToTheHttpStatus) {
  EXPECT_EQ(apiError(502, nullptr).message(), "berthd answered HTTP 502");
  EXPECT_EQ(apiError(502, nullptr).code(), StatusCode::kInternal);
}

TEST(ApiClientTest, RejectsUrlsItCannotUse) {
  EXPECT_FALSE(client::ApiClient::create("ftp://x", "t").isOk());
  EXPECT_FALSE(client::ApiClient::create("http://x:1/path", "t").isOk());
  EXPECT_NE(client::ApiClient::create("https://x", "t").status().message().find("https"), std::string::npos);
  auto c = client::ApiClient::create("http://127.0.0.1:7070/", "t");
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ((*c)->url(), "http://127.0.0.1:7070");
}

TEST(UrlEncodeTest, EscapesReserved) { EXPECT_EQ(client::urlEncode("a b/c~"), "a%20b%2Fc~"); }

}  // namespace
}  // namespace berth::client
