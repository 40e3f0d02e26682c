#include "os/detached_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace berth::os {

Status spawnDetached(const std::vector<std::string>& argv, const std::string& log_path,
                     const std::vector<std::string>* env) {
  if (argv.empty()) return invalidArgument("spawnDetached: empty argv");
  // Built before fork: the child of a threaded process may only make async-signal-safe calls.
  std::vector<char*> cargv, cenv;
  for (const std::string& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);
  if (env) {
    for (const std::string& var : *env) cenv.push_back(const_cast<char*>(var.c_str()));
    cenv.push_back(nullptr);
  }
  const pid_t child = ::fork();
  if (child < 0) return internalError(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    const int null_fd = ::open("/dev/null", O_RDWR);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(log_fd >= 0 ? log_fd : null_fd, 2);
    ::close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (env) {
      ::execve(cargv[0], cargv.data(), cenv.data());
    } else {
      ::execv(cargv[0], cargv.data());
    }
    std::fprintf(stderr, "cannot run %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  return Status::ok();
}

}  // namespace berth::os
