// The published-port control protocol against a real proxy loop (runProxy on a thread instead of
// its own process): set switches backends, stop ends it, published() finds it by its socket.

#include "agent/proxy/port_publisher.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "loopback_peers.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace berth::agent {
namespace {

using loopback::Greeter;
using loopback::readFrom;

int freePort() {
  Greeter probe("");
  return probe.port();
}

TEST(PortPublisherTest, SetSwitchesBackendsAndStopEndsTheProxy) {
  auto dir = os::TempDir::create("berth-proxies-").value();
  Greeter blue("blue"), green("green");
  const int port = freePort();
  const std::string socket = dir.path() + "/" + std::to_string(port) + ".sock";
  int exit_code = -1;
  std::thread proxy([&] {
    exit_code = PortPublisher::runProxy(std::to_string(port), socket, {loopback::at(blue.port())});
  });
  // The binary is never run: a proxy already answers on the socket.
  PortPublisher publisher("/nonexistent/berth-agent", dir.path());
  for (int i = 0; i < 500 && ::access(socket.c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Status published = publisher.publish(port, {loopback::at(blue.port())});
  ASSERT_TRUE(published.isOk()) << published.toString();
  EXPECT_EQ(readFrom(port), "blue");
  EXPECT_EQ(publisher.published(), std::vector<int>{port});

  ASSERT_TRUE(publisher.publish(port, {loopback::at(green.port())}).isOk());
  EXPECT_EQ(readFrom(port), "green");
  EXPECT_EQ(*publisher.connectionsTo(port, loopback::at(blue.port())), 0u);

  ASSERT_TRUE(publisher.unpublish(port).isOk());
  proxy.join();
  EXPECT_EQ(exit_code, 0);
  EXPECT_TRUE(publisher.published().empty());
  EXPECT_EQ(readFrom(port), "(refused)");
}

TEST(PortPublisherTest, AProxyWhoseSocketIsGoneExits) {
  auto dir = os::TempDir::create("berth-proxies-").value();
  const int port = freePort();
  const std::string socket = dir.path() + "/" + std::to_string(port) + ".sock";
  int exit_code = -1;
  std::thread proxy([&] { exit_code = PortPublisher::runProxy(std::to_string(port), socket, {}); });
  for (int i = 0; i < 500 && ::access(socket.c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(::unlink(socket.c_str()), 0);
  proxy.join();  // within its 5 s check
  EXPECT_EQ(exit_code, 0);
}

TEST(PortPublisherTest, APortInUseIsNamedWithTheReason) {
  auto dir = os::TempDir::create("berth-proxies-").value();
  Greeter taken("x");
  EXPECT_EQ(PortPublisher::runProxy(std::to_string(taken.port()), dir.path() + "/p.sock", {}), 1);
}

}  // namespace
}  // namespace berth::agent
