#include "os/run_command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "os/file_util.h"
#include "os/unique_fd.h"

namespace berth::os {
namespace {

// Enough of a tool's stderr to explain its failure; a chatty tool must not fill our memory.
constexpr std::size_t kStderrTail = 4096;
constexpr off_t kMaxOutput = 4 << 20;

// posix_spawn's attribute objects, destroyed on every path out.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "no output" : text;
}

// Runs `argv` with its stdout on `stdout_fd` (or /dev/null when -1) and waits for it.
Status spawnAndWait(const std::vector<std::string>& argv, int stdout_fd) {
  if (argv.empty()) return invalidArgument("runCommand: empty argv");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return internalError("pipe: " + os::errnoMessage(errno));
  os::UniqueFd read_end(pipe_fds[0]);
  os::UniqueFd write_end(pipe_fds[1]);

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&setup.actions, stdout_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&setup.actions, 1, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&setup.actions, write_end.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  // The daemons block SIGTERM/SIGINT for sigwait and ignore SIGPIPE; exec keeps both, and a
  // tool that cannot be stopped or that misses EPIPE is not what we want to run.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> cargv;
  for (const auto& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = 0;
  if (int err = ::posix_spawnp(&pid, cargv[0], &setup.actions, &setup.attr, cargv.data(), environ);
      err != 0) {
    return internalError("cannot run " + argv[0] + ": " + os::errnoMessage(err));
  }
  write_end.reset();  // so that the read below ends when the child exits

  std::string err_text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    err_text.append(buf, static_cast<std::size_t>(n));
    if (err_text.size() > 2 * kStderrTail) err_text.erase(0, err_text.size() - kStderrTail);
  }
  if (err_text.size() > kStderrTail) err_text.erase(0, err_text.size() - kStderrTail);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return internalError("waitpid for " + argv[0] + ": " + os::errnoMessage(errno));
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::ok();
  const std::string how = WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                            : "signal " + std::to_string(WTERMSIG(status));
  return internalError(argv[0] + " failed (" + how + "): " + trimmed(std::move(err_text)));
}

}  // namespace

Status runCommand(const std::vector<std::string>& argv) { return spawnAndWait(argv, -1); }

Result<std::string> runCommandOutput(const std::vector<std::string>& argv) {
  // A memory file rather than a pipe: with stderr already on a pipe, two pipes would need a poll
  // loop so that neither fills while the other is read.
  os::UniqueFd out(::memfd_create("berth-command-output", MFD_CLOEXEC));
  if (!out) return internalError("memfd_create: " + os::errnoMessage(errno));
  BERTH_RETURN_IF_ERROR(spawnAndWait(argv, out.get()));
  const off_t size = ::lseek(out.get(), 0, SEEK_END);
  if (size < 0) return internalError("lseek: " + os::errnoMessage(errno));
  if (size > kMaxOutput) {
    return internalError(argv[0] + " wrote more than " + std::to_string(kMaxOutput) + " bytes");
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  if (::pread(out.get(), text.data(), text.size(), 0) != size) {
    return internalError("cannot read the output of " + argv[0] + ": " + os::errnoMessage(errno));
  }
  return text;
}

}  // namespace berth::os
