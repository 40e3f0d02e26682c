#include "guest/process.h"

#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "os/file_util.h"

namespace berth::guest {
namespace {

Result<std::pair<os::UniqueFd, os::UniqueFd>> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return internalError(std::string("pipe: ") + std::strerror(errno));
  return std::make_pair(os::UniqueFd(fds[0]), os::UniqueFd(fds[1]));
}

}  // namespace

std::vector<std::string> envEntries(const std::map<std::string, std::string>& env) {
  std::vector<std::string> entries;
  for (const auto& [key, value] : env) entries.push_back(key + "=" + value);
  return entries;
}

Result<Process> spawnProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return invalidArgument("argv is empty");
  BERTH_ASSIGN_OR_RETURN(auto out, makePipe());
  BERTH_ASSIGN_OR_RETURN(auto err, makePipe());
  std::pair<os::UniqueFd, os::UniqueFd> in;
  if (spec.with_stdin) {
    BERTH_ASSIGN_OR_RETURN(in, makePipe());
  }

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  const char* path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  for (const std::string& kv : spec.env) {
    envp.push_back(const_cast<char*>(kv.c_str()));
    if (kv.rfind("PATH=", 0) == 0) path = kv.c_str() + 5;
  }
  envp.push_back(nullptr);

  ContainerPaths container;
  if (spec.container) {
    container = containerPaths(*spec.container);
    for (const std::string* dir : {&container.upper, &container.work, &container.root}) {
      BERTH_RETURN_IF_ERROR(os::makeDirs(*dir, 0755));
    }
  }
  // Opened before the fork: the child may not allocate. pid before mnt: after joining the mount
  // namespace /proc is the container's.
  std::array<os::UniqueFd, 4> ns_fds;
  int ns_raw[4] = {-1, -1, -1, -1};
  if (spec.join_pid > 0) {
    const char* kinds[] = {"ipc", "uts", "pid", "mnt"};
    for (int i = 0; i < 4; ++i) {
      const std::string path = "/proc/" + std::to_string(spec.join_pid) + "/ns/" + kinds[i];
      ns_fds[i] = os::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns_fds[i]) return unavailable("the app's container is gone (" + path + ": " + std::strerror(errno) + ")");
      ns_raw[i] = ns_fds[i].get();
    }
  }

  // A pipe that closes on a successful exec and carries errno otherwise.
  BERTH_ASSIGN_OR_RETURN(auto report, makePipe());
  // SAFETY: clone without a new stack behaves as fork; init is single-threaded, so the child
  // (PID 1 of its namespace) may go on to fork itself.
  const pid_t pid = spec.container ? static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD | containerCloneFlags(),
                                                                  nullptr, nullptr, nullptr, nullptr))
                                   : ::fork();
  if (pid < 0) return internalError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setsid();
    // Init blocks the signals its signalfd reads, and exec keeps a blocked mask: an app would
    // never see SIGTERM (every stop would wait out its grace and end in SIGKILL).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(spec.with_stdin ? in.first.get() : null_fd, 0);
    ::dup2(out.second.get(), 1);
    ::dup2(err.second.get(), 2);
    int failure = 0;
    if (spec.container) failure = enterContainerRoot(*spec.container, container);
    if (!failure && spec.join_pid > 0) failure = joinContainer(ns_raw);
    // Only the app returns from here; its reaper stays behind.
    if (!failure && (spec.container || spec.join_pid > 0)) failure = forkAppUnderReaper();
    if (!failure && ::chdir(spec.cwd.c_str()) != 0) failure = errno;
    if (!failure && spec.gid != 0 && (::setgroups(0, nullptr) != 0 || ::setgid(spec.gid) != 0)) failure = errno;
    if (!failure && spec.uid != 0 && ::setuid(spec.uid) != 0) failure = errno;
    if (!failure) {
      ::setenv("PATH", path, 1);
      ::execvpe(argv[0], argv.data(), envp.data());
      failure = errno;
    }
    (void)!::write(report.second.get(), &failure, sizeof failure);
    ::_exit(127);
  }
  report.second.reset();
  int failure = 0;
  ssize_t n;
  do {
    n = ::read(report.first.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof failure) {
    // The child has exited (status 127); init's reaper collects it.
    return invalidArgument("cannot start '" + spec.argv[0] + "' in " + spec.cwd + ": " +
                           std::strerror(failure));
  }
  Process process;
  process.pid = pid;
  process.stdout_fd = std::move(out.first);
  process.stderr_fd = std::move(err.first);
  if (spec.with_stdin) process.stdin_fd = std::move(in.second);
  for (int fd : {process.stdout_fd.get(), process.stderr_fd.get()}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return process;
}

}  // namespace berth::guest
