#pragma once
// The node's copy of an app's output (Paths::Vm::appLog): one JSON line per chunk the guest
// relayed, stamped with the host's clock when it arrived (guest clocks drift; the node's is
// the one an operator compares with). Output is text to its readers, so bytes that are not
// UTF-8 are replaced when the record is written.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::agent {

struct LogRecord {
  int64_t ts_ms = 0;
  std::string stream;  // stdout | stderr
  std::string data;
  std::string instance = {};  // which run of the app wrote it ("web-7"); empty in records from before instances
};

// Bytes as valid UTF-8 (invalid sequences become U+FFFD).
std::string toText(std::string_view bytes);

// One line, newline included.
std::string encodeLogRecord(const LogRecord& record);
// Appends the record to the log at `path`; a log that would grow past `max_bytes` becomes
// `path`.1 first (replacing the one before), so the node keeps between max_bytes and twice that.
void appendLogRecord(const std::string& path, const LogRecord& record, std::uint64_t max_bytes);
// nullopt for a line that is not a record (a torn write after a crash, say): readers skip it.
std::optional<LogRecord> decodeLogRecord(std::string_view line);

// Splits `text` into complete lines; the unterminated rest stays in `partial` for next time.
std::vector<std::string> takeLines(std::string& partial, std::string_view text);
// The records in the complete lines of `bytes` (after what `partial` held); lines that are not
// records are skipped.
std::vector<LogRecord> decodeRecords(std::string& partial, std::string_view bytes);

// The records that hold the last `lines` lines of output, the first one trimmed to start at
// a line boundary; a final unterminated line counts as one.
std::vector<LogRecord> tailRecords(std::vector<LogRecord> records, std::size_t lines);

// The last `lines` lines of `text`.
std::string tailText(std::string_view text, std::size_t lines);

}  // namespace berth::agent
