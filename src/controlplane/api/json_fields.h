#pragma once
// Strict reading of request bodies: malformed JSON, wrong types, out-of-range numbers and
// unknown fields are InvalidArgument errors that name the field ("quotas.vcpus must be ...").
// Library exceptions never escape: nlohmann::json is parsed without throwing and every access
// checks the type first.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::controlplane {

// Parses `body` as a JSON object. An empty body is an empty object when `empty_ok`.
Result<nlohmann::json> parseJsonObject(const std::string& body, bool empty_ok = false);

// Reads fields of one JSON object. Record the first error and keep going so call sites stay
// linear; finish() reports it, or else the first field nobody asked for.
class FieldReader {
 public:
  // `prefix` is prepended to field names in messages ("quotas." for a nested object).
  FieldReader(const nlohmann::json& object, std::string prefix = "");

  std::optional<std::string> string(const std::string& key, bool required = false);
  std::optional<bool> boolean(const std::string& key, bool required = false);
  // A DNS label (names of projects, VMs, apps, nodes).
  std::optional<std::string> name(const std::string& key, bool required = false);
  std::optional<int64_t> integer(const std::string& key, int64_t min, int64_t max, bool required = false);
  std::optional<std::string> oneOf(const std::string& key, const std::set<std::string>& allowed,
                                   bool required = false);
  std::optional<std::vector<std::string>> stringArray(const std::string& key, size_t max_items,
                                                      bool required = false);
  std::optional<std::map<std::string, std::string>> stringMap(const std::string& key, size_t max_items);
  // A nested object or array, type-checked; nullptr if absent (or on error).
  const nlohmann::json* object(const std::string& key);
  const nlohmann::json* array(const std::string& key);

  void fail(Status s);
  bool ok() const { return error_.isOk(); }
  Status finish();

 private:
  const nlohmann::json* lookup(const std::string& key, bool required);
  std::string field(const std::string& key) const { return prefix_ + key; }

  const nlohmann::json& object_;
  std::string prefix_;
  std::set<std::string> seen_;
  Status error_;
};

// Each string at most 4096 bytes; the error names `field`[i].
Status checkStringLengths(const std::vector<std::string>& v, const std::string& field);
// A secret's name: what an environment variable may be called ([A-Za-z_][A-Za-z0-9_]*, up to 256).
Status checkSecretName(const std::string& name, const std::string& field);
// Environment variable names ([A-Za-z_][A-Za-z0-9_]*, up to 256) and values up to 4096 bytes.
Status checkEnvNames(const std::map<std::string, std::string>& env);

}  // namespace berth::controlplane
