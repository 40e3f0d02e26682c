#pragma once
// init's end of the guest channel: the virtio-serial port named org.berth.agent.0, opened
// non-blocking. The host side may come and go (agent restarts); while it is away the kernel
// reports POLLHUP and writes would block, so outgoing frames wait in a bounded queue and the
// queue restarts with a fresh hello whenever the host (re)connects.

#include <string>
#include <vector>

#include "common/guest_protocol.h"
#include "os/unique_fd.h"

namespace berth::guest {

class Channel {
 public:
  // Finds the port by name (virtio_port.h) and opens its /dev node.
  static Result<Channel> open();

  int fd() const { return fd_.get(); }
  bool hostConnected() const { return host_connected_; }
  // Re-reads the connection state; true when the host just connected.
  bool pollConnection();

  // Queues a message; notifications are dropped (counted) when the queue is over budget, replies
  // never are.
  void send(const Message& message);
  bool wantsWrite() const { return !outbox_.empty(); }
  void flush();
  // Reads what is available and appends decoded host messages. A protocol error means the
  // stream is out of step: the decoder is reset and the error returned for the console.
  Status readInto(std::vector<Message>& messages);

 private:
  explicit Channel(os::UniqueFd fd) : fd_(std::move(fd)) {}
  os::UniqueFd fd_;
  bool host_connected_ = false;
  std::string outbox_;
  std::size_t dropped_ = 0;
  FrameDecoder decoder_;
};

}  // namespace berth::guest
