#include "agent/guest_channel/guest_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/guest_messages.h"

namespace berth::agent {

using nlohmann::json;

Result<std::unique_ptr<GuestConnection>> GuestConnection::connect(const std::string& socket_path,
                                                                  NotificationHandler on_notification,
                                                                  ClosedHandler on_closed,
                                                                  std::chrono::milliseconds mid_frame_timeout) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof addr.sun_path) return invalidArgument("channel socket path too long");
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, socket_path.c_str());
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return internalError(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return unavailable("cannot connect to guest channel " + socket_path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<GuestConnection>(
      new GuestConnection(std::move(fd), std::move(on_notification), std::move(on_closed), mid_frame_timeout));
}

GuestConnection::GuestConnection(os::UniqueFd fd, NotificationHandler on_notification, ClosedHandler on_closed,
                                 std::chrono::milliseconds mid_frame_timeout)
    : fd_(std::move(fd)),
      on_notification_(std::move(on_notification)),
      on_closed_(std::move(on_closed)),
      mid_frame_timeout_(mid_frame_timeout) {
  reader_ = std::thread([this] { readLoop(); });
}

GuestConnection::~GuestConnection() {
  close();
  if (reader_.joinable()) reader_.join();
}

void GuestConnection::close() {
  if (open_.exchange(false)) ::shutdown(fd_.get(), SHUT_RDWR);
  replied_.notify_all();
}

void GuestConnection::fail(const std::string& reason) {
  const bool was_open = open_.exchange(false);
  ::shutdown(fd_.get(), SHUT_RDWR);
  replied_.notify_all();
  if (was_open || !reason.empty()) on_closed_(reason);
}

void GuestConnection::readLoop() {
  guest::FrameDecoder decoder;
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    if (decoder.buffered() > 0) {
      // A frame has begun: the rest must follow. A guest that stops mid-frame would otherwise
      // hold the channel, and every caller waiting on it, forever without breaking a rule.
      pollfd pfd{fd_.get(), POLLIN, 0};
      int ready;
      while ((ready = ::poll(&pfd, 1, static_cast<int>(mid_frame_timeout_.count()))) < 0 && errno == EINTR) {
      }
      if (ready == 0) {
        return fail("guest stalled mid-frame: " + std::to_string(decoder.buffered()) + " bytes of a frame, then " +
                    std::to_string(mid_frame_timeout_.count()) + " ms of silence");
      }
    }
    ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("");
    std::vector<std::string> frames;
    Status fed = decoder.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), frames);
    for (const std::string& frame : frames) {
      auto message = guest::decodeMessage(frame, guest::Sender::kGuest);
      if (!message.isOk()) return fail("guest sent a bad frame: " + message.status().message());
      if (message->type == "reply") {
        std::lock_guard lock(mu_);
        auto it = pending_.find(message->id);
        // A reply nobody waits for (its caller timed out) is dropped; an id never issued is not.
        if (message->id == 0 || message->id >= next_id_) {
          // fall through to the protocol error below, outside the lock
        } else {
          if (it != pending_.end()) it->second = std::move(message).value();
          replied_.notify_all();
          continue;
        }
      } else {
        NotificationHandler sink;
        if (auto output = guest::fromMessage<guest::ExecOutputNotification>(*message); output.isOk()) {
          std::lock_guard lock(mu_);
          if (auto it = outputs_.find(output->exec); it != outputs_.end()) sink = it->second;
        }
        (sink ? sink : on_notification_)(*message);
        continue;
      }
      return fail("guest replied to request " + std::to_string(message->id) + " that was never sent");
    }
    if (!fed.isOk()) return fail("guest broke framing: " + fed.message());
  }
}

Result<json> GuestConnection::call(const std::string& type, json body, std::chrono::milliseconds timeout) {
  return call(type, std::move(body), timeout, NotificationHandler{});
}

Result<json> GuestConnection::call(const std::string& type, json body, std::chrono::milliseconds timeout,
                                   NotificationHandler on_output, std::atomic<std::uint64_t>* sent_id) {
  std::uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    pending_[id];
    if (on_output) outputs_[id] = std::move(on_output);
  }
  if (sent_id) *sent_id = id;
  const std::string frame = guest::encodeMessage(guest::Message{type, id, std::move(body)});
  {
    std::lock_guard lock(write_mu_);
    std::size_t done = 0;
    while (done < frame.size() && open_) {
      ssize_t n = ::send(fd_.get(), frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      done += static_cast<std::size_t>(n);
    }
    if (done < frame.size()) {
      std::lock_guard lock2(mu_);
      pending_.erase(id);
      outputs_.erase(id);
      return unavailable("guest channel closed while sending " + type);
    }
  }
  std::unique_lock lock(mu_);
  replied_.wait_for(lock, timeout, [&] { return pending_[id].has_value() || !open_; });
  std::optional<guest::Message> reply = std::move(pending_[id]);
  pending_.erase(id);
  outputs_.erase(id);
  if (!reply) {
    return unavailable(open_ ? "guest did not answer " + type + " in time" : "guest channel closed during " + type);
  }
  if (!reply->body.value("ok", false)) {
    return failedPrecondition(reply->body.value("error", std::string("guest refused ") + type));
  }
  return reply->body.value("result", json::object());
}

}  // namespace berth::agent
