// The agent's end of a VM's image port against a unix-socket listener playing QEMU: it serves
// what is offered byte for byte, refuses everything else, survives hostile guests (garbage, a
// request never finished, an answer never read) and finds QEMU again after it restarts.

#include "agent/image_port.h"

#include <endian.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "os/file_util.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"
#include "qemu_socket.h"

namespace berth::agent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const ImagePortTimeouts kFast{300ms, 500ms, 10ms, 50ms};

// The guest's end of the agent's next connection, with timeouts so that no test waits forever.
os::UniqueFd acceptGuest(FakeQemuSocket& qemu, std::chrono::milliseconds timeout = 5s) {
  os::UniqueFd fd = qemu.accept(timeout);
  timeval tv{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

void send(int fd, const std::string& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

// Up to `n` bytes, fewer only if the agent closes (or is silent for 5 s).
std::string receive(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

// The answer's header; 0 with a test failure when none came.
std::uint64_t header(int fd) {
  const std::string bytes = receive(fd, 8);
  EXPECT_EQ(bytes.size(), 8u);
  if (bytes.size() != 8) return 0;
  std::uint64_t value;
  std::memcpy(&value, bytes.data(), 8);
  return be64toh(value);
}

// The agent closed the connection: what is left to read ends in EOF within `timeout`.
bool closedWithin(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[64 * 1024];
  while (Clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 50) == 1) {
      const ssize_t r = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN)) return true;
    }
  }
  return false;
}

std::string randomBytes(std::size_t n) {
  std::mt19937 rng(42);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

class ImagePortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(os::makeDirs(images_dir(), 0700).isOk());
    qemu_ = std::make_unique<FakeQemuSocket>(socket_path());
  }
  std::string socket_path() const { return dir_.path() + "/images.sock"; }
  std::string images_dir() const { return dir_.path() + "/images"; }
  // Offers `content` to the VM as ImageDelivery does: a file named by its hex digest.
  std::string offer(const std::string& content) {
    const std::string hex = sha256Hex(content);
    EXPECT_TRUE(os::writeFileAtomic(images_dir() + "/" + hex, content, 0444).isOk());
    return "sha256:" + hex;
  }
  std::unique_ptr<ImagePort> start(ImagePortTimeouts timeouts = kFast) {
    return std::make_unique<ImagePort>(socket_path(), images_dir(), timeouts);
  }
  // Asks for `digest` and checks the answer is exactly `content`.
  void expectServed(int fd, const std::string& digest, const std::string& content) {
    send(fd, digest + "\n");
    ASSERT_EQ(header(fd), content.size());
    EXPECT_TRUE(receive(fd, content.size()) == content);
  }

  os::TempDir dir_ = os::TempDir::create("berth-imgport-").value();
  std::unique_ptr<FakeQemuSocket> qemu_;
};

TEST_F(ImagePortTest, ServesAnOfferedFileByteExactAndThenTheNextRequest) {
  const std::string big = randomBytes((4u << 20) + 123);  // more than the socket buffers hold
  const std::string small = "a small image";
  const std::string big_digest = offer(big);
  const std::string small_digest = offer(small);
  auto port = start();
  os::UniqueFd guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  expectServed(guest.get(), big_digest, big);
  expectServed(guest.get(), small_digest, small);
  // Both requests at once: answered in order.
  send(guest.get(), small_digest + "\n" + small_digest + "\n");
  ASSERT_EQ(header(guest.get()), small.size());
  EXPECT_EQ(receive(guest.get(), small.size()), small);
  ASSERT_EQ(header(guest.get()), small.size());
  EXPECT_EQ(receive(guest.get(), small.size()), small);
}

TEST_F(ImagePortTest, AnEmptyImageIsAHeaderOfZero) {
  const std::string digest = offer("");
  auto port = start();
  os::UniqueFd guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  send(guest.get(), digest + "\n");
  EXPECT_EQ(header(guest.get()), 0u);
  expectServed(guest.get(), offer("next"), "next");
}

TEST_F(ImagePortTest, RefusesWhatIsNotExactlyAnOfferedDigestAndKeepsServing) {
  const std::string offered = offer("the VM's own image");
  const std::string hex = offered.substr(7);
  // Files that are in the directory but are not images linked there.
  const std::string outside = dir_.path() + "/secret";
  ASSERT_TRUE(os::writeFileAtomic(outside, "host secret").isOk());
  const std::string link_hex = sha256Hex("symlink");
  ASSERT_EQ(::symlink(outside.c_str(), (images_dir() + "/" + link_hex).c_str()), 0);
  const std::string dir_hex = sha256Hex("directory");
  ASSERT_EQ(::mkdir((images_dir() + "/" + dir_hex).c_str(), 0700), 0);

  auto port = start();
  os::UniqueFd guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  const std::vector<std::string> refused = {
      "",
      "hello",
      hex,                                            // no prefix
      "sha256:" + hex.substr(0, 63),                  // one short
      "sha256:" + hex.substr(0, 63) + "G",            // not hex
      "SHA256:" + hex,                                // wrong prefix case
      "sha256:../../secret",                          // a path
      "sha256:../secret" + std::string(55, 'a'),      // a path of the right length
      "sha256:" + std::string(64, 'A'),               // upper-case hex
      "sha256:" + hex.substr(0, 63) + std::string(1, '\0'),
      "sha256:" + sha256Hex("never offered"),         // a digest not offered to this VM
      "sha256:" + link_hex,                           // a symlink out of the directory
      "sha256:" + dir_hex,                            // not a regular file
  };
  for (const std::string& line : refused) {
    send(guest.get(), line + "\n");
    EXPECT_EQ(header(guest.get()), kImageRefused) << line;
  }
  expectServed(guest.get(), offered, "the VM's own image");
}

TEST_F(ImagePortTest, AnOverLongLineIsRefusedAndTheConnectionDropped) {
  const std::string offered = offer("image");
  auto port = start();
  os::UniqueFd guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  send(guest.get(), offered + "x\n");  // one byte more than a digest line
  EXPECT_EQ(header(guest.get()), kImageRefused);
  EXPECT_TRUE(closedWithin(guest.get(), 2s));
  // The agent comes back on a fresh connection.
  guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  expectServed(guest.get(), offered, "image");
}

TEST_F(ImagePortTest, GarbageCostsTheGuestItsConnectionAndNothingElse) {
  const std::string offered = offer("image");
  auto port = start();
  for (int round = 0; round < 3; ++round) {
    os::UniqueFd guest = acceptGuest(*qemu_);
    ASSERT_TRUE(guest);
    const std::string garbage = randomBytes(1u << 20);
    // The agent may hang up part way: what it did not read is lost, as intended.
    (void)::send(guest.get(), garbage.data(), garbage.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    EXPECT_TRUE(closedWithin(guest.get(), 2s));
  }
  os::UniqueFd guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  expectServed(guest.get(), offered, "image");
}

TEST_F(ImagePortTest, AnIdlePortStaysUpButARequestBegunMustEndInTime) {
  const std::string offered = offer("image");
  auto port = start();
  os::UniqueFd guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  EXPECT_FALSE(closedWithin(guest.get(), 3 * kFast.request));
  send(guest.get(), offered.substr(0, 20));
  const auto begun = Clock::now();
  EXPECT_TRUE(closedWithin(guest.get(), 2s));
  EXPECT_GE(Clock::now() - begun, kFast.request - 50ms);
  guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  expectServed(guest.get(), offered, "image");
}

TEST_F(ImagePortTest, AGuestThatStopsReadingLosesItsConnectionWithinTheTimeout) {
  const std::string big = randomBytes(16u << 20);
  const std::string offered = offer(big);
  auto port = start();
  os::UniqueFd guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  send(guest.get(), offered + "\n");
  // Nothing is read until well past the write timeout: by then the agent has hung up, and
  // draining the socket ends before the whole image.
  std::this_thread::sleep_for(kFast.write * 3);
  std::size_t drained = 0;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t r = ::recv(guest.get(), buffer, sizeof buffer, 0);
    if (r <= 0) {
      EXPECT_EQ(r, 0) << std::strerror(errno);  // EOF, not our 5 s receive timeout
      break;
    }
    drained += static_cast<std::size_t>(r);
  }
  EXPECT_LT(drained, big.size() + 8);
  guest = acceptGuest(*qemu_);
  ASSERT_TRUE(guest);
  expectServed(guest.get(), offer("small"), "small");
}

TEST_F(ImagePortTest, ReconnectsWhenQemuRestartsOrIsNotThereYet) {
  const std::string offered = offer("image");
  qemu_.reset();  // no socket yet: the VM has not booted
  auto port = start();
  std::this_thread::sleep_for(200ms);
  qemu_ = std::make_unique<FakeQemuSocket>(socket_path());
  os::UniqueFd guest = acceptGuest(*qemu_, 2s);
  ASSERT_TRUE(guest);
  expectServed(guest.get(), offered, "image");
  // QEMU exits (the socket closes and goes) and boots again.
  guest.reset();
  qemu_.reset();
  std::this_thread::sleep_for(100ms);
  qemu_ = std::make_unique<FakeQemuSocket>(socket_path());
  guest = acceptGuest(*qemu_, 2s);
  ASSERT_TRUE(guest);
  expectServed(guest.get(), offered, "image");
}

TEST_F(ImagePortTest, StopsPromptlyWhateverTheGuestIsDoing) {
  const std::string offered = offer(randomBytes(16u << 20));
  const ImagePortTimeouts slow{30s, 30s, 10ms, 50ms};
  const auto stopsPromptly = [](std::unique_ptr<ImagePort> port) {
    const auto t0 = Clock::now();
    port.reset();
    return Clock::now() - t0 < 1s;
  };
  // What the guest is doing when the agent stops: idle, mid-request, not reading an answer.
  for (const std::string& sent : {std::string(), std::string("sha256:"), offered + "\n"}) {
    auto port = start(slow);
    os::UniqueFd guest = acceptGuest(*qemu_);
    ASSERT_TRUE(guest);
    if (!sent.empty()) send(guest.get(), sent);
    std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(stopsPromptly(std::move(port))) << sent;
  }
  // No QEMU at all.
  qemu_.reset();
  auto port = start(slow);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(stopsPromptly(std::move(port)));
}

}  // namespace
}  // namespace berth::agent
