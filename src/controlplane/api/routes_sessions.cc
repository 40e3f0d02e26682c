// Exec, logs and the serial console: the caller's request becomes a session that the VM's node
// agent claims and answers (service/session_broker.h); its output streams back as SSE.

#include <algorithm>

#include "common/base64.h"
#include "controlplane/api/json_fields.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {

constexpr auto kClaimTimeout = std::chrono::seconds(15);
constexpr auto kReadTick = std::chrono::seconds(1);
constexpr std::chrono::seconds kSessionKeepalive{5};
constexpr size_t kMaxExecStdin = 64 << 10;
constexpr size_t kMaxFramesPerDelivery = 4096;
constexpr int64_t kMaxTailLines = 100000;
constexpr int64_t kDefaultTailLines = 200;
constexpr int64_t kMaxClaimWaitSeconds = 15;

bool followRequested(const HttpRequest& r) {
  auto it = r.query.find("follow");
  return it != r.query.end() && it->second != "0" && it->second != "false";
}

// SSE event names tell a client what a frame is without parsing it first.
std::string sseFrame(const nlohmann::json& frame) {
  const char* event = frame.contains("error") ? "error" : frame.contains("exit_code") ? "exit" : "output";
  return std::string("event: ") + event + "\ndata: " + frame.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n\n";
}

// Queues the session, waits for the agent to take it (so refusals are proper 4xx/5xx answers),
// then streams its frames until the agent ends it, the caller leaves, or berthd stops.
Result<HttpResponse> relay(RequestContext& c, const std::string& node, SessionSpec spec) {
  SessionBroker& broker = c.broker;
  BERTH_ASSIGN_OR_RETURN(auto session, broker.open(node, std::move(spec)));
  BERTH_RETURN_IF_ERROR(broker.waitStarted(*session, kClaimTimeout));
  HttpResponse r;
  r.content_type = "text/event-stream";
  // Shorter than the event stream's: it is also how a departed exec caller is noticed, and the
  // agent then kills the command.
  auto keepalive = std::min(c.event_keepalive, kSessionKeepalive);
  r.stream = [&broker, session, keepalive](StreamWriter& w) {
    auto last_write = std::chrono::steady_clock::now();
    bool open = w.write(": berth session\n\n");
    while (open && !w.stopping()) {
      SessionOutput out = broker.read(*session, kReadTick);
      for (const auto& frame : out.frames) {
        if (!(open = w.write(sseFrame(frame)))) break;
        last_write = std::chrono::steady_clock::now();
      }
      if (out.done) return;
      // The keepalive also finds out that a quiet follower's caller has gone.
      if (open && std::chrono::steady_clock::now() - last_write >= keepalive) {
        open = w.write(": keepalive\n\n");
        last_write = std::chrono::steady_clock::now();
      }
    }
    broker.close(*session);
  };
  return r;
}

}  // namespace

Result<HttpResponse> handleAppExec(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  auto command = f.stringArray("command", 256, true);
  auto env = f.stringMap("env", 256);
  auto stdin_text = f.string("stdin");
  auto timeout = f.integer("timeout_seconds", 1, 86400);
  auto instance = f.name("instance");
  BERTH_RETURN_IF_ERROR(f.finish());
  if (command->empty()) return invalidArgument("command must name a program to run");
  BERTH_RETURN_IF_ERROR(checkStringLengths(*command, "command"));
  if (env) BERTH_RETURN_IF_ERROR(checkEnvNames(*env));
  nlohmann::json params = {{"command", *command}};
  if (env) params["env"] = *env;
  if (stdin_text) {
    BERTH_ASSIGN_OR_RETURN(std::string bytes, base64Decode(*stdin_text, "stdin"));
    if (bytes.size() > kMaxExecStdin) return invalidArgument("stdin is larger than 64 KiB");
    params["stdin"] = *stdin_text;
  }
  if (timeout) params["timeout_ms"] = *timeout * 1000;
  const std::string& project = c.param("project");
  const std::string& app = c.param("app");
  BERTH_ASSIGN_OR_RETURN(SessionTarget target,
                         c.services.sessions.execTarget(c.who, project, app, *command, instance.value_or("")));
  return relay(c, target.node, SessionSpec{"exec", project, target.vm, app, std::move(params)});
}

Result<HttpResponse> handleAppLogs(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(int64_t tail, queryInteger(c.request, "tail", kDefaultTailLines, 0, kMaxTailLines));
  const bool follow = followRequested(c.request);
  const std::string& project = c.param("project");
  const std::string& app = c.param("app");
  const auto query = c.request.query.find("instance");
  const std::string instance = query == c.request.query.end() ? "" : query->second;
  BERTH_ASSIGN_OR_RETURN(SessionTarget target, c.services.sessions.logsTarget(c.who, project, app, instance));
  return relay(c, target.node, SessionSpec{"logs", project, target.vm, app, {{"tail", tail}, {"follow", follow}}});
}

Result<HttpResponse> handleVmConsole(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(int64_t tail, queryInteger(c.request, "tail", kDefaultTailLines, 0, kMaxTailLines));
  const bool follow = followRequested(c.request);
  const std::string& project = c.param("project");
  BERTH_ASSIGN_OR_RETURN(SessionTarget target, c.services.sessions.consoleTarget(c.who, project, c.param("vm")));
  return relay(c, target.node, SessionSpec{"console", project, target.vm, "", {{"tail", tail}, {"follow", follow}}});
}

Result<HttpResponse> handleNodeSessions(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(int64_t wait, queryInteger(c.request, "wait", 0, 0, kMaxClaimWaitSeconds));
  const std::string& node = c.param("node");
  BERTH_RETURN_IF_ERROR(authorizeNode(c.who, node));
  auto claimed = c.broker.claim(node, std::chrono::seconds(wait), c.request.server_stopping);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& s : claimed) {
    nlohmann::json item = {{"id", s.id},      {"kind", s.spec.kind}, {"project", s.spec.project},
                           {"vm", s.spec.vm}, {"params", s.spec.params}};
    if (!s.spec.app.empty()) item["app"] = s.spec.app;
    items.push_back(std::move(item));
  }
  return jsonResponse(200, nlohmann::json{{"items", items}});
}

Result<HttpResponse> handleNodeSessionOutput(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  const std::string& node = c.param("node");
  BERTH_RETURN_IF_ERROR(authorizeNode(c.who, node));
  FieldReader f(body);
  std::vector<nlohmann::json> frames;
  if (const auto* list = f.array("frames")) {
    if (list->size() > kMaxFramesPerDelivery) return invalidArgument("frames has more than 4096 entries");
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_object()) return invalidArgument("frames[" + std::to_string(i) + "] must be an object");
      frames.push_back((*list)[i]);
    }
  }
  auto error = f.string("error");
  auto done = f.boolean("done");
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_RETURN_IF_ERROR(c.broker.deliver(node, c.param("session"), std::move(frames), error, done.value_or(false)));
  return noContent();
}

}  // namespace berth::controlplane
