#pragma once
// Reads a file that is appended to and rotated while it is read: an app log (the agent renames
// it to <path>.1 and starts a new one) or the serial log (QEMU holds it open, so the agent
// copies it to <path>.1 and truncates it in place). Like `tail -F`, minus the polling policy,
// which is the caller's.

#include <sys/types.h>

#include <string>

#include "os/unique_fd.h"

namespace berth::agent {

class FileFollower {
 public:
  explicit FileFollower(std::string path);

  // Everything held now, <path>.1 first, and remembers where <path> ended.
  std::string readAll();
  // What was appended since the last read. After a rename, the rest of the old file comes
  // first, then the new file from its start; after a truncation, the file from its start.
  std::string readNew();

 private:
  void reopen();

  std::string path_;
  os::UniqueFd fd_;
  ino_t inode_ = 0;
  off_t offset_ = 0;
};

}  // namespace berth::agent
