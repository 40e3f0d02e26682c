#include "image/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>

#include "os/file_util.h"

namespace berth::image {

Result<std::vector<std::string>> splitEntryPath(const std::string& name) {
  if (name.size() > PATH_MAX) return invalidArgument("the name is longer than PATH_MAX");
  if (!name.empty() && name[0] == '/') return invalidArgument("absolute paths are not allowed");
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string part = name.substr(start, end - start);
    if (part == "..") return invalidArgument("'..' components are not allowed");
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

std::string joinPath(const std::vector<std::string>& components) {
  if (components.empty()) return ".";
  std::string out;
  for (const auto& c : components) out += (out.empty() ? "" : "/") + c;
  return out;
}

Result<os::UniqueFd> openBeneath(int root_fd, const std::vector<std::string>& components,
                                 int flags) {
  const std::string path = joinPath(components);
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  // EAGAIN: a concurrent rename somewhere in the tree made the kernel refuse to vouch for the
  // lookup; nothing else renames in our trees, so a retry settles it.
  int tries = 0;
  do {
    // SAFETY: glibc 2.36 has no openat2 wrapper; `how` is a fully initialised open_how.
    fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 16)));
  if (fd >= 0) return os::UniqueFd(static_cast<int>(fd));
  const int err = errno;
  if (err == EXDEV) return invalidArgument("'" + path + "' resolves outside the image root");
  if (err == ELOOP) {
    return invalidArgument("'" + path + "' goes through too many or forbidden symlinks");
  }
  if (err == ENOENT) return notFound("'" + path + "' does not exist");
  if (err == ENOTDIR) {
    return invalidArgument("'" + path + "' has a component that is not a directory");
  }
  return internalError("cannot open '" + path + "': " + os::errnoMessage(err));
}

Result<os::UniqueFd> makeDirsBeneath(int root_fd, const std::vector<std::string>& components) {
  auto whole = openBeneath(root_fd, components, O_PATH | O_DIRECTORY);
  if (whole.isOk() || whole.status().code() != StatusCode::kNotFound) return whole;
  BERTH_ASSIGN_OR_RETURN(os::UniqueFd dir, openBeneath(root_fd, {}, O_PATH | O_DIRECTORY));
  std::vector<std::string> prefix;
  for (const auto& name : components) {
    if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      return internalError("cannot create directory '" + joinPath(prefix) + "/" + name +
                           "': " + os::errnoMessage(errno));
    }
    prefix.push_back(name);
    // Resolved from the root again, not from `dir`: an existing component may be a symlink whose
    // target is only judged correctly against the whole tree.
    BERTH_ASSIGN_OR_RETURN(dir, openBeneath(root_fd, prefix, O_PATH | O_DIRECTORY));
  }
  return dir;
}

Result<std::vector<std::string>> listDir(int dir_fd) {
  const int dup_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0) {
    return internalError("cannot open a directory for listing: " + os::errnoMessage(errno));
  }
  // closedir closes dup_fd.
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(dup_fd), ::closedir);
  if (!dir) {
    ::close(dup_fd);
    return internalError("cannot list a directory: " + os::errnoMessage(errno));
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(dir.get())) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  if (errno != 0) return internalError("cannot list a directory: " + os::errnoMessage(errno));
  return names;
}

Status removeAt(int dir_fd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::ok();
    return internalError("cannot stat '" + name + "': " + os::errnoMessage(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    os::UniqueFd sub(
        ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return internalError("cannot open '" + name + "': " + os::errnoMessage(errno));
    BERTH_ASSIGN_OR_RETURN(auto children, listDir(sub.get()));
    for (const auto& child : children) BERTH_RETURN_IF_ERROR(removeAt(sub.get(), child));
  }
  if (::unlinkat(dir_fd, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 &&
      errno != ENOENT) {
    return internalError("cannot remove '" + name + "': " + os::errnoMessage(errno));
  }
  return Status::ok();
}

}  // namespace berth::image
