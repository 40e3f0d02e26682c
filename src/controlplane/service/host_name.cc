#include "controlplane/service/host_name.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace berth::controlplane {

namespace {
constexpr size_t kMaxName = 253, kMaxLabel = 63;
constexpr std::string_view kExample = "; a host name looks like shop.example.com";

bool isDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<std::string_view> labelsOf(std::string_view name) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    size_t dot = name.find('.', start);
    out.push_back(
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

Status checkLabel(std::string_view label, const std::string& what) {
  const std::string quoted = "'" + std::string(label) + "'";
  if (label.empty())
    return invalidArgument(what + " has an empty label (two dots in a row, or a leading dot)");
  if (label == "*") return invalidArgument(what + " is a wildcard; add each host name on its own");
  if (label.size() > kMaxLabel) {
    return invalidArgument(what + ": label " + quoted + " is longer than 63 characters");
  }
  for (unsigned char c : label) {
    if (!std::islower(c) && !std::isdigit(c) && c != '-') {
      return invalidArgument(what + ": label " + quoted + " may hold only a-z, 0-9 and '-'" +
                             std::string(kExample));
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return invalidArgument(what + ": label " + quoted + " may not start or end with '-'");
  }
  return Status::ok();
}
}  // namespace

Result<std::string> normalizeHostName(std::string_view text, const std::string& what) {
  std::string name(text);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty()) return invalidArgument(what + " is empty" + std::string(kExample));
  if (name.size() > kMaxName) {
    return invalidArgument(what + " is " + std::to_string(name.size()) +
                           " characters long; a host name has at most 253");
  }
  const auto labels = labelsOf(name);
  for (auto label : labels) BERTH_RETURN_IF_ERROR(checkLabel(label, what));
  if (labels.size() < 2) {
    return invalidArgument(what + " is a single label; give a full host name, such as " + name +
                           ".example.com");
  }
  // No top-level domain is all digits, so this refuses every IPv4 address ("10.0.0.1").
  if (isDigits(labels.back()))
    return invalidArgument(what + " is an IP address, not a host name" + std::string(kExample));
  if (labels.back() == "internal") {
    return invalidArgument(what +
                           " is under .internal, where the names of the project networks are");
  }
  return name;
}

bool isWithinDomain(std::string_view name, std::string_view domain) {
  if (domain.empty() || name.size() < domain.size()) return false;
  if (name == domain) return true;
  return name.size() > domain.size() && name.ends_with(domain) &&
         name[name.size() - domain.size() - 1] == '.';
}

}  // namespace berth::controlplane
