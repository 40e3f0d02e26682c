#pragma once
// The image config's USER as the numbers a process runs with. Docker's forms: "", "uid",
// "uid:gid", "name", "name:group", "uid:group", "name:gid". Names are looked up in the image's
// own /etc/passwd and /etc/group, read beneath its root, so an image cannot point them at the
// host's files. A name gives its primary group unless a group is named.

#include <optional>
#include <string>

#include "common/result.h"

namespace berth::image {

struct ImageUser {
  unsigned uid = 0;
  unsigned gid = 0;
};

// "", "uid" or "uid:gid" in numbers (a uid alone runs with the same number as gid, as in Docker);
// nullopt when a name is involved.
std::optional<ImageUser> numericImageUser(const std::string& user);

// `root_fd` is the unpacked root file system. A name that is not there is an InvalidArgument
// naming it and the file.
Result<ImageUser> resolveImageUser(int root_fd, const std::string& user);

}  // namespace berth::image
