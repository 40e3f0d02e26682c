#include "controlplane/api/response_cache.h"

#include <gtest/gtest.h>

namespace berth::controlplane {
namespace {

HttpResponse body(std::string text, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(text);
  return r;
}

TEST(ResponseCacheTest, ServesOnlyWhileTheGenerationIsUnchanged) {
  ResponseCache cache;
  EXPECT_FALSE(cache.find("k", 1));
  cache.put("k", 1, body("v1"));
  ASSERT_TRUE(cache.find("k", 1));
  EXPECT_EQ(cache.find("k", 1)->body, "v1");
  EXPECT_FALSE(cache.find("k", 2)) << "a committed write makes every entry stale";
  EXPECT_FALSE(cache.find("k", 1)) << "and the stale entries are gone";
}

TEST(ResponseCacheTest, DropsResponsesBuiltFromOlderData) {
  ResponseCache cache;
  cache.put("fresh", 5, body("new"));
  cache.put("late", 4, body("old"));  // a slow reader that started before the last write
  EXPECT_FALSE(cache.find("late", 5));
  EXPECT_FALSE(cache.find("late", 4));
  EXPECT_EQ(cache.find("fresh", 5)->body, "new");
}

TEST(ResponseCacheTest, KeepsOnlySmallSuccessfulAnswersWithinItsBound) {
  ResponseCache cache(/*max_bytes=*/100, /*max_entry_bytes=*/60);
  cache.put("error", 1, body("nope", 404));
  cache.put("huge", 1, body(std::string(80, 'x')));
  cache.put("a", 1, body(std::string(50, 'a')));
  cache.put("b", 1, body(std::string(50, 'b')));  // would pass the 100-byte bound
  EXPECT_FALSE(cache.find("error", 1));
  EXPECT_FALSE(cache.find("huge", 1));
  EXPECT_TRUE(cache.find("a", 1));
  EXPECT_FALSE(cache.find("b", 1));
  cache.put("b", 2, body(std::string(50, 'b')));  // a new generation starts empty
  EXPECT_TRUE(cache.find("b", 2));
}

}  // namespace
}  // namespace berth::controlplane
