#include "common/guest_messages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::guest {
namespace {

using nlohmann::json;

// Through the codec as the channel carries it: framed, then decoded against the schema table
// as a message from `from`, then typed.
template <typename T>
Result<T> throughChannel(const T& message, Sender from, std::uint64_t id = 0) {
  const std::string frame = encodeMessage(toMessage(message, id));
  Result<Message> decoded = decodeMessage(std::string_view(frame).substr(4), from);
  if (!decoded.isOk()) return decoded.status();
  EXPECT_EQ(decoded->id, id);
  return fromMessage<T>(*decoded);
}

template <typename T>
Result<T> replyThroughChannel(const T& result) {
  const std::string frame = encodeMessage(makeReply(9, result.encode()));
  Result<Message> decoded = decodeMessage(std::string_view(frame).substr(4), Sender::kGuest);
  if (!decoded.isOk()) return decoded.status();
  EXPECT_EQ(decoded->type, "reply");
  EXPECT_TRUE(decoded->body["ok"].get<bool>());
  return T::decode(decoded->body["result"]);
}

std::string errorOf(const Status& status) { return status.message(); }

HealthCheck httpCheck() {
  HealthCheck check;
  check.type = "http";
  check.port = 8080;
  check.path = "/healthz";
  check.interval_ms = 1000;
  check.timeout_ms = 500;
  check.grace_ms = 3000;
  check.retries = 2;
  return check;
}

RunAppRequest fullRunApp() {
  RunAppRequest run;
  run.app = "web";
  run.instance = "web-3";
  run.replace = false;
  run.health = httpCheck();
  run.argv = {"/app/server", "--port", "$(PORT)"};
  run.env = {{"PORT", "8080"}, {"MODE", "prod"}};
  run.cwd = "/srv";
  run.uid = 1000;
  run.gid = 100;
  run.files = {{"/run/secrets/web/key", 0400, std::string("k\0y", 3)}};
  run.image = RunAppRequest::Image{"sha256:" + std::string(64, 'a'), 4096, "10.0.2.100:80"};
  run.container = true;
  run.limits = {256u << 20, 500, 64};
  run.restart = "on-failure";
  return run;
}

AppState runningState() {
  AppState state;
  state.app = "web";
  state.instance = "web-3";
  state.state = "running";
  state.restarts = 2;
  state.health = "healthy";
  state.health_detail = "was refused once";
  state.pid = 42;
  state.started_ms = 1234;
  state.last_exit = 137;
  state.log_seq = 17;
  return state;
}

TEST(GuestMessagesTest, RequestsRoundTripThroughTheCodec) {
  EXPECT_EQ(throughChannel(HelloRequest{}, Sender::kHost, 1)->version, kProtocolVersion);
  EXPECT_TRUE(throughChannel(PingRequest{}, Sender::kHost, 2).isOk());
  EXPECT_TRUE(throughChannel(MetricsRequest{}, Sender::kHost, 3).isOk());

  const RunAppRequest run = fullRunApp();
  auto run_back = throughChannel(run, Sender::kHost, 4);
  ASSERT_TRUE(run_back.isOk()) << run_back.status().toString();
  EXPECT_EQ(*run_back, run);

  RunAppRequest exec_checked;
  exec_checked.app = "worker";
  exec_checked.instance = "worker";
  exec_checked.argv = {"worker"};
  exec_checked.health = HealthCheck{"exec", 0, "/", {"test", "-f", "/ready"}, 10'000, 2'000, 0, 1};
  EXPECT_EQ(*throughChannel(exec_checked, Sender::kHost, 5), exec_checked);

  const StopAppRequest stop{"web", "web-3", 9, 500};
  EXPECT_EQ(*throughChannel(stop, Sender::kHost, 6), stop);
  const AppStatusRequest status{"web"};
  EXPECT_EQ(*throughChannel(status, Sender::kHost, 7), status);

  ExecRequest exec;
  exec.argv = {"sh", "-c", "cat"};
  exec.env = {{"A", "1"}};
  exec.cwd = "/tmp";
  exec.app = "web";
  exec.instance = "web-3";
  exec.stdin_data = std::string("\x00\xff", 2);
  exec.timeout_ms = 3000;
  EXPECT_EQ(*throughChannel(exec, Sender::kHost, 8), exec);

  EXPECT_EQ(*throughChannel(CancelExecRequest{8}, Sender::kHost, 9), CancelExecRequest{8});
  const LogsRequest logs{"web", "web-2", 40};
  EXPECT_EQ(*throughChannel(logs, Sender::kHost, 10), logs);
  EXPECT_EQ(*throughChannel(ShutdownRequest{2500}, Sender::kHost, 11), ShutdownRequest{2500});
}

TEST(GuestMessagesTest, AbsentOptionalFieldsTakeTheirDefaults) {
  auto run = RunAppRequest::decode(json{{"app", "web"}, {"argv", {"server"}}});
  ASSERT_TRUE(run.isOk()) << run.status().toString();
  EXPECT_EQ(run->instance, "");
  EXPECT_TRUE(run->replace);
  EXPECT_FALSE(run->health);
  EXPECT_FALSE(run->cwd);
  EXPECT_FALSE(run->image);
  EXPECT_FALSE(run->container);
  EXPECT_EQ(run->restart, "always");

  auto stop = StopAppRequest::decode(json{{"app", "web"}});
  ASSERT_TRUE(stop.isOk());
  EXPECT_EQ(stop->signal, 15u);
  EXPECT_EQ(stop->grace_ms, kDefaultGraceMs);
  EXPECT_EQ(ShutdownRequest::decode(json::object())->grace_ms, kDefaultGraceMs);

  auto exec = ExecRequest::decode(json{{"argv", {"true"}}});
  ASSERT_TRUE(exec.isOk());
  EXPECT_FALSE(exec->cwd);
  EXPECT_FALSE(exec->app);
  EXPECT_FALSE(exec->stdin_data);
  EXPECT_EQ(exec->timeout_ms, 0u);
}

TEST(GuestMessagesTest, EncodeWritesOnlyWhatDiffersFromTheDefaults) {
  RunAppRequest run;
  run.app = "web";
  run.argv = {"server"};
  EXPECT_EQ(run.encode(), (json{{"app", "web"}, {"argv", {"server"}}}));
  StopAppRequest stop;
  stop.app = "web";
  EXPECT_EQ(stop.encode(), (json{{"app", "web"}}));
  EXPECT_EQ(ShutdownRequest{}.encode(), json::object());
}

// What berth-init sends, field for field as the protocol document lists it.
TEST(GuestMessagesTest, GuestMessagesEncodeToTheDocumentedBodies) {
  EXPECT_EQ(runningState().encode(),
            (json{{"app", "web"}, {"instance", "web-3"}, {"state", "running"}, {"restarts", 2}, {"health", "healthy"},
                  {"health_detail", "was refused once"}, {"pid", 42u}, {"started_ms", 1234u}, {"last_exit", 137},
                  {"log_seq", 17u}}));
  AppState exited;
  exited.app = "web";
  exited.instance = "web";
  exited.state = "exited";
  exited.log_seq = 1;
  EXPECT_EQ(exited.encode(), (json{{"app", "web"}, {"instance", "web"}, {"state", "exited"}, {"restarts", 0},
                                   {"log_seq", 1u}}));
  EXPECT_EQ((AppExitedNotification{"web", "web-3", 42, 1, std::nullopt}.encode()),
            (json{{"app", "web"}, {"instance", "web-3"}, {"pid", 42u}, {"code", 1}}));
  EXPECT_EQ((AppHealthNotification{"web", "web-3", "starting", "healthy", ""}.encode()),
            (json{{"app", "web"}, {"instance", "web-3"}, {"health", "starting"}, {"from", "healthy"}}));
  EXPECT_EQ((LogNotification{"web", "web-3", "stdout", 3, 99, "hi"}.encode()),
            (json{{"app", "web"}, {"instance", "web-3"}, {"stream", "stdout"}, {"seq", 3u}, {"ts_ms", 99u},
                  {"data", json::binary({'h', 'i'})}}));
  EXPECT_EQ((ExecReply{0, 0, false}.encode()), (json{{"exit_code", 0}, {"signal", 0}, {"timed_out", false}}));
}

TEST(GuestMessagesTest, RepliesRoundTripThroughTheCodec) {
  AppState stopped;
  stopped.app = "web";
  stopped.state = "stopped";
  // Without an instance, an app state is exactly what stop_app answers when nothing ran.
  EXPECT_EQ(stopped.encode(), (json{{"app", "web"}, {"state", "stopped"}}));
  EXPECT_EQ(*replyThroughChannel(stopped), stopped);
  EXPECT_EQ(*replyThroughChannel(runningState()), runningState());

  const HelloReply hello{kProtocolVersion, "boot-1", "vm1", {runningState(), stopped}};
  auto hello_back = replyThroughChannel(hello);
  ASSERT_TRUE(hello_back.isOk()) << hello_back.status().toString();
  EXPECT_EQ(*hello_back, hello);
  EXPECT_EQ(*replyThroughChannel(PingReply{"boot-1"}), PingReply{"boot-1"});
  const AppStatusReply status{{runningState()}};
  EXPECT_EQ(*replyThroughChannel(status), status);
  EXPECT_EQ(*replyThroughChannel(ExecReply{137, 9, true}), (ExecReply{137, 9, true}));
  EXPECT_EQ(*replyThroughChannel(CancelExecReply{true}), CancelExecReply{true});
  EXPECT_EQ(*replyThroughChannel(LogsReply{18}), LogsReply{18});

  MetricsReply metrics{10, 20, 100, 2048, 1024, MetricsReply::Disk{500, 400}, 1500, {{"web-3", 7, 900}}};
  EXPECT_EQ(*replyThroughChannel(metrics), metrics);
  metrics.disk.reset();
  EXPECT_EQ(*replyThroughChannel(metrics), metrics);
}

TEST(GuestMessagesTest, NotificationsRoundTripThroughTheCodec) {
  const GuestHello hello{kProtocolVersion, "boot-1", "vm1", {"run_app", "exec"}};
  EXPECT_EQ(*throughChannel(hello, Sender::kGuest), hello);
  const LogNotification log{"web", "web-3", "stderr", 5, 1'700'000'000'000, std::string("a\0b\n", 4)};
  EXPECT_EQ(*throughChannel(log, Sender::kGuest), log);
  const ExecOutputNotification output{8, "stdout", "hi\n"};
  EXPECT_EQ(*throughChannel(output, Sender::kGuest), output);
  const AppExitedNotification exited{"web", "web-3", 42, -1, std::nullopt};
  EXPECT_EQ(*throughChannel(exited, Sender::kGuest), exited);
  const AppExitedNotification killed{"web", "web-3", 42, std::nullopt, 9};
  EXPECT_EQ(*throughChannel(killed, Sender::kGuest), killed);
  const AppStartedNotification started{"web", "web-3", 43};
  EXPECT_EQ(*throughChannel(started, Sender::kGuest), started);
  const AppHealthNotification health{"web", "web-3", "unhealthy", "healthy", "HTTP 500 from /healthz"};
  EXPECT_EQ(*throughChannel(health, Sender::kGuest), health);
}

TEST(GuestMessagesTest, DecodeErrorsNameTheMessageAndField) {
  EXPECT_EQ(errorOf(RunAppRequest::decode(json{{"app", "web"}}).status()), "message 'run_app' lacks field 'argv'");
  EXPECT_EQ(errorOf(RunAppRequest::decode(json{{"app", "web"}, {"argv", {"x"}}, {"uid", -1}}).status()),
            "message 'run_app' field 'uid' has the wrong type");
  EXPECT_EQ(errorOf(RunAppRequest::decode(json{{"app", "web"}, {"argv", {"x"}}, {"env", {{"A", 1}}}}).status()),
            "message 'run_app' field 'env' has the wrong type");
  EXPECT_EQ(errorOf(RunAppRequest::decode(json{{"app", "web"}, {"argv", {"x"}}, {"files", {{{"path", "/a"}}}}})
                        .status()),
            "message 'run_app' files[0] lacks field 'mode'");
  EXPECT_EQ(errorOf(RunAppRequest::decode(json::array()).status()), "message 'run_app' is not a map");
  EXPECT_EQ(errorOf(ExecRequest::decode(json{{"argv", {"x"}}, {"stdin", "text"}}).status()),
            "message 'exec' field 'stdin' has the wrong type");
  EXPECT_EQ(errorOf(CancelExecRequest::decode(json::object()).status()), "message 'cancel_exec' lacks field 'exec'");
  EXPECT_EQ(errorOf(HelloReply::decode(json{{"version", 1u}, {"boot_id", "b"}, {"apps", {{{"app", "web"}}}}}).status()),
            "reply to 'hello' apps[0] lacks field 'state'");
  EXPECT_EQ(errorOf(ExecReply::decode(json{{"exit_code", "0"}}).status()),
            "reply to 'exec' field 'exit_code' has the wrong type");
  EXPECT_EQ(errorOf(LogNotification::decode(json{{"app", "web"}, {"stream", "stdin"}, {"seq", 1u}, {"ts_ms", 1u},
                                                 {"data", json::binary({})}})
                        .status()),
            "message 'log' field 'stream' must be stdout or stderr");
  EXPECT_EQ(errorOf(AppHealthNotification::decode(
                        json{{"app", "a"}, {"instance", "a"}, {"health", "fine"}, {"from", "starting"}})
                        .status()),
            "message 'app_health' field 'health' must be starting, healthy or unhealthy");
  EXPECT_EQ(errorOf(fromMessage<StopAppRequest>(Message{"run_app", 1, json::object()}).status()),
            "expected message 'stop_app', got 'run_app'");
}

TEST(GuestMessagesTest, HealthChecksDecodeEveryField) {
  auto check = HealthCheck::decode(json{{"type", "http"}, {"port", 8080}, {"path", "/healthz"}, {"interval_ms", 1000},
                                        {"timeout_ms", 500}, {"grace_ms", 3000}, {"retries", 2}});
  ASSERT_TRUE(check.isOk()) << check.status().toString();
  EXPECT_EQ(*check, httpCheck());
  auto exec = HealthCheck::decode(json{{"type", "exec"}, {"command", {"test", "-f", "/ready"}}});
  ASSERT_TRUE(exec.isOk());
  EXPECT_EQ(exec->argv, (std::vector<std::string>{"test", "-f", "/ready"}));
  EXPECT_EQ(exec->interval_ms, 10'000u);
  EXPECT_EQ(exec->retries, 3);
}

TEST(GuestMessagesTest, MalformedHealthChecksAreRefusedNamingTheField) {
  auto error = [](const json& health) { return errorOf(HealthCheck::decode(health).status()); };
  EXPECT_EQ(error(json{{"type", "udp"}}), "health.type must be http, tcp or exec");
  EXPECT_EQ(error(json{{"type", 7}}), "health.type must be http, tcp or exec");
  EXPECT_EQ(error(json{{"type", "tcp"}}), "an tcp health check needs a port from 1 to 65535");
  EXPECT_EQ(error(json{{"type", "tcp"}, {"port", 70000}}), "an tcp health check needs a port from 1 to 65535");
  EXPECT_EQ(error(json{{"type", "exec"}, {"command", json::array()}}), "an exec health check needs a command");
  EXPECT_EQ(error(json{{"type", "exec"}, {"command", {1}}}), "health.command must be a list of strings");
  EXPECT_EQ(error(json{{"type", "http"}, {"port", 80}, {"path", "/a b"}}),
            "health.path must start with '/' and hold no spaces or line breaks");
  EXPECT_EQ(error(json{{"type", "http"}, {"port", 80}, {"retries", 0}}),
            "health.retries must be a number from 1 to 100");
  EXPECT_EQ(error(json{{"type", "http"}, {"port", 80}, {"interval_ms", "1s"}}),
            "health.interval_ms must be a number from 100 to 3600000");
  EXPECT_EQ(error(json::array()), "health must be an object");
  // Inside run_app the same error comes back from the request's decode.
  EXPECT_EQ(errorOf(RunAppRequest::decode(json{{"app", "web"}, {"argv", {"x"}}, {"health", {{"type", "udp"}}}})
                        .status()),
            "health.type must be http, tcp or exec");
}

}  // namespace
}  // namespace berth::guest
