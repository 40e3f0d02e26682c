#include "controlplane/api/json_fields.h"

#include <regex>

#include "common/names.h"

namespace berth::controlplane {

Result<nlohmann::json> parseJsonObject(const std::string& body, bool empty_ok) {
  if (body.empty()) {
    if (empty_ok) return nlohmann::json::object();
    return invalidArgument("the request body is empty; send a JSON object");
  }
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return invalidArgument("the request body is not valid JSON");
  if (!parsed.is_object()) return invalidArgument("the request body must be a JSON object");
  return parsed;
}

FieldReader::FieldReader(const nlohmann::json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

void FieldReader::fail(Status s) {
  if (error_.isOk()) error_ = std::move(s);
}

const nlohmann::json* FieldReader::lookup(const std::string& key, bool required) {
  seen_.insert(key);
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    if (required) fail(invalidArgument(field(key) + " is required"));
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> FieldReader::string(const std::string& key, bool required) {
  const auto* v = lookup(key, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    fail(invalidArgument(field(key) + " must be a string"));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<bool> FieldReader::boolean(const std::string& key, bool required) {
  const auto* v = lookup(key, required);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    fail(invalidArgument(field(key) + " must be true or false"));
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::string> FieldReader::name(const std::string& key, bool required) {
  auto s = string(key, required);
  if (!s) return std::nullopt;
  Status valid = validateDnsLabel(*s, field(key));
  if (!valid.isOk()) {
    fail(valid);
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> FieldReader::integer(const std::string& key, int64_t min, int64_t max, bool required) {
  const auto* v = lookup(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    fail(invalidArgument(field(key) + " must be an integer"));
    return std::nullopt;
  }
  // Unsigned values above INT64_MAX are out of range too.
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    fail(invalidArgument(field(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max)));
    return std::nullopt;
  }
  int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    fail(invalidArgument(field(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", not " + std::to_string(n)));
    return std::nullopt;
  }
  return n;
}

std::optional<std::string> FieldReader::oneOf(const std::string& key, const std::set<std::string>& allowed,
                                              bool required) {
  auto s = string(key, required);
  if (!s) return std::nullopt;
  if (!allowed.count(*s)) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(invalidArgument(field(key) + " must be one of " + list + ", not '" + *s + "'"));
    return std::nullopt;
  }
  return s;
}

std::optional<std::vector<std::string>> FieldReader::stringArray(const std::string& key, size_t max_items,
                                                                 bool required) {
  const auto* v = lookup(key, required);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    fail(invalidArgument(field(key) + " must be an array of strings"));
    return std::nullopt;
  }
  if (v->size() > max_items) {
    fail(invalidArgument(field(key) + " has " + std::to_string(v->size()) + " items; the limit is " +
                         std::to_string(max_items)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      fail(invalidArgument(field(key) + "[" + std::to_string(i) + "] must be a string"));
      return std::nullopt;
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

std::optional<std::map<std::string, std::string>> FieldReader::stringMap(const std::string& key,
                                                                         size_t max_items) {
  const auto* v = lookup(key, false);
  if (!v) return std::nullopt;
  if (!v->is_object()) {
    fail(invalidArgument(field(key) + " must be an object of strings"));
    return std::nullopt;
  }
  if (v->size() > max_items) {
    fail(invalidArgument(field(key) + " has " + std::to_string(v->size()) + " entries; the limit is " +
                         std::to_string(max_items)));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, item] : v->items()) {
    if (!item.is_string()) {
      fail(invalidArgument(field(key) + "." + k + " must be a string"));
      return std::nullopt;
    }
    out[k] = item.get<std::string>();
  }
  return out;
}

const nlohmann::json* FieldReader::object(const std::string& key) {
  const auto* v = lookup(key, false);
  if (v && !v->is_object()) {
    fail(invalidArgument(field(key) + " must be an object"));
    return nullptr;
  }
  return v;
}

const nlohmann::json* FieldReader::array(const std::string& key) {
  const auto* v = lookup(key, false);
  if (v && !v->is_array()) {
    fail(invalidArgument(field(key) + " must be an array"));
    return nullptr;
  }
  return v;
}

Status FieldReader::finish() {
  if (!error_.isOk()) return error_;
  for (const auto& [key, value] : object_.items()) {
    if (!seen_.count(key)) return invalidArgument("unknown field '" + field(key) + "'");
  }
  return Status::ok();
}

namespace {
constexpr size_t kMaxStringBytes = 4096;
}

Status checkStringLengths(const std::vector<std::string>& v, const std::string& field) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].size() > kMaxStringBytes) {
      return invalidArgument(field + "[" + std::to_string(i) + "] is longer than " + std::to_string(kMaxStringBytes) +
                             " bytes");
    }
  }
  return Status::ok();
}

namespace {
bool isVariableName(const std::string& s) {
  static const std::regex kEnvName("[A-Za-z_][A-Za-z0-9_]*");
  return s.size() <= 256 && std::regex_match(s, kEnvName);
}
}  // namespace

Status checkSecretName(const std::string& name, const std::string& field) {
  if (isVariableName(name)) return Status::ok();
  return invalidArgument(field + " '" + name + "' is not a valid secret name ([A-Za-z_][A-Za-z0-9_]*, up to 256)");
}

Status checkEnvNames(const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) {
    if (!isVariableName(k)) {
      return invalidArgument("env key '" + k + "' is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (v.size() > kMaxStringBytes) return invalidArgument("env." + k + " is longer than 4096 bytes");
  }
  return Status::ok();
}

}  // namespace berth::controlplane
