#include "agent/sessions/app_log.h"

#include <gtest/gtest.h>

#include "os/file_util.h"
#include "os/temp_dir.h"

namespace berth::agent {
namespace {

std::string joined(const std::vector<LogRecord>& records) {
  std::string out;
  for (const auto& r : records) out += r.data;
  return out;
}

TEST(AppLogTest, TheLogIsBoundedByRotation) {
  auto dir = os::TempDir::create("berth-applog-").value();
  const std::string path = dir.path() + "/web.log";
  const LogRecord record{1, "stdout", std::string(1000, 'x') + "\n", "web-3"};
  const std::uint64_t line = encodeLogRecord(record).size();
  for (int i = 0; i < 100; ++i) appendLogRecord(path, record, 10 * line);
  const auto current = os::readFile(path).value(), previous = os::readFile(path + ".1").value();
  EXPECT_LE(current.size(), 10 * line);
  EXPECT_EQ(previous.size(), 10 * line);
  EXPECT_EQ(decodeLogRecord(previous.substr(0, line - 1))->instance, "web-3");
}

TEST(AppLogTest, RecordsRoundTripAndTornLinesAreSkipped) {
  LogRecord r{1'700'000'000'123, "stderr", "line \"one\"\n\ttab"};
  std::string line = encodeLogRecord(r);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  auto back = decodeLogRecord(line);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->ts_ms, r.ts_ms);
  EXPECT_EQ(back->stream, "stderr");
  EXPECT_EQ(back->data, r.data);
  EXPECT_FALSE(decodeLogRecord(line.substr(0, line.size() / 2)).has_value());
  EXPECT_FALSE(decodeLogRecord(R"({"ts_ms":"x","stream":"stdout","data":""})").has_value());
}

TEST(AppLogTest, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(toText("ok\xff!"), "ok\xEF\xBF\xBD!");
  EXPECT_EQ(toText("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(AppLogTest, TakeLinesKeepsThePartialLineForLater) {
  std::string partial;
  EXPECT_EQ(takeLines(partial, "a\nb"), std::vector<std::string>{"a"});
  EXPECT_EQ(partial, "b");
  EXPECT_EQ(takeLines(partial, "c\n\nd\n"), (std::vector<std::string>{"bc", "", "d"}));
  EXPECT_EQ(partial, "");
}

TEST(AppLogTest, TailCountsLinesAcrossChunksAndTrimsTheFirst) {
  std::vector<LogRecord> records = {{1, "stdout", "one\ntwo\nthr"}, {2, "stdout", "ee\nfour\n"}, {3, "stderr", "five"}};
  EXPECT_EQ(joined(tailRecords(records, 1)), "five");
  EXPECT_EQ(joined(tailRecords(records, 2)), "four\nfive");
  auto three = tailRecords(records, 3);
  EXPECT_EQ(joined(three), "three\nfour\nfive");
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[0].data, "thr") << "the first record starts at the line boundary";
  EXPECT_EQ(joined(tailRecords(records, 100)), "one\ntwo\nthree\nfour\nfive");
  EXPECT_TRUE(tailRecords(records, 0).empty());
}

TEST(AppLogTest, TailTextTreatsAFinalNewlineAsTheEndOfTheLastLine) {
  EXPECT_EQ(tailText("a\nb\nc\n", 1), "c\n");
  EXPECT_EQ(tailText("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(tailText("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(tailText("a\nb\n", 5), "a\nb\n");
  EXPECT_EQ(tailText("a\nb\n", 0), "");
  EXPECT_EQ(tailText("", 3), "");
}

}  // namespace
}  // namespace berth::agent
