#pragma once
// Appends JSON to a string as it goes, for responses. nlohmann-json (used for every parse) builds
// a tree of std::maps before dumping it, which made rendering lists the largest cost of a GET;
// this writer allocates only the output, and embeds already-serialized JSON (stored app specs,
// event details) without parsing it again. Not thread-safe; one writer per response.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::controlplane {

class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  // The key of the next member; legal only directly inside an object.
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t n);
  JsonWriter& value(bool b);
  JsonWriter& value(const std::optional<std::string>& s);  // null when empty
  JsonWriter& null();
  // Inserts `json` verbatim. The caller vouches that it is one valid JSON value (it was produced
  // by a serializer, never taken from a request unparsed).
  JsonWriter& raw(std::string_view json);

  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    return key(k).value(v);
  }

  void reserve(size_t bytes) { out_.reserve(bytes); }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  // Per open container: whether it already holds an element (so the next needs a comma).
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Appends `s` as a quoted, escaped JSON string.
void appendJsonString(std::string& out, std::string_view s);

}  // namespace berth::controlplane
