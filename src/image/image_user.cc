#include "image/image_user.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <sstream>
#include <vector>

#include "image/beneath.h"

namespace berth::image {
namespace {

constexpr std::size_t kMaxFileBytes = 1 << 20;

std::optional<unsigned> number(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return static_cast<unsigned>(std::stoul(s));
}

// The lines of /etc/<name> split on ':', or none if the image has no such file.
Result<std::vector<std::vector<std::string>>> readDatabase(int root_fd, const std::string& name) {
  auto fd = openBeneath(root_fd, {"etc", name}, O_RDONLY);
  if (!fd.isOk()) {
    if (fd.status().code() == StatusCode::kNotFound) return std::vector<std::vector<std::string>>{};
    return fd.status().withContext("/etc/" + name);
  }
  std::string text;
  char buffer[8192];
  ssize_t n;
  while ((n = ::read(fd->get(), buffer, sizeof buffer)) > 0 && text.size() < kMaxFileBytes) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::size_t start = 0, colon;
    while ((colon = line.find(':', start)) != std::string::npos) {
      fields.push_back(line.substr(start, colon - start));
      start = colon + 1;
    }
    fields.push_back(line.substr(start));
    rows.push_back(std::move(fields));
  }
  return rows;
}

}  // namespace

std::optional<ImageUser> numericImageUser(const std::string& user) {
  if (user.empty()) return ImageUser{};
  const auto colon = user.find(':');
  const auto uid = number(user.substr(0, colon));
  const auto gid = colon == std::string::npos ? uid : number(user.substr(colon + 1));
  if (!uid || !gid) return std::nullopt;
  return ImageUser{*uid, *gid};
}

Result<ImageUser> resolveImageUser(int root_fd, const std::string& user) {
  if (auto numeric = numericImageUser(user)) return *numeric;
  const auto colon = user.find(':');
  const std::string who = user.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : user.substr(colon + 1);
  ImageUser out;

  std::optional<unsigned> primary_gid;
  if (auto uid = number(who)) {
    out.uid = *uid;
    primary_gid = *uid;  // Docker: a numeric user without a group runs with that number as gid
  } else {
    BERTH_ASSIGN_OR_RETURN(auto passwd, readDatabase(root_fd, "passwd"));
    bool found = false;
    for (const auto& row : passwd) {
      if (row.size() < 4 || row[0] != who) continue;
      auto uid = number(row[2]), gid = number(row[3]);
      if (!uid || !gid) return invalidArgument("the image's /etc/passwd has a malformed entry for '" + who + "'");
      out.uid = *uid;
      primary_gid = *gid;
      found = true;
      break;
    }
    if (!found) return invalidArgument("the image's USER '" + who + "' is not in its /etc/passwd");
  }
  if (group.empty()) {
    out.gid = *primary_gid;
    return out;
  }
  if (auto gid = number(group)) {
    out.gid = *gid;
    return out;
  }
  BERTH_ASSIGN_OR_RETURN(auto groups, readDatabase(root_fd, "group"));
  for (const auto& row : groups) {
    if (row.size() < 3 || row[0] != group) continue;
    auto gid = number(row[2]);
    if (!gid) return invalidArgument("the image's /etc/group has a malformed entry for '" + group + "'");
    out.gid = *gid;
    return out;
  }
  return invalidArgument("the image's USER group '" + group + "' is not in its /etc/group");
}

}  // namespace berth::image
