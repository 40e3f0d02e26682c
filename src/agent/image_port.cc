#include "agent/image_port.h"

#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "common/crypto.h"

namespace berth::agent {
namespace {

using Clock = std::chrono::steady_clock;

// "sha256:" + 64 hex + "\n": a request line is never longer.
constexpr std::size_t kLineMax = 72;
constexpr std::size_t kChunk = 64 * 1024;

int msUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

os::UniqueFd connectTo(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  return fd;
}

}  // namespace

ImagePort::ImagePort(std::string socket_path, std::string images_dir, ImagePortTimeouts timeouts)
    : socket_path_(std::move(socket_path)),
      images_dir_(std::move(images_dir)),
      timeouts_(timeouts),
      stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      thread_([this] { run(); }) {}

ImagePort::~ImagePort() {
  const std::uint64_t one = 1;
  (void)!::write(stop_.get(), &one, sizeof one);
  thread_.join();
}

bool ImagePort::stopping() const {
  pollfd pfd{stop_.get(), POLLIN, 0};
  return ::poll(&pfd, 1, 0) != 0;
}

bool ImagePort::waitFor(int fd, short events, int timeout_ms) {
  pollfd pfds[2] = {{stop_.get(), POLLIN, 0}, {fd, events, 0}};
  const nfds_t count = fd >= 0 ? 2 : 1;
  int n;
  do {
    n = ::poll(pfds, count, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n > 0 && pfds[0].revents == 0 && count == 2;
}

void ImagePort::run() {
  auto backoff = timeouts_.reconnect_min;
  while (!stopping()) {
    os::UniqueFd fd = connectTo(socket_path_);
    if (!fd) {
      // No QEMU yet (or any more): the VM is booting, stopped or rebooting.
      (void)waitFor(-1, 0, static_cast<int>(backoff.count()));
      backoff = std::min(backoff * 2, timeouts_.reconnect_max);
      continue;
    }
    backoff = timeouts_.reconnect_min;
    if (!serve(fd.get())) return;
    fd.reset();
    // The connection ended (QEMU went away, or the guest misbehaved and lost it): a guest that
    // keeps misbehaving costs one connection per pause.
    (void)waitFor(-1, 0, static_cast<int>(timeouts_.reconnect_max.count()));
  }
}

bool ImagePort::serve(int fd) {
  std::array<char, kLineMax> line{};
  std::size_t used = 0;
  std::optional<Clock::time_point> deadline;  // set while a request is under way
  for (;;) {
    if (auto* newline = std::find(line.data(), line.data() + used, '\n'); newline != line.data() + used) {
      const std::string request(line.data(), newline);
      used -= static_cast<std::size_t>(newline + 1 - line.data());
      std::memmove(line.data(), newline + 1, used);
      deadline.reset();
      if (!answer(fd, request)) return !stopping();
      if (used > 0) deadline = Clock::now() + timeouts_.request;
      continue;
    }
    if (used == line.size()) {
      spdlog::warn("image port {}: the guest sent a request line longer than a digest; dropping its connection",
                   socket_path_);
      const std::uint64_t refused = htobe64(kImageRefused);
      (void)writeAll(fd, reinterpret_cast<const char*>(&refused), sizeof refused);
      return !stopping();
    }
    // An idle port is the VM's own business; a request begun must end in time.
    if (!waitFor(fd, POLLIN, deadline ? msUntil(*deadline) : -1)) {
      if (!stopping()) {
        spdlog::warn("image port {}: the guest began a request and did not finish it within {} ms; dropping its "
                     "connection",
                     socket_path_, timeouts_.request.count());
      }
      return !stopping();
    }
    const ssize_t n = ::read(fd, line.data() + used, line.size() - used);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return true;  // QEMU closed the socket: the VM stopped
    if (!deadline) deadline = Clock::now() + timeouts_.request;
    used += static_cast<std::size_t>(n);
  }
}

bool ImagePort::answer(int fd, const std::string& request) {
  os::UniqueFd file;
  struct stat st{};
  // Exactly a digest, so the name is 64 hex characters in the VM's own directory: no path can be
  // formed from it, and only what ImageDelivery linked there is found.
  if (isSha256Digest(request)) {
    file.reset(::open((images_dir_ + "/" + request.substr(7)).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (file && (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode))) file.reset();
  }
  const std::uint64_t size = file ? static_cast<std::uint64_t>(st.st_size) : kImageRefused;
  const std::uint64_t header = htobe64(size);
  if (!writeAll(fd, reinterpret_cast<const char*>(&header), sizeof header)) return false;
  if (!file) return true;
  std::vector<char> chunk(kChunk);
  for (std::uint64_t sent = 0; sent < size;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - sent));
    const ssize_t n = ::pread(file.get(), chunk.data(), want, static_cast<off_t>(sent));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Images are immutable; one that shrank cannot be answered in step any more.
      spdlog::warn("image port {}: cannot read {}: {}", socket_path_, request,
                   n < 0 ? std::strerror(errno) : "short file");
      return false;
    }
    if (!writeAll(fd, chunk.data(), static_cast<std::size_t>(n))) return false;
    sent += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool ImagePort::writeAll(int fd, const char* data, std::size_t size) {
  auto deadline = Clock::now() + timeouts_.write;
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      deadline = Clock::now() + timeouts_.write;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;  // QEMU closed the socket
    if (!waitFor(fd, POLLOUT, msUntil(deadline))) {
      if (!stopping()) {
        spdlog::warn("image port {}: the guest read nothing for {} ms; dropping its connection", socket_path_,
                     timeouts_.write.count());
      }
      return false;
    }
  }
  return true;
}

}  // namespace berth::agent
