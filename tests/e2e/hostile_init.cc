// berth-hostile-init: a test-only PID 1 for tests/e2e/test_hostile_guest.py. It is berth-init (the
// same code: guest/boot.h boots, Init serves) unless the VM's hostname, which the agent sets to
// the VM's name (berth.hostname=), is `hostile-<attack>`. Then, once the system is up and the host
// has connected and exchanged hellos like a good guest, it plays that attack on the channel:
//
//   hostile-oversize   a frame length of 1 MiB + 1 (and 64 KiB after it)
//   hostile-truncated  a frame cut short, three seconds of silence, then the next frame as if the
//                      first had been whole: the host must hold the partial frame and then see
//                      the stream is out of step
//   hostile-unknown    a well-framed CBOR map whose type no guest may send
//   hostile-flood      valid `log` notifications as fast as it can for eight seconds, then
//                      garbage (0xff bytes) as fast as it can
//   hostile-stall      a frame cut short, then silence for good (PID 1 answers nothing more)
//   hostile-mute       nothing at all: a well-behaved channel whose guest never answers a request
//                      again (test_stuck_guest.py)
//
// After an attack (but a stall or mute, which never end) Init takes the port over as usual, so the power button, SIGTERM
// and a reconnecting host are served as berth-init serves them.

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/guest_protocol.h"
#include "guest/boot.h"

namespace berth::guest {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

void say(const std::string& text) { std::fprintf(stderr, "hostile-init: %s\n", text.c_str()); }

std::string bootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string line;
  std::getline(in, line);
  return line;
}

std::string bigEndian32(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

// Writes all of `bytes` to the non-blocking port; false if the host went away (POLLHUP) or the
// deadline passed first.
bool writeAll(int fd, std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (Clock::now() > deadline) return false;
    pollfd pfd{fd, POLLOUT, 0};
    ::poll(&pfd, 1, 100);
    if (pfd.revents & POLLHUP) return false;
  }
  return true;
}

// Plays the good guest until the host's hello request is answered; false if it never came.
bool exchangeHellos(const BootConfig& config, Channel& channel) {
  const std::string boot_id = bootId();
  while (!channel.pollConnection()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const json about = {
      {"version", kProtocolVersion}, {"boot_id", boot_id}, {"hostname", config.hostname}};
  channel.send(Message{"hello", 0, about});
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    pollfd pfd{channel.fd(), static_cast<short>(POLLIN | (channel.wantsWrite() ? POLLOUT : 0)), 0};
    ::poll(&pfd, 1, 100);
    if (pfd.revents & POLLOUT) channel.flush();
    if (!(pfd.revents & POLLIN)) continue;
    std::vector<Message> messages;
    (void)channel.readInto(messages);
    for (const Message& message : messages) {
      if (message.type != "hello") continue;
      json result = about;
      result["apps"] = json::array();
      channel.send(makeReply(message.id, result));
      while (channel.wantsWrite() && Clock::now() < deadline) {
        pollfd out{channel.fd(), POLLOUT, 0};
        ::poll(&out, 1, 100);
        channel.flush();
      }
      return !channel.wantsWrite();
    }
  }
  return false;
}

std::string logFrame(std::uint64_t seq, std::size_t bytes) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  Message log{"log", 0, {{"app", "flood"}, {"stream", "stdout"}, {"seq", seq}}};
  log.body["ts_ms"] = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  log.body["data"] = json::binary(std::vector<std::uint8_t>(bytes, 'x'));
  return encodeMessage(log);
}

void attack(const std::string& name, Channel& channel) {
  const int fd = channel.fd();
  const auto soon = Clock::now() + std::chrono::seconds(30);
  if (name == "oversize") {
    writeAll(fd, bigEndian32(kMaxFrameBytes + 1) + std::string(64 * 1024, 'A'), soon);
  } else if (name == "truncated") {
    // The cut falls inside the map's first key ("app"), so the next frame's length prefix is read
    // as the rest of that key, its value and then a key that is not text: the frame the host
    // completes from the two cannot decode.
    const std::string frame = logFrame(1, 1024);
    writeAll(fd, frame.substr(0, 8), soon);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    writeAll(fd, logFrame(2, 1024), soon);
  } else if (name == "unknown") {
    writeAll(fd, encodeMessage(Message{"hostile_unknown", 0, {{"payload", "x"}}}), soon);
  } else if (name == "flood") {
    std::uint64_t seq = 1, sent = 0;
    const auto until = Clock::now() + std::chrono::seconds(8);
    while (Clock::now() < until && writeAll(fd, logFrame(seq, 16 * 1024), soon)) {
      ++seq;
      sent += 16 * 1024;
    }
    say("flooded " + std::to_string(seq - 1) + " log notifications (" + std::to_string(sent >> 10) +
        " KiB)");
    const std::string garbage(64 * 1024, '\xff');
    const auto garbage_until = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < garbage_until && writeAll(fd, garbage, garbage_until)) {
    }
  } else if (name == "mute") {
    say("played mute");
    for (;;) ::pause();
  } else if (name == "stall") {
    writeAll(fd, logFrame(1, 1024).substr(0, 8), soon);
    say("played stall");
    for (;;) ::pause();
  } else {
    say("no attack named '" + name + "'; serving like berth-init");
    return;
  }
  say("played " + name);
}

void maybeMisbehave(const BootConfig& config, Channel& channel) {
  constexpr std::string_view kPrefix = "hostile-";
  if (config.hostname.rfind(kPrefix, 0) != 0) return;
  const std::string name = config.hostname.substr(kPrefix.size());
  say("waiting for the host to play " + name);
  if (!exchangeHellos(config, channel)) {
    say("the host never said hello; serving like berth-init");
    return;
  }
  attack(name, channel);
}

}  // namespace
}  // namespace berth::guest

int main() { berth::guest::bootAndServe(berth::guest::maybeMisbehave); }
