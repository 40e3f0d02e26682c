#include "guest/boot.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "guest/init.h"
#include "guest/system_setup.h"

namespace berth::guest {
namespace {

void report(const char* step, const Status& status) {
  if (!status.isOk()) std::fprintf(stderr, "berth-init: %s: %s\n", step, status.toString().c_str());
}

std::string readLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

void useConsole() {
  int fd = ::open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return;
  for (int target = 0; target < 3; ++target) ::dup2(fd, target);
  ::close(fd);
  std::setvbuf(stderr, nullptr, _IONBF, 0);
}

// The ACPI power button (QMP system_powerdown) arrives as KEY_POWER on an input device.
std::vector<int> openInputDevices() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/dev/input");
  if (dir == nullptr) return fds;
  while (dirent* entry = ::readdir(dir)) {
    if (std::string(entry->d_name).rfind("event", 0) != 0) continue;
    int fd = ::open((std::string("/dev/input/") + entry->d_name).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) fds.push_back(fd);
  }
  ::closedir(dir);
  return fds;
}

[[noreturn]] void powerOff() {
  ::sync();
  ::umount2("/var/lib/berth", MNT_DETACH);
  std::fprintf(stderr, "berth-init: powering off\n");
  ::reboot(RB_POWER_OFF);
  // Without ACPI power-off the kernel halts; the runtime runs QEMU with -no-reboot, so a reset
  // ends the VM just as well.
  ::reboot(RB_AUTOBOOT);
  for (;;) ::pause();
}

}  // namespace

void bootAndServe(const BeforeServe& before_serve) {
  Status mounted = mountBaseFilesystems();
  useConsole();
  report("mount", mounted);
  ::setenv("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", 1);

  BootConfig config = parseKernelCmdline(readLine("/proc/cmdline"));
  report("modules", loadModules("/lib/modules"));
  report("hostname", setHostname(config.hostname));
  report("network", configureNetwork(config));
  report("scratch", mountScratch(config.scratch_device, "/var/lib/berth"));

  auto channel = Channel::open();
  for (int attempt = 0; !channel.isOk() && attempt < 50; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    channel = Channel::open();
  }
  if (!channel.isOk()) {
    report("channel", channel.status());
    powerOff();
  }
  Channel port = std::move(channel).value();
  if (before_serve) before_serve(config, port);
  Init init(config, std::move(port), readLine("/proc/sys/kernel/random/boot_id"),
            openInputDevices());
  init.run();
  powerOff();
}

}  // namespace berth::guest
