#include "controlplane/api/json_fields.h"

#include <gtest/gtest.h>

namespace berth::controlplane {
namespace {

using nlohmann::json;

TEST(ParseJsonObjectTest, RejectsNonObjectsAndGarbage) {
  EXPECT_EQ(parseJsonObject("[1]").status().message(), "the request body must be a JSON object");
  EXPECT_EQ(parseJsonObject("{\"a\":").status().message(), "the request body is not valid JSON");
  EXPECT_EQ(parseJsonObject("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(parseJsonObject("", /*empty_ok=*/true).isOk());
}

TEST(FieldReaderTest, ReadsTypedFields) {
  json j = {{"name", "web"}, {"n", 3}, {"kind", "q35"}, {"argv", {"a", "b"}}, {"env", {{"K", "V"}}}};
  FieldReader f(j);
  EXPECT_EQ(f.name("name", true), "web");
  EXPECT_EQ(f.integer("n", 1, 5), 3);
  EXPECT_EQ(f.oneOf("kind", {"microvm", "q35"}), "q35");
  EXPECT_EQ(f.stringArray("argv", 4)->size(), 2u);
  EXPECT_EQ(f.stringMap("env", 4)->at("K"), "V");
  EXPECT_FALSE(f.string("absent").has_value());
  EXPECT_TRUE(f.finish().isOk());
}

Status firstError(const json& j, const std::function<void(FieldReader&)>& read) {
  FieldReader f(j, "quotas.");
  read(f);
  return f.finish();
}

TEST(FieldReaderTest, ErrorsNameTheField) {
  auto msg = [](const json& j, const std::function<void(FieldReader&)>& read) {
    return firstError(j, read).message();
  };
  EXPECT_EQ(msg({{"vcpus", "2"}}, [](auto& f) { f.integer("vcpus", 0, 10); }), "quotas.vcpus must be an integer");
  EXPECT_EQ(msg({{"vcpus", 11}}, [](auto& f) { f.integer("vcpus", 0, 10); }),
            "quotas.vcpus must be between 0 and 10, not 11");
  EXPECT_EQ(msg({{"vcpus", 18446744073709551615ull}}, [](auto& f) { f.integer("vcpus", 0, 10); }),
            "quotas.vcpus must be between 0 and 10");
  EXPECT_EQ(msg({{"vcpus", 1.5}}, [](auto& f) { f.integer("vcpus", 0, 10); }), "quotas.vcpus must be an integer");
  EXPECT_EQ(msg(json::object(), [](auto& f) { f.string("name", true); }), "quotas.name is required");
  EXPECT_EQ(msg({{"bogus", 1}}, [](auto&) {}), "unknown field 'quotas.bogus'");
  EXPECT_EQ(msg({{"argv", {"a", 1}}}, [](auto& f) { f.stringArray("argv", 5); }), "quotas.argv[1] must be a string");
  EXPECT_EQ(msg({{"m", "x"}}, [](auto& f) { f.oneOf("m", {"a", "b"}); }), "quotas.m must be one of a, b, not 'x'");
  EXPECT_NE(msg({{"name", "Web"}}, [](auto& f) { f.name("name"); }).find("quotas.name"), std::string::npos);
}

TEST(FieldReaderTest, FirstErrorWins) {
  json j = {{"a", "x"}, {"b", "y"}};
  FieldReader f(j);
  f.integer("a", 0, 1);
  f.integer("b", 0, 1);
  EXPECT_EQ(f.finish().message(), "a must be an integer");
}

}  // namespace
}  // namespace berth::controlplane
