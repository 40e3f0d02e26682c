#include "model/json_reader.h"

namespace berth::model {

JsonReader::JsonReader(const nlohmann::json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) {
    std::string name = where_;
    if (!name.empty() && name.back() == '.') name.pop_back();
    status_ = invalidArgument((name.empty() ? std::string("the document") : name) + " must be a JSON object");
  }
}

const nlohmann::json* JsonReader::find(const char* key) {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

const nlohmann::json* JsonReader::typed(const char* key, bool (nlohmann::json::*is)() const noexcept) {
  const nlohmann::json* member = find(key);
  if (member == nullptr || member->is_null()) return nullptr;
  if (!(member->*is)()) {
    fail(key);
    return nullptr;
  }
  return member;
}

void JsonReader::fail(const std::string& key) {
  if (status_.isOk()) status_ = invalidArgument(where_ + key + " has the wrong type");
}

}  // namespace berth::model
