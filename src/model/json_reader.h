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
  const nlohmann::json* object(const char* key);
  const nlohmann::json* array(const char* key);
  // `where` of a member, for a nested reader: "spec." + "health" + suffix.
  std::string at(const std::string& key) const { return where_ + key; }

  void fail(const std::string& key);
  Status status() const { return status_; }

 private:
  const nlohmann::json* find(const char* key);

  const nlohmann::json& object_;
  std::string where_;
  Status status_;
};

}  // namespace berth::model
