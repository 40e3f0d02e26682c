#pragma once
// The agent's end of one VM's image port: the virtio-serial port org.berth.images.0, which QEMU
// exposes as a unix socket (Paths::Vm::imagesSocket()) and the guest fetches its images through
// (docs/guest-protocol.md, "Image port"). It serves the files ImageDelivery linked into the VM's
// images directory, and nothing else.
//
// One thread per VM. QEMU is the socket's server: the thread connects, and connects again with
// backoff whenever the socket is not there yet or QEMU went away (a reboot), so it lives as long
// as the VM's supervisor, whatever the VM does. Requests are served one at a time.
//
// The guest is hostile: its request line is bounded and must be exactly a digest, a request
// begun must end within a timeout, an answer it stops reading is dropped after a timeout, and
// nothing it sends makes the agent allocate. A misbehaving guest loses its connection (the next
// one comes after a pause); no other VM notices.

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "os/unique_fd.h"

namespace berth::agent {

inline constexpr const char* kImagePortName = "org.berth.images.0";
// The `source` run_app names for images fetched through the port.
inline constexpr const char* kImagePortSource = "port:org.berth.images.0";
// The answer's header for a digest not offered to the VM (or a request that is not a digest).
inline constexpr std::uint64_t kImageRefused = UINT64_MAX;

struct ImagePortTimeouts {
  // From a request's first byte to its newline.
  std::chrono::milliseconds request{std::chrono::seconds(10)};
  // Longest an answer may make no progress (the guest not reading).
  std::chrono::milliseconds write{std::chrono::seconds(30)};
  // Between connection attempts while there is no socket or nobody listens (doubling up to max).
  std::chrono::milliseconds reconnect_min{std::chrono::milliseconds(50)};
  std::chrono::milliseconds reconnect_max{std::chrono::seconds(1)};
};

class ImagePort {
 public:
  // Serves the files `images_dir`/<hex> through the QEMU socket at `socket_path`. Starts its
  // thread at once.
  ImagePort(std::string socket_path, std::string images_dir, ImagePortTimeouts timeouts = {});
  // Stops the thread; an answer in flight is cut.
  ~ImagePort();
  ImagePort(const ImagePort&) = delete;
  ImagePort& operator=(const ImagePort&) = delete;

 private:
  void run();
  // Serves one connection until it ends, misbehaves or stop is asked; false when stopping.
  bool serve(int fd);
  // Answers one request line; false when the connection must end.
  bool answer(int fd, const std::string& line);
  // Writes all of [data, data+size) within the progress timeout; false on failure or stop.
  bool writeAll(int fd, const char* data, std::size_t size);
  // Waits up to `timeout` for `events` on `fd` (forever if negative); false on stop, timeout or
  // error.
  bool waitFor(int fd, short events, int timeout_ms);
  bool stopping() const;

  const std::string socket_path_;
  const std::string images_dir_;
  const ImagePortTimeouts timeouts_;
  os::UniqueFd stop_;  // an eventfd, readable once stop is asked
  std::thread thread_;  // last: it uses everything above
};

}  // namespace berth::agent
