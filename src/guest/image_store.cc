#include "guest/image_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <netinet/in.h>
#include <sha2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "os/unique_fd.h"

namespace berth::guest {
namespace {

Status errnoStatus(const std::string& what) {
  return internalError(what + ": " + std::strerror(errno));
}

bool isMounted(const std::string& mount_point) {
  std::ifstream mounts("/proc/self/mounts");
  std::string source, target, rest;
  while (mounts >> source >> target && std::getline(mounts, rest)) {
    if (target == mount_point) return true;
  }
  return false;
}

Result<os::UniqueFd> connectTo(const std::string& source) {
  const std::size_t colon = source.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (colon == std::string::npos ||
      ::inet_pton(AF_INET, source.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return invalidArgument("image source '" + source + "' is not ip:port");
  }
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(source.substr(colon + 1))));
  os::UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return errnoStatus("socket");
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return errnoStatus("connect to image source " + source);
  }
  return sock;
}

Status fetch(const std::string& digest, std::uint64_t size, const std::string& source,
             const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(os::UniqueFd sock, connectTo(source));
  const std::string request = digest + "\n";
  if (::write(sock.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    return errnoStatus("send image request");
  }
  const std::string tmp = path + ".part";
  os::UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out) return errnoStatus("create " + tmp);
  SHA2_CTX sha;
  SHA256Init(&sha);
  std::uint64_t received = 0;
  char buffer[256 * 1024];
  for (;;) {
    ssize_t n = ::read(sock.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoStatus("receive image");
    if (n == 0) break;
    received += static_cast<std::uint64_t>(n);
    if (received > size) return invalidArgument("image " + digest + " is larger than announced");
    SHA256Update(&sha, reinterpret_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(n));
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buffer + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return errnoStatus("write " + tmp);
      done += w;
    }
  }
  char hex[SHA256_DIGEST_STRING_LENGTH];
  SHA256End(&sha, hex);
  if (received != size || digest != std::string("sha256:") + hex) {
    ::unlink(tmp.c_str());
    return invalidArgument("image " + digest + " arrived corrupt (" + std::to_string(received) +
                           " of " + std::to_string(size) + " bytes, sha256:" + hex + ")");
  }
  if (::fsync(out.get()) != 0) return errnoStatus("fsync " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errnoStatus("rename " + tmp);
  return Status::ok();
}

Status loopMount(const std::string& image, const std::string& mount_point) {
  os::UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control) return errnoStatus("open /dev/loop-control");
  const int index = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
  if (index < 0) return errnoStatus("LOOP_CTL_GET_FREE");
  const std::string device = "/dev/loop" + std::to_string(index);
  os::UniqueFd loop(::open(device.c_str(), O_RDWR | O_CLOEXEC));
  if (!loop) return errnoStatus("open " + device);
  os::UniqueFd backing(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
  if (!backing) return errnoStatus("open " + image);
  loop_config config{};
  config.fd = static_cast<std::uint32_t>(backing.get());
  config.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
  if (::ioctl(loop.get(), LOOP_CONFIGURE, &config) != 0) return errnoStatus("LOOP_CONFIGURE " + device);
  ::mkdir("/images", 0755);
  ::mkdir(mount_point.c_str(), 0755);
  if (::mount(device.c_str(), mount_point.c_str(), "ext4", MS_RDONLY | MS_NODEV | MS_NOSUID, nullptr) != 0) {
    return errnoStatus("mount image " + image);
  }
  return Status::ok();
}

}  // namespace

Result<std::string> ensureImage(const std::string& digest, std::uint64_t size,
                                const std::string& source, const std::string& store_dir) {
  const std::string prefix = "sha256:";
  if (digest.size() != prefix.size() + 64 || digest.rfind(prefix, 0) != 0 ||
      digest.find_first_not_of("0123456789abcdef", prefix.size()) != std::string::npos) {
    return invalidArgument("image digest '" + digest + "' is not sha256:<64 hex>");
  }
  const std::string hex = digest.substr(prefix.size());
  const std::string mount_point = "/images/" + hex;
  if (isMounted(mount_point)) return mount_point;
  const std::string dir = store_dir + "/images";
  ::mkdir(dir.c_str(), 0700);
  const std::string path = dir + "/" + hex + ".ext4";
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    BERTH_RETURN_IF_ERROR(fetch(digest, size, source, path));
  }
  BERTH_RETURN_IF_ERROR(loopMount(path, mount_point));
  return mount_point;
}

}  // namespace berth::guest
