#pragma once
// Starting a child of init with its output on pipes. The child gets its own session (so a
// signal to the group reaches everything it forks) and only the descriptors it is given.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "os/unique_fd.h"

namespace berth::guest {

struct ProcessSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "KEY=value"
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  bool with_stdin = false;
};

struct Process {
  pid_t pid = -1;
  os::UniqueFd stdin_fd;  // valid only with ProcessSpec::with_stdin
  os::UniqueFd stdout_fd;
  os::UniqueFd stderr_fd;
};

Result<Process> spawnProcess(const ProcessSpec& spec);

}  // namespace berth::guest
