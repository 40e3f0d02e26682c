// The router against real proxy loops (runProxy on threads, standing in for a previous agent's
// proxy processes, so nothing is spawned): instances marked down leave the rotation, all of them
// when none is up, and proxies nobody routes to are stopped only once pruning has started.

#include "agent/traffic_router.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>

#include "fakes.h"
#include "loopback_peers.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace berth::agent {
namespace {

using loopback::Greeter;
using loopback::readFrom;

// The answers of `n` connections in a row.
std::set<std::string> answers(int port, int n = 4) {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i) out.insert(readFrom(port));
  return out;
}

// A proxy already serving a port, as a previous agent leaves one.
class LeftoverProxy {
 public:
  explicit LeftoverProxy(std::string dir) : dir_(std::move(dir)) {
    port_ = [] {
      Greeter probe("");
      return probe.port();
    }();
    socket_ = dir_ + "/" + std::to_string(port_) + ".sock";
    exit_ = std::async(std::launch::async, [port = port_, socket = socket_] {
      return PortPublisher::runProxy(std::to_string(port), socket, {});
    });
    for (int i = 0; i < 500 && !running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Stops the proxy if it still runs (exit_ then waits for it).
  ~LeftoverProxy() {
    if (running()) (void)PortPublisher("/nonexistent/berth-agent", dir_).unpublish(port_);
  }
  int port() const { return port_; }
  bool running() const { return ::access(socket_.c_str(), F_OK) == 0; }
  // Waits for the proxy to end; its exit status.
  int exitCode() { return exit_.get(); }

 private:
  std::string dir_;
  int port_ = 0;
  std::string socket_;
  std::future<int> exit_;
};

const VmKey kA{"p", "a"}, kB{"p", "b"};

TEST(TrafficRouter, SendsToTheInstancesThatAreUpAndToAllWhenNoneIs) {
  auto dir = os::TempDir::create("berth-router-").value();
  LeftoverProxy proxy(dir.path());
  Greeter blue("blue"), green("green");
  NoIngress ingress;
  TrafficRouter router(PortPublisher("/nonexistent/berth-agent", dir.path()), ingress);
  router.setRoutes(kA, {{proxy.port(), {Route{{kA, "web-1"}, loopback::at(blue.port())}}}});
  router.setRoutes(kB, {{proxy.port(), {Route{{kB, "web-1"}, loopback::at(green.port())}}}});
  EXPECT_EQ(answers(proxy.port()), (std::set<std::string>{"blue", "green"}));

  router.markInstance({kA, "web-1"}, false);
  EXPECT_EQ(answers(proxy.port()), std::set<std::string>{"green"});
  router.markInstance({kB, "web-1"}, false);
  EXPECT_EQ(answers(proxy.port()), (std::set<std::string>{"blue", "green"}));
  router.markInstance({kA, "web-1"}, true);
  EXPECT_EQ(answers(proxy.port()), std::set<std::string>{"blue"});

  // A VM's routes are its own: b serving nothing leaves a's.
  router.markInstance({kB, "web-1"}, true);
  router.setRoutes(kB, {});
  EXPECT_EQ(answers(proxy.port()), std::set<std::string>{"blue"});
  // The proxy counts a connection until its own side of it is done, a moment after the client
  // has read the whole answer.
  std::size_t open = 1;
  for (int i = 0;
       i < 500 && (open = router.connectionsTo(proxy.port(), loopback::at(blue.port()))) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(open, 0u);
}

TEST(TrafficRouter, APreviousAgentsProxyIsStoppedOnlyOncePruningStartsAndNobodyRoutesToIt) {
  auto dir = os::TempDir::create("berth-router-").value();
  LeftoverProxy proxy(dir.path());
  NoIngress ingress;
  TrafficRouter router(PortPublisher("/nonexistent/berth-agent", dir.path()), ingress);
  router.setRoutes(kA, {});
  EXPECT_TRUE(proxy.running());
  router.startPruning();
  EXPECT_EQ(proxy.exitCode(), 0);
  EXPECT_FALSE(proxy.running());
}

TEST(TrafficRouter, AReservedPortOutlivesPruningUntilItsVmSetsItsRoutes) {
  auto dir = os::TempDir::create("berth-router-").value();
  LeftoverProxy proxy(dir.path());
  NoIngress ingress;
  TrafficRouter router(PortPublisher("/nonexistent/berth-agent", dir.path()), ingress);
  ASSERT_TRUE(router.reserve(kA, proxy.port()).isOk());
  router.startPruning();
  router.setRoutes(kB, {});
  EXPECT_TRUE(proxy.running());
  // a's deploy failed: it serves nothing there, and the port goes.
  router.setRoutes(kA, {});
  EXPECT_EQ(proxy.exitCode(), 0);
}

TEST(TrafficRouter,
     DomainsReachTheIngressOnlyOnceEveryVmHasSetItsRoutesAndFollowInstancesUpAndDown) {
  auto dir = os::TempDir::create("berth-router-").value();
  RecordingIngress ingress;
  TrafficRouter router(PortPublisher("/nonexistent/berth-agent", dir.path()), ingress);
  router.setRoutes(kA, {}, {{"shop.example.com", {Route{{kA, "web-1"}, "10.64.0.2:8080"}}}});
  // Before pruning, a previous agent's ingress keeps what it had: a partial view would drop
  // the domains of VMs that have not spoken yet.
  EXPECT_TRUE(ingress.routed().empty());
  router.setRoutes(kB, {},
                   {{"shop.example.com", {Route{{kB, "web-1"}, "10.64.0.3:8080"}}},
                    {"blog.example.com", {Route{{kB, "blog-1"}, "10.64.0.3:9000"}}}});
  router.startPruning();
  ASSERT_EQ(ingress.routed().size(), 1u);
  EXPECT_EQ(ingress.routed().back(),
            (DomainBackends{{"blog.example.com", {"10.64.0.3:9000"}},
                            {"shop.example.com", {"10.64.0.2:8080", "10.64.0.3:8080"}}}));
  router.markInstance({kA, "web-1"}, false);
  EXPECT_EQ(ingress.routed().back().at("shop.example.com"), std::vector<Backend>{"10.64.0.3:8080"});
  // Nothing changed: the ingress is not reloaded.
  router.retry();
  EXPECT_EQ(ingress.routed().size(), 2u);
  router.setRoutes(kB, {});
  EXPECT_EQ(ingress.routed().back(), (DomainBackends{{"shop.example.com", {"10.64.0.2:8080"}}}));
  router.setRoutes(kA, {});
  EXPECT_TRUE(ingress.routed().back().empty());
}

TEST(NoIngress, RefusesADomainSayingWhy) {
  NoIngress ingress;
  EXPECT_TRUE(ingress.route({}).isOk());
  Status s = ingress.route({{"shop.example.com", {"10.64.0.2:8080"}}});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("shop.example.com"), std::string::npos);
  EXPECT_NE(s.message().find("--ingress none"), std::string::npos);
}

}  // namespace
}  // namespace berth::agent
