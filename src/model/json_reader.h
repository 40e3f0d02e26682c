#pragma once
// Reads members of a JSON object into typed fields without throwing: an absent member leaves
// the field as it is (its default), a member of the wrong type records an InvalidArgument naming
// it ("apps[2].spec.ports[0].port has the wrong type"), and the first such error is kept. Used
// by the model's fromJson functions on documents another process wrote.

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"

namespace berth::model {

class JsonReader {
 public:
  // `where` prefixes member names in errors, e.g. "spec." or "apps[2].".
  JsonReader(const nlohmann::json& object, std::string where);

  template <typename T>
  JsonReader& read(const char* key, T& out) {
    const nlohmann::json* member = find(key);
    if (member == nullptr || member->is_null()) return *this;
    try {
      out = member->get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(key);
    }
    return *this;
  }

  // The member if it is an object (or an array), else nullptr; of another type it is an error.
  const nlohmann::json* object(const char* key) { return typed(key, &nlohmann::json::is_object); }
  const nlohmann::json* array(const char* key) { return typed(key, &nlohmann::json::is_array); }

  // Reads each element of the array `key` with `read_item(JsonReader& item)`,
  // the item's reader naming it "<where><key>[<index>].". Stops at the first error, which
  // status() then holds.
  template <typename ReadItem>
  JsonReader& each(const char* key, ReadItem read_item) {
    const nlohmann::json* items = array(key);
    for (std::size_t i = 0; items != nullptr && i < items->size() && status_.isOk(); ++i) {
      JsonReader item((*items)[i], where_ + key + "[" + std::to_string(i) + "].");
      read_item(item);
      fail(item.status());
    }
    return *this;
  }
  // `where` of a member, for a nested reader: "spec." + "health" + suffix.
  std::string at(const std::string& key) const { return where_ + key; }

  void fail(const std::string& key);
  // Records an error found by a nested reader (the first error is kept).
  void fail(const Status& status) {
    if (status_.isOk()) status_ = status;
  }
  Status status() const { return status_; }

 private:
  const nlohmann::json* find(const char* key);
  const nlohmann::json* typed(const char* key, bool (nlohmann::json::*is)() const noexcept);

  const nlohmann::json& object_;
  std::string where_;
  Status status_;
};

}  // namespace berth::model
