// The host end of the guest channel against a scripted "guest" on a unix socket: every kind of
// hostile input closes that connection with a reason, and a second connection is unaffected.
// (tests/e2e boots real guests; this pins the hostile-byte handling byte by byte.)

#include "agent/guest_channel/guest_connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <thread>

#include "common/guest_messages.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"
#include "qemu_socket.h"

namespace berth::agent {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct Watched {
  std::promise<std::string> closed;
  std::atomic<int> notifications{0};
  // Last, so it is destroyed first: its reader thread may still report to the members above.
  std::unique_ptr<GuestConnection> connection;
};

std::unique_ptr<Watched> connect(const std::string& path, std::chrono::milliseconds mid_frame_timeout = 10s) {
  auto w = std::make_unique<Watched>();
  auto* raw = w.get();
  auto connection = GuestConnection::connect(
      path, [raw](const guest::Message&) { ++raw->notifications; },
      [raw](const std::string& reason) { raw->closed.set_value(reason); }, mid_frame_timeout);
  EXPECT_TRUE(connection.isOk()) << connection.status().toString();
  w->connection = std::move(connection).value();
  return w;
}

void sendAll(int fd, const std::string& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

std::string closeReason(Watched& w) {
  auto future = w.closed.get_future();
  if (future.wait_for(5s) != std::future_status::ready) return "<still open>";
  return future.get();
}

class GuestConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = std::make_unique<os::TempDir>(os::TempDir::create().value()); }
  std::string socketPath(const std::string& name) { return dir_->path() + "/" + name; }
  std::unique_ptr<os::TempDir> dir_;
};

TEST_F(GuestConnectionTest, OversizeLengthClosesTheChannelWithAReason) {
  FakeQemuSocket guest(socketPath("a.sock"));
  auto w = connect(socketPath("a.sock"));
  os::UniqueFd fd = guest.accept();
  sendAll(fd.get(), std::string("\x7f\xff\xff\xff", 4));
  EXPECT_NE(closeReason(*w).find("guest broke framing: frame length 2147483647"), std::string::npos);
  EXPECT_FALSE(w->connection->open());
}

TEST_F(GuestConnectionTest, UnknownTypeAndHostOnlyTypesClose) {
  for (const char* type : {"reboot_the_host", "run_app"}) {
    FakeQemuSocket guest(socketPath(std::string(type) + ".sock"));
    auto w = connect(socketPath(std::string(type) + ".sock"));
    os::UniqueFd fd = guest.accept();
    sendAll(fd.get(), guest::encodeMessage(guest::Message{type, 0, json::object()}));
    EXPECT_NE(closeReason(*w).find("unknown message type"), std::string::npos) << type;
  }
}

TEST_F(GuestConnectionTest, AReplyToARequestNeverSentCloses) {
  FakeQemuSocket guest(socketPath("r.sock"));
  auto w = connect(socketPath("r.sock"));
  os::UniqueFd fd = guest.accept();
  sendAll(fd.get(), guest::encodeMessage(guest::makeReply(99)));
  EXPECT_NE(closeReason(*w).find("never sent"), std::string::npos);
}

TEST_F(GuestConnectionTest, ATruncatedFrameThenHangupIsAPlainDisconnectAndFailsPendingCalls) {
  FakeQemuSocket guest(socketPath("t.sock"));
  auto w = connect(socketPath("t.sock"));
  os::UniqueFd fd = guest.accept();
  auto pending = std::async(std::launch::async, [&] { return w->connection->call("ping", json::object(), 10s); });
  std::string frame = guest::encodeMessage(guest::Message{"hello", 0, {{"version", 1u}, {"boot_id", "b"}}});
  sendAll(fd.get(), frame.substr(0, frame.size() - 3));
  std::this_thread::sleep_for(50ms);
  fd.reset();
  EXPECT_EQ(closeReason(*w), "");
  auto result = pending.get();
  ASSERT_FALSE(result.isOk());
  EXPECT_NE(result.status().message().find("closed"), std::string::npos);
}

TEST_F(GuestConnectionTest, AGuestThatStallsMidFrameIsClosedAndFailsPendingCalls) {
  FakeQemuSocket guest(socketPath("s.sock"));
  auto w = connect(socketPath("s.sock"), 200ms);
  os::UniqueFd fd = guest.accept();
  auto pending = std::async(std::launch::async, [&] { return w->connection->call("ping", json::object(), 10s); });
  std::string frame = guest::encodeMessage(guest::Message{"hello", 0, {{"version", 1u}, {"boot_id", "b"}}});
  sendAll(fd.get(), frame.substr(0, 8));  // and then nothing, with the socket left open
  EXPECT_EQ(closeReason(*w), "guest stalled mid-frame: 8 bytes of a frame, then 200 ms of silence");
  EXPECT_FALSE(pending.get().isOk());
}

TEST_F(GuestConnectionTest, AFloodIsDeliveredInBoundedMemoryAndAnotherGuestIsUnaffected) {
  FakeQemuSocket hostile(socketPath("h.sock"));
  FakeQemuSocket healthy(socketPath("ok.sock"));
  auto flooded = connect(socketPath("h.sock"));
  auto calm = connect(socketPath("ok.sock"));
  os::UniqueFd flood_fd = hostile.accept();
  os::UniqueFd calm_fd = healthy.accept();

  std::thread flooder([&] {
    guest::Message log{"log", 0, {{"app", "web"}, {"stream", "stdout"}, {"seq", 1u}, {"ts_ms", 1u}}};
    log.body["data"] = json::binary(std::vector<std::uint8_t>(4000, 'x'));
    const std::string frame = guest::encodeMessage(log);
    for (int i = 0; i < 4000; ++i) sendAll(flood_fd.get(), frame);
    sendAll(flood_fd.get(), "\xff\xff\xff\xff");  // and then garbage
  });
  // The healthy guest answers a ping while the other floods.
  std::thread responder([&] {
    char buffer[4096];
    guest::FrameDecoder decoder;
    std::vector<std::string> frames;
    while (frames.empty()) {
      ssize_t n = ::read(calm_fd.get(), buffer, sizeof buffer);
      if (n <= 0) return;
      ASSERT_TRUE(decoder.feed(std::string_view(buffer, static_cast<size_t>(n)), frames).isOk());
    }
    auto ping = guest::decodeMessage(frames[0], guest::Sender::kHost);
    ASSERT_TRUE(ping.isOk());
    sendAll(calm_fd.get(), guest::encodeMessage(guest::makeReply(ping->id, {{"pong", true}})));
  });
  auto pong = calm->connection->call("ping", json::object(), 10s);
  flooder.join();
  responder.join();
  ASSERT_TRUE(pong.isOk()) << pong.status().toString();
  EXPECT_EQ((*pong)["pong"], true);
  EXPECT_NE(closeReason(*flooded).find("guest broke framing"), std::string::npos);
  EXPECT_EQ(flooded->notifications.load(), 4000);
  EXPECT_TRUE(calm->connection->open());
}

TEST_F(GuestConnectionTest, ExecOutputGoesToItsCallerAndOtherOutputToTheNotificationHandler) {
  FakeQemuSocket socket(socketPath("g.sock"));
  auto w = connect(socketPath("g.sock"));
  os::UniqueFd fd = socket.accept();
  std::thread guest([&] {
    char buffer[4096];
    guest::FrameDecoder decoder;
    std::vector<std::string> frames;
    while (frames.empty()) {
      ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n <= 0) return;
      ASSERT_TRUE(decoder.feed(std::string_view(buffer, static_cast<size_t>(n)), frames).isOk());
    }
    auto exec = guest::decodeMessage(frames[0], guest::Sender::kHost);
    ASSERT_TRUE(exec.isOk());
    guest::ExecOutputNotification output{exec->id, "stdout", "hi"};
    sendAll(fd.get(), guest::encodeMessage(guest::toMessage(output)));
    output.exec = exec->id + 1;  // an exec nobody waits for
    sendAll(fd.get(), guest::encodeMessage(guest::toMessage(output)));
    sendAll(fd.get(), guest::encodeMessage(guest::makeReply(exec->id, guest::ExecReply{}.encode())));
  });
  std::vector<std::string> outputs;
  guest::ExecRequest request;
  request.argv = {"true"};
  auto reply = w->connection->call("exec", request.encode(), 10s,
                                   [&](const guest::Message& m) {
                                     auto output = guest::fromMessage<guest::ExecOutputNotification>(m);
                                     ASSERT_TRUE(output.isOk());
                                     outputs.push_back(output->data);
                                   });
  guest.join();
  ASSERT_TRUE(reply.isOk()) << reply.status().toString();
  EXPECT_EQ(outputs, std::vector<std::string>{"hi"});
  EXPECT_EQ(w->notifications.load(), 1);
}

}  // namespace
}  // namespace berth::agent
