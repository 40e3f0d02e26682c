#include "cli/table.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(TableTest, AlignsColumnsWithoutTrailingSpaces) {
  Table t({"NAME", "STATE"});
  t.addRow({"web", "running"});
  t.addRow({"database", "-"});
  EXPECT_EQ(t.render(),
            "NAME       STATE\n"
            "web        running\n"
            "database   -\n");
}

TEST(TableTest, ShortRowsArePadded) {
  Table t({"A", "B", "C"});
  t.addRow({"1"});
  EXPECT_EQ(t.render(), "A   B   C\n1\n");
}

}  // namespace
}  // namespace berth::cli
