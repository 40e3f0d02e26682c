#include "agent/runtime/qemu_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <x86intrin.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "agent/runtime/qmp_client.h"
#include "os/file_util.h"

namespace berth::agent {
namespace {

constexpr std::chrono::milliseconds kQmpTimeout{5000};

// Under TCG the guest's TSC is the host's, but a busy host makes the guest kernel's own
// calibration against the emulated PIT fail, and a microvm guest then never finishes booting
// (reproduced with 4 guests booting at once on 2 cores: all hung; with tsc_early_khz all
// booted). So the host's TSC rate is measured once and given to the guest.
int64_t measureTscKhz() {
  using std::chrono::steady_clock;
  const auto t0 = steady_clock::now();
  const std::uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::uint64_t c1 = __rdtsc();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(steady_clock::now() - t0).count();
  return ns > 0 ? static_cast<int64_t>((c1 - c0) * 1'000'000 / static_cast<std::uint64_t>(ns)) : 0;
}

// A forked child inherits the daemon's signal mask (berthd and berth-agent block SIGTERM and
// SIGINT for their sigwait), and exec keeps it: QEMU would ignore a plain `kill`. Children start
// clean.
void resetSignals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// /dev/kvm being there is not enough: nested hosts expose it and then fail on the first vCPU
// reset (seen here: "failed to set MSR 0x10a", QEMU aborts). So QEMU is started once with the
// real accelerator and CPU model and a monitor on stdin that says "quit": the monitor is read
// only after machine setup and the reset, so exit status 0 means KVM works. (A timing probe,
// "still alive after 500 ms", was fooled on a busy host, where the abort came later.)
bool kvmUsable(const std::string& qemu_binary) {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) return false;
  int commands[2];
  if (::pipe2(commands, O_CLOEXEC) != 0) return false;
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(commands[0]);
    ::close(commands[1]);
    return false;
  }
  if (child == 0) {
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(commands[0], 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::close_range(3, ~0U, 0);
    resetSignals();
    ::execlp(qemu_binary.c_str(), qemu_binary.c_str(), "-machine", "microvm,accel=kvm", "-cpu", "host", "-m", "64",
             "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "stdio", "-S", nullptr);
    ::_exit(127);
  }
  ::close(commands[0]);
  const char quit[] = "quit\n";
  (void)!::write(commands[1], quit, sizeof quit - 1);
  ::close(commands[1]);
  int status = 0;
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(child, &status, WNOHANG) == child) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
      spdlog::warn("qemu: /dev/kvm is present but KVM does not work here (probe exited with status {}); using TCG",
                   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(child, SIGKILL);
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  spdlog::warn("qemu: the KVM probe did not finish within 10 s; using TCG");
  return false;
}

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

}  // namespace

QemuFiles QemuFiles::of(const Paths::Vm& vm) {
  return {vm.dir + "/qemu.pid", vm.dir + "/qmp.sock", vm.dir + "/qemu.log"};
}

QemuHost probeQemuHost(const std::string& binary) {
  QemuHost host{binary, kvmUsable(binary), 0};
  if (!host.kvm) host.tsc_khz = measureTscKhz();
  spdlog::info("qemu: accelerator {}", host.kvm ? "kvm" : "tcg (no usable KVM); guests told the TSC runs at " +
                                                             std::to_string(host.tsc_khz) + " kHz");
  return host;
}

std::vector<std::string> qemuArgv(const QemuHost& host, const VmLaunch& launch, const Paths::Vm& vm) {
  const QemuFiles files = QemuFiles::of(vm);
  const bool microvm = launch.machine != "q35";
  const std::string accel = host.kvm ? "kvm" : "tcg";
  // Device names differ by bus: microvm has virtio-mmio only, q35 has PCI.
  const std::string serial_bus = microvm ? "virtio-serial-device" : "virtio-serial-pci";
  const std::string net_dev = microvm ? "virtio-net-device" : "virtio-net-pci";
  const std::string blk_dev = microvm ? "virtio-blk-device" : "virtio-blk-pci";
  std::string cmdline = "console=ttyS0 quiet panic=-1 berth.hostname=" + launch.name;
  if (!launch.nics.empty()) {
    const Nic& eth0 = launch.nics.front();
    if (!eth0.guest_cidr.empty()) cmdline += " berth.ip=" + eth0.guest_cidr;
    if (!eth0.gateway.empty()) cmdline += " berth.gw=" + eth0.gateway;
    if (!eth0.dns.empty()) cmdline += " berth.dns=" + eth0.dns;
  }
  cmdline += " berth.scratch=/dev/vda";
  if (!host.kvm && host.tsc_khz > 0) cmdline += " tsc_early_khz=" + std::to_string(host.tsc_khz);
  std::vector<std::string> argv = {
      host.binary,
      "-name", "berth-" + launch.project + "-" + launch.name,
      "-machine", (microvm ? "microvm,accel=" : "q35,accel=") + accel,
      "-cpu", host.kvm ? "host" : "max",
      "-smp", std::to_string(launch.vcpus),
      "-m", std::to_string(launch.memory_mib),
      "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      "-kernel", launch.kernel,
      "-initrd", launch.initramfs,
      "-append", cmdline,
      "-chardev", "socket,id=console,path=" + vm.consoleSocket() + ",server=on,wait=off,logfile=" +
                      vm.serialLog() + ",logappend=on",
      "-serial", "chardev:console",
      "-chardev", "socket,id=agent,path=" + vm.channelSocket() + ",server=on,wait=off",
      "-device", serial_bus,
      "-device", "virtserialport,chardev=agent,name=org.berth.agent.0",
      "-chardev", "socket,id=images,path=" + vm.imagesSocket() + ",server=on,wait=off",
      "-device", "virtserialport,chardev=images,name=org.berth.images.0",
  };
  for (std::size_t i = 0; i < launch.nics.size(); ++i) {
    const Nic& nic = launch.nics[i];
    const std::string id = "net" + std::to_string(i);
    // restrict=on: the guest reaches neither the host nor the outside, only what is forwarded in.
    const std::string netdev = nic.mode == Nic::Mode::kTap
                                   ? "tap,id=" + id + ",ifname=" + nic.tap + ",script=no,downscript=no"
                                   : "user,id=" + id + ",restrict=on";
    std::string device = net_dev + ",netdev=" + id;
    if (!nic.mac.empty()) device += ",mac=" + nic.mac;
    // The guest's driver takes it as its MTU (VIRTIO_NET_F_MTU): frames that cross a tunnel fit.
    if (nic.mtu > 0) device += ",host_mtu=" + std::to_string(nic.mtu);
    argv.insert(argv.end(), {"-netdev", netdev, "-device", device});
  }
  argv.insert(argv.end(), {
      "-drive", "id=scratch,file=" + vm.scratchDisk() + ",format=raw,if=none,cache=writeback",
      "-device", blk_dev + ",drive=scratch",
      "-qmp", "unix:" + files.qmp_socket + ",server=on,wait=off",
      "-pidfile", files.pidfile,
      "-daemonize",
  });
  return argv;
}

QemuRuntime::QemuRuntime(QemuHost host) : host_(std::move(host)) {}

const std::string& QemuRuntime::name() const {
  static const std::string kName = "qemu";
  return kName;
}

RuntimeCapabilities QemuRuntime::capabilities() const {
  // microvm has no hot-plug bus, and pause and snapshot have no user yet.
  RuntimeCapabilities capabilities;
  capabilities.user_mode_nic = true;
  return capabilities;
}

std::string QemuRuntime::channelEndpoint(const Paths::Vm& vm) const { return vm.channelSocket(); }

Result<pid_t> QemuRuntime::launch(const VmLaunch& launch, const Paths::Vm& paths) {
  const QemuFiles files = QemuFiles::of(paths);
  if (::access(launch.kernel.c_str(), R_OK) != 0) {
    return failedPrecondition("guest kernel " + launch.kernel +
                              " is missing (run scripts/fetch-guest-kernel or pass --kernel)");
  }
  if (paths.channelSocket().size() >= 100) {
    return invalidArgument("VM directory path too long for unix sockets: " + paths.dir);
  }
  BERTH_RETURN_IF_ERROR(os::makeDirs(paths.dir, 0700));
  BERTH_RETURN_IF_ERROR(os::makeDirs(paths.imagesDir(), 0700));
  for (const std::string& stale : {files.pidfile, files.qmp_socket, paths.channelSocket(), paths.consoleSocket(),
                                   paths.imagesSocket()}) {
    ::unlink(stale.c_str());
  }
  if (::access(paths.scratchDisk().c_str(), F_OK) != 0) {
    // A sparse file formatted once; the guest keeps image copies and app data on it.
    const std::string tmp = paths.scratchDisk() + ".tmp";
    os::UniqueFd disk(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!disk || ::ftruncate(disk.get(), launch.disk_gib << 30) != 0) {
      return internalError("cannot create scratch disk " + tmp + ": " + std::strerror(errno));
    }
    disk.reset();
    const std::string mkfs = "mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 -L berth-scratch " +
                             shellQuote(tmp) + " >/dev/null 2>&1";
    if (std::system(mkfs.c_str()) != 0) return internalError("mkfs.ext4 of the scratch disk failed (is e2fsprogs installed?)");
    if (::rename(tmp.c_str(), paths.scratchDisk().c_str()) != 0) return internalError("cannot place scratch disk");
  }

  std::vector<std::string> argv = qemuArgv(host_, launch, paths);
  std::vector<char*> cargv;
  for (auto& arg : argv) cargv.push_back(arg.data());
  cargv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return internalError(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    int log = ::open(files.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    if (log >= 0) ::dup2(log, 2);
    // QEMU outlives this process: it must not keep berthd's listening socket or any other
    // descriptor the daemon opened without O_CLOEXEC.
    ::close_range(3, ~0U, 0);
    resetSignals();
    ::setsid();
    ::execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    auto log = os::readFile(files.log);
    std::string reason = log.isOk() ? *log : std::string();
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    return internalError("QEMU failed to start: " + (reason.empty() ? std::string("no output") : reason));
  }
  auto pid = running(paths);
  if (!pid) return internalError("QEMU started but left no live pid in " + files.pidfile);
  return *pid;
}

std::optional<pid_t> QemuRuntime::running(const Paths::Vm& paths) {
  const QemuFiles files = QemuFiles::of(paths);
  auto text = os::readFile(files.pidfile);
  if (!text.isOk()) return std::nullopt;
  const pid_t pid = static_cast<pid_t>(std::atoi(text->c_str()));
  if (pid <= 0 || ::kill(pid, 0) != 0) return std::nullopt;
  // A recycled pid is not our VM: its command line must name this VM's QMP socket.
  auto cmdline = os::readFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmdline.isOk() || cmdline->find(files.qmp_socket) == std::string::npos) return std::nullopt;
  return pid;
}

Status QemuRuntime::stop(const Paths::Vm& paths) {
  BERTH_ASSIGN_OR_RETURN(auto qmp, QmpClient::connect(QemuFiles::of(paths).qmp_socket, kQmpTimeout));
  return qmp->execute("system_powerdown").status();
}

Status QemuRuntime::kill(const Paths::Vm& paths) {
  auto pid = running(paths);
  if (!pid) return Status::ok();
  if (auto qmp = QmpClient::connect(QemuFiles::of(paths).qmp_socket, kQmpTimeout); qmp.isOk()) {
    (void)(*qmp)->execute("quit");
  }
  for (int i = 0; i < 100 && running(paths); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (auto still = running(paths)) ::kill(*still, SIGKILL);
  return Status::ok();
}

}  // namespace berth::agent
