#include "guest/image_store.h"

#include <endian.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <poll.h>
#include <sha2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "guest/virtio_port.h"
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

// The image port's answer header for a digest the host does not offer this VM.
constexpr std::uint64_t kRefused = UINT64_MAX;
// How long the host's end of the port may be away: its agent connects again within seconds.
constexpr int kHostTimeoutMs = 30'000;
// How long the host may send nothing while an answer is due.
constexpr int kProgressTimeoutMs = 30'000;

// Writes `data` to the port once the host is there.
Status sendRequest(int fd, const std::string& data) {
  std::size_t done = 0;
  for (int waited = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return errnoStatus("send image request");
    if (waited >= kHostTimeoutMs) return unavailable("the host is not serving the image port");
    // While the host is away the port polls as hung up at once, so the wait is paced here.
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, 100) <= 0 || (pfd.revents & POLLOUT) == 0) ::usleep(100'000);
    waited += 100;
  }
  return Status::ok();
}

// Reads 1 to `max` bytes of the answer.
Result<std::size_t> receiveSome(int fd, char* buffer, std::size_t max) {
  for (;;) {
    const ssize_t n = ::read(fd, buffer, max);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return unavailable("the host closed the image port mid-answer");
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return errnoStatus("receive image");
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, kProgressTimeoutMs);
    if (ready == 0) return unavailable("the host sent nothing on the image port for 30 s");
    if (ready < 0 && errno != EINTR) return errnoStatus("poll the image port");
  }
}

// Streams `size` bytes of the answer into `out`, checking they hash to `digest`.
Status receiveImage(int fd, const std::string& digest, std::uint64_t size, int out) {
  SHA2_CTX sha;
  SHA256Init(&sha);
  char buffer[256 * 1024];
  for (std::uint64_t received = 0; received < size;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buffer, size - received));
    BERTH_ASSIGN_OR_RETURN(std::size_t n, receiveSome(fd, buffer, want));
    received += n;
    SHA256Update(&sha, reinterpret_cast<const std::uint8_t*>(buffer), n);
    for (std::size_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buffer + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return errnoStatus("write image");
      done += static_cast<std::size_t>(w);
    }
  }
  char hex[SHA256_DIGEST_STRING_LENGTH];
  SHA256End(&sha, hex);
  if (digest != std::string("sha256:") + hex) {
    return invalidArgument("image " + digest + " arrived corrupt (its " + std::to_string(size) +
                           " bytes hash to sha256:" + hex + ")");
  }
  return Status::ok();
}

// One request on the VM's image port (docs/guest-protocol.md, "Image port"): the digest as a
// line, answered by a big-endian u64 length and that many bytes.
Status fetch(const std::string& digest, std::uint64_t size, const std::string& source, const std::string& path) {
  const std::string prefix = "port:";
  if (source.rfind(prefix, 0) != 0) return invalidArgument("image source '" + source + "' is not port:<name>");
  BERTH_ASSIGN_OR_RETURN(std::string device, virtioPortDevice(source.substr(prefix.size())));
  // Opened for this fetch alone: closing it discards what a fetch cut short left unread here.
  os::UniqueFd port(::open(device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!port) return errnoStatus("open " + device);
  BERTH_RETURN_IF_ERROR(sendRequest(port.get(), digest + "\n"));
  std::uint64_t header = 0;
  for (std::size_t got = 0; got < sizeof header;) {
    BERTH_ASSIGN_OR_RETURN(std::size_t n, receiveSome(port.get(), reinterpret_cast<char*>(&header) + got,
                                                      sizeof header - got));
    got += n;
  }
  const std::uint64_t length = be64toh(header);
  if (length == kRefused) return notFound("the host does not offer image " + digest + " to this VM");
  if (length != size) {
    return invalidArgument("the host answered " + std::to_string(length) + " bytes for image " + digest +
                           ", announced as " + std::to_string(size));
  }
  const std::string tmp = path + ".part";
  os::UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out) return errnoStatus("create " + tmp);
  Status received = receiveImage(port.get(), digest, size, out.get());
  if (received.isOk() && ::fsync(out.get()) != 0) received = errnoStatus("fsync " + tmp);
  if (received.isOk() && ::rename(tmp.c_str(), path.c_str()) != 0) received = errnoStatus("rename " + tmp);
  if (!received.isOk()) ::unlink(tmp.c_str());
  return received;
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
