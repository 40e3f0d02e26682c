#include "agent/sessions/file_follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/file_util.h"

namespace berth::agent {

namespace {
// Reads from `offset` to the end of `fd`, advancing `offset`.
std::string readFrom(int fd, off_t& offset) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    offset += n;
  }
}
}  // namespace

FileFollower::FileFollower(std::string path) : path_(std::move(path)) {}

void FileFollower::reopen() {
  fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st{};
  inode_ = fd_ && ::fstat(fd_.get(), &st) == 0 ? st.st_ino : 0;
  offset_ = 0;
}

std::string FileFollower::readAll() {
  auto rotated = os::readFile(path_ + ".1");
  std::string out = rotated.isOk() ? std::move(rotated).value() : std::string();
  reopen();
  if (fd_) out += readFrom(fd_.get(), offset_);
  return out;
}

std::string FileFollower::readNew() {
  std::string out;
  struct stat st{};
  const bool exists = ::stat(path_.c_str(), &st) == 0;
  if (!fd_ || !exists || st.st_ino != inode_) {
    // Rotated by rename (or created since): finish the old file, then start on the new one.
    if (fd_) out += readFrom(fd_.get(), offset_);
    if (!exists) {
      fd_.reset();
      return out;
    }
    reopen();
  } else if (st.st_size < offset_) {
    offset_ = 0;  // truncated in place
  }
  if (fd_) out += readFrom(fd_.get(), offset_);
  return out;
}

}  // namespace berth::agent
