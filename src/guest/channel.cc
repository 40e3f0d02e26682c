#include "guest/channel.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "guest/virtio_port.h"

namespace berth::guest {
namespace {

// Enough for a burst of log output while the host drains; beyond it log chunks are dropped
// (the ring keeps them for a later `logs` replay) rather than blocking PID 1.
constexpr std::size_t kOutboxBudget = 4u << 20;

}  // namespace

Result<Channel> Channel::open() {
  BERTH_ASSIGN_OR_RETURN(std::string device, virtioPortDevice(kPortName));
  os::UniqueFd fd(::open(device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return internalError("open " + device + ": " + std::strerror(errno));
  return Channel(std::move(fd));
}

bool Channel::pollConnection() {
  pollfd pfd{fd_.get(), POLLOUT, 0};
  ::poll(&pfd, 1, 0);
  const bool connected = (pfd.revents & POLLHUP) == 0;
  const bool just_connected = connected && !host_connected_;
  if (just_connected) {
    // A partial frame of the previous connection would desynchronise the new one.
    outbox_.clear();
    decoder_ = FrameDecoder();
  }
  host_connected_ = connected;
  return just_connected;
}

void Channel::send(const Message& message) {
  if (!host_connected_) return;
  const bool droppable = message.type == "log" || message.type == "exec_output";
  if (droppable && outbox_.size() > kOutboxBudget) {
    ++dropped_;
    return;
  }
  outbox_ += encodeMessage(message);
  flush();
}

void Channel::flush() {
  while (!outbox_.empty()) {
    ssize_t n = ::write(fd_.get(), outbox_.data(), outbox_.size());
    if (n > 0) {
      outbox_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;  // EAGAIN: the host is slow or gone; poll tells us when to go on
  }
}

Status Channel::readInto(std::vector<Message>& messages) {
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::ok();
    std::vector<std::string> frames;
    Status fed = decoder_.feed(std::string_view(buffer, static_cast<std::size_t>(n)), frames);
    for (const std::string& frame : frames) {
      auto message = decodeMessage(frame, Sender::kHost);
      if (message.isOk()) {
        messages.push_back(std::move(message).value());
      } else {
        // Nothing to answer (the id may be what was wrong), but the console says why, so a host
        // whose request went unanswered can be diagnosed.
        std::fprintf(stderr, "berth-init: dropped a host message: %s\n", message.status().message().c_str());
      }
    }
    if (!fed.isOk()) {
      decoder_ = FrameDecoder();
      return fed;
    }
  }
}

}  // namespace berth::guest
