#include "common/names.h"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

TEST(DnsLabelTest, AcceptsLabels) {
  for (const char* ok : {"a", "web", "web-1", "0", "a-b-c", "x1y2"}) {
    EXPECT_TRUE(validateDnsLabel(ok, "name").isOk()) << ok;
  }
  EXPECT_TRUE(validateDnsLabel(std::string(63, 'a'), "name").isOk());
}

TEST(DnsLabelTest, RejectsWithFieldName) {
  for (const char* bad : {"", "-a", "a-", "A", "a_b", "a.b", "a b", "é", "../x"}) {
    Status s = validateDnsLabel(bad, "project name");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("project name"), std::string::npos) << s.message();
  }
  EXPECT_FALSE(validateDnsLabel(std::string(64, 'a'), "name").isOk());
}

}  // namespace
}  // namespace berth
