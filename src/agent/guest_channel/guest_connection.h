#pragma once
// The host end of one VM's guest channel (QEMU's unix socket for the virtio-serial port).
// Everything from the guest is hostile: reads are bounded by the frame decoder, every frame is
// strictly decoded, and the first bad byte closes this connection (and only it) with a reason
// the agent records as an event. A reader thread delivers replies to waiting callers and
// notifications (hello, log, app_exited, exec_output) to the handler.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/guest_channel/guest_channel.h"
#include "common/guest_protocol.h"
#include "os/unique_fd.h"

namespace berth::agent {

class GuestConnection final : public GuestChannel {
 public:
  using NotificationHandler = std::function<void(const guest::Message&)>;
  // Called once, from the reader thread, when the connection ends; `reason` is empty on a
  // plain disconnect and names the protocol violation otherwise.
  using ClosedHandler = std::function<void(const std::string& reason)>;

  // A guest that starts a frame and then sends nothing for `mid_frame_timeout` is closed too
  // (a guest sends a frame in one write; only a stuck or hostile one pauses inside it).
  static Result<std::unique_ptr<GuestConnection>> connect(
      const std::string& socket_path, NotificationHandler on_notification, ClosedHandler on_closed,
      std::chrono::milliseconds mid_frame_timeout = std::chrono::seconds(10));
  ~GuestConnection() override;

  Result<nlohmann::json> call(const std::string& type, nlohmann::json body,
                              std::chrono::milliseconds timeout) override;
  // call(), and `on_output` receives the request's own exec_output notifications (from the
  // reader thread, so it must not block) instead of the connection's handler. `sent_id`, if
  // set, gets the request's id before it is sent (another thread may cancel an exec by it).
  Result<nlohmann::json> call(const std::string& type, nlohmann::json body, std::chrono::milliseconds timeout,
                              NotificationHandler on_output, std::atomic<std::uint64_t>* sent_id = nullptr);
  bool open() const override { return open_.load(); }
  void close() override;

 private:
  GuestConnection(os::UniqueFd fd, NotificationHandler on_notification, ClosedHandler on_closed,
                  std::chrono::milliseconds mid_frame_timeout);
  void readLoop();
  void fail(const std::string& reason);

  os::UniqueFd fd_;
  NotificationHandler on_notification_;
  ClosedHandler on_closed_;
  std::chrono::milliseconds mid_frame_timeout_;
  std::atomic<bool> open_{true};
  std::mutex write_mu_;
  std::mutex mu_;
  std::condition_variable replied_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::optional<guest::Message>> pending_;
  std::map<std::uint64_t, NotificationHandler> outputs_;  // exec request id -> its output sink
  std::thread reader_;
};

}  // namespace berth::agent
