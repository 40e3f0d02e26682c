#include "controlplane/service/session_broker.h"

#include <gtest/gtest.h>

#include <thread>

namespace berth::controlplane {
namespace {

using namespace std::chrono_literals;

const auto kNever = [] { return false; };

SessionSpec execSpec() { return SessionSpec{"exec", "p", "vm", "web", {{"command", {"ls"}}}}; }

TEST(SessionBrokerTest, AClaimedSessionStreamsFramesToItsCallerUntilDone) {
  SessionBroker broker;
  auto session = broker.open("n1", execSpec());
  ASSERT_TRUE(session.isOk());
  EXPECT_TRUE(broker.claim("n2", 0ms, kNever).empty()) << "another node's agent must not see it";
  auto claimed = broker.claim("n1", 0ms, kNever);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].spec.kind, "exec");
  EXPECT_EQ(claimed[0].spec.params["command"][0], "ls");
  EXPECT_TRUE(broker.claim("n1", 0ms, kNever).empty()) << "a session is handed out once";

  ASSERT_TRUE(broker.deliver("n1", claimed[0].id, {}, std::nullopt, false).isOk());
  ASSERT_TRUE(broker.waitStarted(**session, 1s).isOk());
  ASSERT_TRUE(broker.deliver("n1", claimed[0].id, {{{"stream", "stdout"}, {"data", "aGk="}}}, std::nullopt, false).isOk());
  ASSERT_TRUE(broker.deliver("n1", claimed[0].id, {{{"exit_code", 0}}}, std::nullopt, true).isOk());
  SessionOutput out = broker.read(**session, 1s);
  ASSERT_EQ(out.frames.size(), 2u);
  EXPECT_EQ(out.frames[0]["data"], "aGk=");
  EXPECT_EQ(out.frames[1]["exit_code"], 0);
  EXPECT_TRUE(out.done);
  EXPECT_EQ(broker.openSessions(), 0u);
  EXPECT_EQ(broker.deliver("n1", claimed[0].id, {}, std::nullopt, false).code(), StatusCode::kNotFound);
}

TEST(SessionBrokerTest, ARefusalBeforeTheStartIsTheCallersError) {
  SessionBroker broker;
  auto session = broker.open("n1", execSpec());
  auto claimed = broker.claim("n1", 0ms, kNever);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_TRUE(broker.deliver("n1", claimed[0].id, {}, std::string("VM 'vm' has no guest channel up"), true).isOk());
  Status started = broker.waitStarted(**session, 1s);
  EXPECT_EQ(started.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(started.message(), "VM 'vm' has no guest channel up");
  EXPECT_EQ(broker.openSessions(), 0u);
}

TEST(SessionBrokerTest, AnErrorAfterTheStartEndsTheStreamWithAnErrorFrame) {
  SessionBroker broker;
  auto session = broker.open("n1", execSpec());
  auto id = broker.claim("n1", 0ms, kNever).at(0).id;
  ASSERT_TRUE(broker.deliver("n1", id, {}, std::nullopt, false).isOk());
  ASSERT_TRUE(broker.waitStarted(**session, 1s).isOk());
  ASSERT_TRUE(broker.deliver("n1", id, {}, std::string("guest channel closed during exec"), false).isOk());
  SessionOutput out = broker.read(**session, 1s);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.frames[0]["error"]["message"], "guest channel closed during exec");
  EXPECT_TRUE(out.done);
}

TEST(SessionBrokerTest, NobodyClaimingIsUnavailableAndForgotten) {
  SessionBroker broker;
  auto session = broker.open("n1", execSpec());
  Status started = broker.waitStarted(**session, 50ms);
  EXPECT_EQ(started.code(), StatusCode::kUnavailable);
  EXPECT_NE(started.message().find("node 'n1'"), std::string::npos) << started.message();
  EXPECT_TRUE(broker.claim("n1", 0ms, kNever).empty()) << "an abandoned session must not reach the agent later";
}

TEST(SessionBrokerTest, ACallerThatLeavesMakesTheAgentsNextDeliveryNotFound) {
  SessionBroker broker;
  auto session = broker.open("n1", execSpec());
  auto id = broker.claim("n1", 0ms, kNever).at(0).id;
  ASSERT_TRUE(broker.deliver("n1", id, {}, std::nullopt, false).isOk());
  broker.close(**session);
  EXPECT_EQ(broker.deliver("n1", id, {{{"data", "x"}}}, std::nullopt, false).code(), StatusCode::kNotFound);
  EXPECT_EQ(broker.openSessions(), 0u);
}

TEST(SessionBrokerTest, AnotherNodeCannotDeliverIntoASession) {
  SessionBroker broker;
  auto session = broker.open("n1", execSpec());
  auto id = broker.claim("n1", 0ms, kNever).at(0).id;
  EXPECT_EQ(broker.deliver("n2", id, {}, std::nullopt, false).code(), StatusCode::kNotFound);
}

TEST(SessionBrokerTest, AnUnreadSessionHoldsBackTheAgentInsteadOfGrowing) {
  SessionBrokerOptions options;
  options.max_unread_bytes = 100;
  options.delivery_wait = 2s;  // long enough that the reader below always comes first
  SessionBroker broker(options);
  auto session = broker.open("n1", execSpec());
  auto id = broker.claim("n1", 0ms, kNever).at(0).id;
  const nlohmann::json big = {{"data", std::string(80, 'x')}};
  ASSERT_TRUE(broker.deliver("n1", id, {big}, std::nullopt, false).isOk()) << "an empty buffer takes any batch";
  EXPECT_EQ(broker.deliver("n1", id, {big}, std::nullopt, false).code(), StatusCode::kUnavailable);

  // Once the caller reads, a waiting delivery goes through.
  std::thread reader([&] {
    std::this_thread::sleep_for(10ms);
    (void)broker.read(**session, 0ms);
  });
  EXPECT_TRUE(broker.deliver("n1", id, {big}, std::nullopt, false).isOk());
  reader.join();
  EXPECT_EQ(broker.read(**session, 0ms).frames.size(), 1u);
}

TEST(SessionBrokerTest, QueuedSessionsPerNodeAreCapped) {
  SessionBrokerOptions options;
  options.max_queued_per_node = 2;
  SessionBroker broker(options);
  ASSERT_TRUE(broker.open("n1", execSpec()).isOk());
  ASSERT_TRUE(broker.open("n1", execSpec()).isOk());
  EXPECT_EQ(broker.open("n1", execSpec()).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(broker.open("n2", execSpec()).isOk());
}

TEST(SessionBrokerTest, AClaimWaitsForWorkAndWakesWhenItArrives) {
  SessionBroker broker;
  std::thread opener([&] {
    std::this_thread::sleep_for(20ms);
    (void)broker.open("n1", execSpec());
  });
  auto claimed = broker.claim("n1", 5s, kNever);
  opener.join();
  EXPECT_EQ(claimed.size(), 1u);
  bool stop = true;
  EXPECT_TRUE(broker.claim("n1", 5s, [&] { return stop; }).empty()) << "stopping ends a claim at once";
}

}  // namespace
}  // namespace berth::controlplane
