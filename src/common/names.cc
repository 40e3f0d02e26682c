#include "common/names.h"

#include <string>

namespace berth {

namespace {
bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
}  // namespace

Status validateDnsLabel(std::string_view name, std::string_view what) {
  std::string field(what);
  if (name.empty()) return invalidArgument(field + " must not be empty");
  if (name.size() > 63) {
    return invalidArgument(field + " '" + std::string(name.substr(0, 63)) + "...' is " +
                           std::to_string(name.size()) + " characters long; the limit is 63");
  }
  for (char c : name) {
    if (!isLowerAlnum(c) && c != '-') {
      return invalidArgument(field + " '" + std::string(name) +
                             "' may contain only lowercase letters, digits and '-'");
    }
  }
  if (name.front() == '-' || name.back() == '-') {
    return invalidArgument(field + " '" + std::string(name) + "' must start and end with a letter or digit");
  }
  return Status::ok();
}

}  // namespace berth
