#include "agent/sessions/app_log.h"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace berth::agent {

using nlohmann::json;

std::string toText(std::string_view bytes) {
  // nlohmann's serializer already knows how to replace invalid UTF-8; reuse it.
  const std::string quoted = json(std::string(bytes)).dump(-1, ' ', false, json::error_handler_t::replace);
  return json::parse(quoted).get<std::string>();
}

std::string encodeLogRecord(const LogRecord& record) {
  json line = {{"ts_ms", record.ts_ms}, {"stream", record.stream}, {"data", record.data}};
  if (!record.instance.empty()) line["instance"] = record.instance;
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

void appendLogRecord(const std::string& path, const LogRecord& record, std::uint64_t max_bytes) {
  const std::string line = encodeLogRecord(record);
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) + line.size() > max_bytes) {
    ::rename(path.c_str(), (path + ".1").c_str());
  }
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << line;
}

std::optional<LogRecord> decodeLogRecord(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto ts = j.find("ts_ms");
  auto stream = j.find("stream");
  auto data = j.find("data");
  if (ts == j.end() || !ts->is_number_integer() || stream == j.end() || !stream->is_string() || data == j.end() ||
      !data->is_string()) {
    return std::nullopt;
  }
  auto instance = j.find("instance");
  return LogRecord{ts->get<int64_t>(), stream->get<std::string>(), data->get<std::string>(),
                   instance != j.end() && instance->is_string() ? instance->get<std::string>() : std::string()};
}

std::vector<std::string> takeLines(std::string& partial, std::string_view text) {
  partial.append(text);
  std::vector<std::string> lines;
  std::size_t start = 0, nl;
  while ((nl = partial.find('\n', start)) != std::string::npos) {
    lines.push_back(partial.substr(start, nl - start));
    start = nl + 1;
  }
  partial.erase(0, start);
  return lines;
}

std::vector<LogRecord> decodeRecords(std::string& partial, std::string_view bytes) {
  std::vector<LogRecord> records;
  for (const std::string& line : takeLines(partial, bytes)) {
    if (auto record = decodeLogRecord(line)) records.push_back(std::move(*record));
  }
  return records;
}

namespace {
// Where the last `lines` lines of `text` begin (0 if it holds fewer); a final unterminated
// line counts as one.
std::size_t tailStart(std::string_view text, std::size_t lines) {
  if (lines == 0) return text.size();
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (std::size_t i = 0; i < lines; ++i) {
    const std::size_t nl = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
    if (nl == std::string_view::npos) return 0;
    pos = nl;
  }
  return pos + 1;
}
}  // namespace

std::vector<LogRecord> tailRecords(std::vector<LogRecord> records, std::size_t lines) {
  std::string all;
  for (const auto& r : records) all += r.data;
  std::size_t skip = tailStart(all, lines);
  std::vector<LogRecord> out;
  for (auto& r : records) {
    if (skip >= r.data.size()) {
      skip -= r.data.size();
      continue;
    }
    r.data.erase(0, skip);
    skip = 0;
    out.push_back(std::move(r));
  }
  return out;
}

std::string tailText(std::string_view text, std::size_t lines) { return std::string(text.substr(tailStart(text, lines))); }

}  // namespace berth::agent
