#include "controlplane/api/json_writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "controlplane/api/render.h"

namespace berth::controlplane {
namespace {

TEST(JsonWriterTest, NestsWithCommasInTheRightPlaces) {
  JsonWriter w;
  w.beginObject().field("a", int64_t{1}).key("b").beginArray().value("x").null().value(true).endArray();
  w.key("c").beginObject().endObject().key("d").beginArray().endArray().field("e", std::optional<std::string>());
  w.endObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":["x",null,true],"c":{},"d":[],"e":null})");
}

TEST(JsonWriterTest, EscapesEverythingJsonRequires) {
  std::string nasty = "q\"b\\n\nr\rt\tz";
  nasty += '\x01';
  nasty += "\xc3\xa9";  // UTF-8 passes through
  JsonWriter w;
  w.beginArray().value(nasty).endArray();
  auto parsed = nlohmann::json::parse(w.str());
  EXPECT_EQ(parsed[0].get<std::string>(), nasty);
  EXPECT_NE(w.str().find("\\u0001"), std::string::npos);
}

TEST(JsonWriterTest, RawEmbedsSerializedJson) {
  JsonWriter w;
  w.beginObject().key("spec").raw(R"({"k":[1,2]})").field("n", int64_t{-3}).endObject();
  EXPECT_EQ(nlohmann::json::parse(w.str())["spec"]["k"][1], 2);
}

TEST(RenderTest, AppPageRoundTripsThroughAParser) {
  store::App app;
  app.project = "p";
  app.name = "web";
  app.spec_json = R"({"command":["a \"b\""],"env":{}})";
  app.release = 2;
  app.version = 3;
  app.created_at = 1'700'000'000'000;
  app.updated_at = 1'700'000'000'001;
  store::Page<store::App> page{{app, app}, "web"};
  auto parsed = nlohmann::json::parse(renderPage(page, renderApp));
  ASSERT_EQ(parsed["items"].size(), 2u);
  EXPECT_EQ(parsed["items"][1]["spec"]["command"][0], "a \"b\"");
  EXPECT_EQ(parsed["items"][0]["created_at"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(parsed["next"], "web");
}

}  // namespace
}  // namespace berth::controlplane
