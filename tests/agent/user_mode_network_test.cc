// User-mode networking: the NIC a VM boots with, and exposed ports sent as hostfwd_add to a
// fake QMP server on the VM's socket.

#include "agent/network/user_mode_network.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/runtime/qemu_runtime.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace berth::agent {
namespace {

using nlohmann::json;

// A QMP server for one connection: greets, accepts capabilities, answers every
// human-monitor-command with `hmp_output` (after an unrelated event, which clients skip) and
// records the command lines.
class FakeQmp {
 public:
  FakeQmp(const std::string& socket_path, std::string hmp_output) : hmp_output_(std::move(hmp_output)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener_.get(), 1), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeQmp() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::vector<std::string> commandLines() {
    std::lock_guard lock(mu_);
    return command_lines_;
  }

 private:
  void serve() {
    os::UniqueFd conn(::accept(listener_.get(), nullptr, nullptr));
    if (!conn) return;
    send(conn, json{{"QMP", {{"version", json::object()}, {"capabilities", json::array()}}}});
    std::string buffer;
    char chunk[1024];
    for (;;) {
      const ssize_t n = ::read(conn.get(), chunk, sizeof chunk);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (auto newline = buffer.find('\n'); newline != std::string::npos; newline = buffer.find('\n')) {
        const json request = json::parse(buffer.substr(0, newline));
        buffer.erase(0, newline + 1);
        if (request["execute"] == "human-monitor-command") {
          {
            std::lock_guard lock(mu_);
            command_lines_.push_back(request["arguments"]["command-line"].get<std::string>());
          }
          send(conn, json{{"event", "NIC_RX_FILTER_CHANGED"}});
          send(conn, json{{"return", hmp_output_}});
        } else {
          send(conn, json{{"return", json::object()}});
        }
      }
    }
  }
  static void send(const os::UniqueFd& conn, const json& message) {
    const std::string line = message.dump() + "\n";
    (void)!::write(conn.get(), line.data(), line.size());
  }

  std::string hmp_output_;
  os::UniqueFd listener_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> command_lines_;
};

TEST(UserModeNetwork, AVmBootsOneRestrictedUserModeNic) {
  UserModeNetwork network;
  auto nics = network.nicsFor(model::VmSpec{}, Paths::Vm{"/d/vms/shop/web"});
  ASSERT_TRUE(nics.isOk());
  ASSERT_EQ(nics->size(), 1u);
  const Nic& nic = nics->front();
  EXPECT_EQ(nic.mode, Nic::Mode::kUserMode);
  EXPECT_EQ(nic.guest_cidr, "10.0.2.15/24");
  EXPECT_EQ(nic.gateway, "10.0.2.2");
  EXPECT_EQ(nic.dns, "10.0.2.3");
  EXPECT_TRUE(nic.tap.empty());
  // Nothing to configure on the node: any assignment applies.
  EXPECT_TRUE(network.apply(model::NodeAssignment{}).isOk());
}

TEST(UserModeNetwork, AnExposedPortIsAHostfwdFromAFreeLoopbackPort) {
  auto dir = os::TempDir::create("berth-net-");
  ASSERT_TRUE(dir.isOk());
  const Paths::Vm vm{dir->path()};
  FakeQmp qmp(QemuFiles::of(vm).qmp_socket, "");
  UserModeNetwork network;
  auto backend = network.exposePort(model::VmSpec{}, vm, 8080);
  ASSERT_TRUE(backend.isOk()) << backend.status().toString();
  ASSERT_EQ(backend->rfind("127.0.0.1:", 0), 0u) << *backend;
  const std::string node_port = backend->substr(10);
  EXPECT_GT(std::stoi(node_port), 0);
  EXPECT_EQ(qmp.commandLines(), std::vector<std::string>{"hostfwd_add net0 tcp:127.0.0.1:" + node_port + "-:8080"});
}

TEST(UserModeNetwork, AForwardQemuRefusesFailsWithItsReason) {
  auto dir = os::TempDir::create("berth-net-");
  ASSERT_TRUE(dir.isOk());
  const Paths::Vm vm{dir->path()};
  FakeQmp qmp(QemuFiles::of(vm).qmp_socket, "Could not set up host forwarding rule");
  UserModeNetwork network;
  auto backend = network.exposePort(model::VmSpec{}, vm, 8080);
  EXPECT_EQ(backend.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(backend.status().message().find("to guest port 8080: Could not set up host forwarding rule"),
            std::string::npos)
      << backend.status().message();
}

TEST(UserModeNetwork, AForwardToAVmThatIsNotRunningIsUnavailable) {
  auto dir = os::TempDir::create("berth-net-");
  ASSERT_TRUE(dir.isOk());
  UserModeNetwork network;
  EXPECT_EQ(network.exposePort(model::VmSpec{}, Paths::Vm{dir->path()}, 8080).status().code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace berth::agent
