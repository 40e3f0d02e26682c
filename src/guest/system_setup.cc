#include "guest/system_setup.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "os/unique_fd.h"

namespace berth::guest {
namespace {

Status errnoStatus(const std::string& what) {
  return internalError(what + ": " + std::strerror(errno));
}

Status mountOne(const char* source, const char* target, const char* type, unsigned long flags,
                const char* data) {
  ::mkdir(target, 0755);
  if (::mount(source, target, type, flags, data) != 0 && errno != EBUSY) {
    return errnoStatus(std::string("mount ") + type + " on " + target);
  }
  return Status::ok();
}

Status setFlagsUp(int sock, const std::string& name) {
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(sock, SIOCGIFFLAGS, &req) != 0) return errnoStatus("SIOCGIFFLAGS " + name);
  req.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock, SIOCSIFFLAGS, &req) != 0) return errnoStatus("SIOCSIFFLAGS " + name);
  return Status::ok();
}

Status setInetAddress(int sock, const std::string& name, unsigned long request, in_addr addr) {
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  auto* sin = reinterpret_cast<sockaddr_in*>(&req.ifr_addr);
  sin->sin_family = AF_INET;
  sin->sin_addr = addr;
  if (::ioctl(sock, request, &req) != 0) return errnoStatus("address ioctl on " + name);
  return Status::ok();
}

}  // namespace

Status mountBaseFilesystems() {
  BERTH_RETURN_IF_ERROR(mountOne("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr));
  BERTH_RETURN_IF_ERROR(mountOne("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr));
  BERTH_RETURN_IF_ERROR(mountOne("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"));
  ::mkdir("/dev/pts", 0755);
  BERTH_RETURN_IF_ERROR(mountOne("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666"));
  BERTH_RETURN_IF_ERROR(mountOne("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr));
  BERTH_RETURN_IF_ERROR(mountOne("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"));
  BERTH_RETURN_IF_ERROR(mountOne("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));
  return Status::ok();
}

Status loadModules(const std::string& dir) {
  std::ifstream order(dir + "/load.order");
  if (!order) return notFound("no " + dir + "/load.order in the initramfs");
  std::string name;
  while (std::getline(order, name)) {
    if (name.empty()) continue;
    const std::string path = dir + "/" + name;
    os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errnoStatus("open module " + path);
    if (::syscall(SYS_finit_module, fd.get(), "", 0) != 0 && errno != EEXIST) {
      return errnoStatus("load module " + name);
    }
  }
  return Status::ok();
}

Status setHostname(const std::string& hostname) {
  if (::sethostname(hostname.c_str(), hostname.size()) != 0) return errnoStatus("sethostname");
  return Status::ok();
}

Status configureNetwork(const BootConfig& config) {
  os::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return errnoStatus("socket");
  BERTH_RETURN_IF_ERROR(setFlagsUp(sock.get(), "lo"));
  if (config.address.empty()) return Status::ok();

  const std::size_t slash = config.address.find('/');
  const std::string ip = config.address.substr(0, slash);
  const int prefix = slash == std::string::npos ? 24 : std::stoi(config.address.substr(slash + 1));
  in_addr addr{}, mask{}, gateway{};
  if (::inet_pton(AF_INET, ip.c_str(), &addr) != 1 || prefix < 0 || prefix > 32) {
    return invalidArgument("berth.ip '" + config.address + "' is not an IPv4 address/prefix");
  }
  mask.s_addr = htonl(prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix));

  // The NIC's driver was just loaded; give its probe a moment to register eth0.
  Status up;
  for (int attempt = 0; attempt < 100; ++attempt) {
    up = setFlagsUp(sock.get(), "eth0");
    if (up.isOk()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BERTH_RETURN_IF_ERROR(up);
  BERTH_RETURN_IF_ERROR(setInetAddress(sock.get(), "eth0", SIOCSIFADDR, addr));
  BERTH_RETURN_IF_ERROR(setInetAddress(sock.get(), "eth0", SIOCSIFNETMASK, mask));

  if (!config.gateway.empty()) {
    if (::inet_pton(AF_INET, config.gateway.c_str(), &gateway) != 1) {
      return invalidArgument("berth.gw '" + config.gateway + "' is not an IPv4 address");
    }
    rtentry route{};
    auto* dst = reinterpret_cast<sockaddr_in*>(&route.rt_dst);
    auto* gw = reinterpret_cast<sockaddr_in*>(&route.rt_gateway);
    auto* genmask = reinterpret_cast<sockaddr_in*>(&route.rt_genmask);
    dst->sin_family = gw->sin_family = genmask->sin_family = AF_INET;
    gw->sin_addr = gateway;
    route.rt_flags = RTF_UP | RTF_GATEWAY;
    if (::ioctl(sock.get(), SIOCADDRT, &route) != 0 && errno != EEXIST) {
      return errnoStatus("default route");
    }
  }
  if (!config.nameserver.empty()) {
    ::mkdir("/etc", 0755);
    std::ofstream resolv("/etc/resolv.conf", std::ios::trunc);
    resolv << "nameserver " << config.nameserver << "\n";
  }
  return Status::ok();
}

Status mountScratch(const std::string& device, const std::string& mount_point) {
  ::mkdir("/var", 0755);
  ::mkdir("/var/lib", 0755);
  ::mkdir(mount_point.c_str(), 0755);
  struct stat st{};
  if (::stat(device.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
    if (::mount(device.c_str(), mount_point.c_str(), "ext4", MS_NOATIME, nullptr) == 0) {
      return Status::ok();
    }
    return errnoStatus("mount scratch disk " + device);
  }
  return mountOne("tmpfs", mount_point.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
}

}  // namespace berth::guest
