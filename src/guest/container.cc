#include "guest/container.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/unique_fd.h"

namespace berth::guest {

namespace {
// Device nodes a program may expect; binding them (rather than mounting devtmpfs) keeps the
// VM's disks and consoles out of the container.
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void ignoreSignal(int) {}

// /dev/<name> into root's dev: an empty file as the mount point, then a bind.
int bindDevice(const char* name, const std::string& dev) {
  char src[64], dst[512];
  int n = snprintf(dst, sizeof dst, "%s/%s", dev.c_str(), name);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof dst) return ENAMETOOLONG;
  snprintf(src, sizeof src, "/dev/%s", name);
  int fd = ::open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) return errno;
  ::close(fd);
  if (::mount(src, dst, nullptr, MS_BIND, nullptr) != 0) return errno;
  return 0;
}
}  // namespace

namespace {
constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
constexpr const char* kControllers = "+memory +cpu +pids";

Status writeControl(const std::string& path, const std::string& value) {
  os::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return internalError("cannot write '" + value + "' to " + path + ": " + std::strerror(errno));
  }
  return Status::ok();
}
}  // namespace

Result<std::string> createCgroup(const std::string& name, const ContainerLimits& limits) {
  const std::string parent = std::string(kCgroupRoot) + "/berth";
  if (::access(parent.c_str(), F_OK) != 0) {
    BERTH_RETURN_IF_ERROR(writeControl(std::string(kCgroupRoot) + "/cgroup.subtree_control", kControllers));
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return internalError("cannot create " + parent + ": " + std::strerror(errno));
    }
    BERTH_RETURN_IF_ERROR(writeControl(parent + "/cgroup.subtree_control", kControllers));
  }
  const std::string dir = parent + "/" + name;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return internalError("cannot create " + dir + ": " + std::strerror(errno));
  }
  if (limits.memory_max) {
    BERTH_RETURN_IF_ERROR(writeControl(dir + "/memory.max", std::to_string(limits.memory_max)));
    // No swap in a guest anyway; past the limit is an OOM kill, not a slow crawl.
    (void)writeControl(dir + "/memory.swap.max", "0");
  }
  if (limits.cpu_max_millis) {
    BERTH_RETURN_IF_ERROR(writeControl(dir + "/cpu.max", std::to_string(limits.cpu_max_millis * 100) + " 100000"));
  }
  if (limits.pids_max) BERTH_RETURN_IF_ERROR(writeControl(dir + "/pids.max", std::to_string(limits.pids_max)));
  return dir;
}

void removeCgroup(const std::string& path) {
  if (!path.empty()) ::rmdir(path.c_str());
}

ContainerPaths containerPaths(const ContainerSpec& spec) {
  ContainerPaths p;
  p.upper = spec.state_dir + "/upper";
  p.work = spec.state_dir + "/work";
  p.root = spec.state_dir + "/root";
  p.options = "lowerdir=" + spec.lower + ",upperdir=" + p.upper + ",workdir=" + p.work;
  if (!spec.cgroup.empty()) p.cgroup_procs = spec.cgroup + "/cgroup.procs";
  p.proc = p.root + "/proc";
  p.dev = p.root + "/dev";
  p.tmp = p.root + "/tmp";
  p.run = p.root + "/run";
  p.run_secrets = p.run + "/secrets";
  return p;
}

int containerCloneFlags() { return CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC; }

int enterContainerRoot(const ContainerSpec& spec, const ContainerPaths& p) {
  // "0" is the writer itself; before anything else, so every process of the container counts.
  if (!p.cgroup_procs.empty()) {
    int fd = ::open(p.cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    const bool moved = ::write(fd, "0", 1) == 1;
    const int err = errno;
    ::close(fd);
    if (!moved) return err;
  }
  // Nothing mounted here may leak back into the VM's namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno;
  if (::mount("overlay", p.root.c_str(), "overlay", 0, p.options.c_str()) != 0) return errno;
  for (const std::string* dir : {&p.proc, &p.dev, &p.tmp, &p.run}) {
    if (::mkdir(dir->c_str(), 0755) != 0 && errno != EEXIST) return errno;
  }
  if (::mount("proc", p.proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) return errno;
  if (::mount("tmpfs", p.dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") != 0) return errno;
  for (const char* name : kDevices) {
    if (int err = bindDevice(name, p.dev)) return err;
  }
  if (::mount("tmpfs", p.tmp.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) return errno;
  if (::mount("tmpfs", p.run.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) return errno;
  if (!spec.secrets_dir.empty() && ::access(spec.secrets_dir.c_str(), F_OK) == 0) {
    if (::mkdir(p.run_secrets.c_str(), 0700) != 0 && errno != EEXIST) return errno;
    if (::mount(spec.secrets_dir.c_str(), p.run_secrets.c_str(), nullptr, MS_BIND, nullptr) != 0) return errno;
    ::mount(nullptr, p.run_secrets.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr);
  }
  if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) return errno;
  if (::chdir(p.root.c_str()) != 0) return errno;
  // pivot_root(".", "."): the old root ends up stacked under the new one and is detached.
  if (::syscall(SYS_pivot_root, ".", ".") == 0) {
    if (::umount2(".", MNT_DETACH) != 0) return errno;
    return ::chdir("/") == 0 ? 0 : errno;
  }
  // In a guest the root is the initramfs, which pivot_root cannot leave (EINVAL). As
  // switch_root does, the new root is moved over / and entered with chroot: the initramfs
  // is then covered by it, and no path leads back.
  if (errno != EINVAL) return errno;
  if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) return errno;
  if (::chroot(".") != 0) return errno;
  return ::chdir("/") == 0 ? 0 : errno;
}

int joinContainer(const int ns_fds[4]) {
  for (int i = 0; i < 4; ++i) {
    if (::setns(ns_fds[i], 0) != 0) return errno;
  }
  return 0;
}

int forkAppUnderReaper() {
  // Handlers (not SIG_IGN) so the kernel delivers these to a namespace's PID 1; blocked so
  // they queue for sigwait below.
  sigset_t wanted;
  sigemptyset(&wanted);
  struct sigaction action {};
  action.sa_handler = ignoreSignal;
  for (int sig : kForwarded) {
    ::sigaction(sig, &action, nullptr);
    sigaddset(&wanted, sig);
  }
  sigaddset(&wanted, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &wanted, nullptr);
  const pid_t app = ::fork();
  if (app < 0) return errno;
  if (app == 0) {
    sigset_t none;
    sigemptyset(&none);
    for (int sig : kForwarded) ::signal(sig, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    return 0;
  }
  // Close every descriptor: the app's pipes and the exec-report pipe must belong to the app
  // alone, so init sees end-of-file when the app (not the reaper) is done with them.
  ::close_range(0, ~0U, 0);
  for (;;) {
    int sig = 0;
    if (::sigwait(&wanted, &sig) != 0) continue;
    if (sig != SIGCHLD) {
      ::kill(app, sig);
      continue;
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != app) continue;
      ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

}  // namespace berth::guest
