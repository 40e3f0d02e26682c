#include "os/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "os/unique_fd.h"

namespace berth::os {

std::string errnoMessage(int err) { return std::strerror(err); }

Result<std::string> readFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    Status s(err == ENOENT ? StatusCode::kNotFound : StatusCode::kInternal,
             "cannot open '" + path + "': " + errnoMessage(err));
    return s;
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return internalError("cannot read '" + path + "': " + errnoMessage(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

namespace {
Status writeAll(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return internalError("cannot write '" + path + "': " + errnoMessage(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Status::ok();
}
}  // namespace

Status writeFileAtomic(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) return internalError("cannot create '" + tmp + "': " + errnoMessage(errno));
    // open() applies the umask; the caller's mode (0600 for secrets) must hold exactly.
    if (::fchmod(fd.get(), mode) != 0) {
      return internalError("cannot chmod '" + tmp + "': " + errnoMessage(errno));
    }
    Status s = writeAll(fd.get(), data, tmp);
    if (s.isOk() && ::fsync(fd.get()) != 0) {
      s = internalError("cannot fsync '" + tmp + "': " + errnoMessage(errno));
    }
    if (!s.isOk()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return internalError("cannot rename '" + tmp + "' to '" + path + "': " + errnoMessage(err));
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) ::fsync(dfd.get());
  return Status::ok();
}

Status makeDirs(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::path p(path);
  std::filesystem::path acc;
  for (const auto& part : p) {
    acc /= part;
    if (acc.empty() || std::filesystem::exists(acc, ec)) continue;
    if (::mkdir(acc.c_str(), mode) != 0 && errno != EEXIST) {
      return internalError("cannot create directory '" + acc.string() + "': " + errnoMessage(errno));
    }
  }
  return Status::ok();
}

Status removeAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return internalError("cannot remove '" + path + "': " + ec.message());
  return Status::ok();
}

bool pathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace berth::os
