#pragma once
// Starting a child of init with its output on pipes. The child gets its own session (so a
// signal to the group reaches everything it forks) and only the descriptors it is given.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "guest/container.h"
#include "os/unique_fd.h"

namespace berth::guest {

struct ProcessSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "KEY=value"
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  bool with_stdin = false;
  // A container app: new namespaces and root (guest/container.h); `cwd` is inside it.
  std::optional<ContainerSpec> container;
  // An exec into the container whose first process is this pid: joins its namespaces.
  pid_t join_pid = 0;
};

struct Process {
  pid_t pid = -1;
  os::UniqueFd stdin_fd;  // valid only with ProcessSpec::with_stdin
  os::UniqueFd stdout_fd;
  os::UniqueFd stderr_fd;
};

// A run_app or exec environment as ProcessSpec::env holds it: "KEY=value", in key order.
std::vector<std::string> envEntries(const std::map<std::string, std::string>& env);

// For a container or a join, `pid` is the container's reaper (guest/container.h), which passes
// signals on and exits with the app's status.
Result<Process> spawnProcess(const ProcessSpec& spec);

}  // namespace berth::guest
