#include "agent/sessions/session_runner.h"

#include <spdlog/spdlog.h>

#include <condition_variable>

#include "agent/guest_channel/typed_call.h"
#include "agent/sessions/app_log.h"
#include "agent/sessions/file_follower.h"
#include "common/base64.h"
#include "common/clock.h"
#include "common/guest_messages.h"
#include "model/json_reader.h"

namespace berth::agent {

namespace {

using nlohmann::json;

constexpr int kClaimWaitSeconds = 5;
constexpr std::size_t kMaxWorkers = 32;
// berthd takes request bodies up to 1 MiB; stay well below.
constexpr std::size_t kMaxBatchBytes = 256 << 10;
constexpr auto kFollowPoll = std::chrono::milliseconds(250);
constexpr auto kExecFlush = std::chrono::milliseconds(100);
// A quiet follower still asks berthd now and then whether its caller is there.
constexpr auto kFollowHeartbeat = std::chrono::seconds(5);
constexpr auto kNoExecTimeout = std::chrono::hours(24);

json logFrame(const LogRecord& r) {
  json frame = {{"ts", formatTimestamp(r.ts_ms)}, {"stream", r.stream}, {"data", r.data}};
  if (!r.instance.empty()) frame["instance"] = r.instance;
  return frame;
}

std::vector<json> logFrames(const std::vector<LogRecord>& records) {
  std::vector<json> frames;
  for (const LogRecord& r : records) frames.push_back(logFrame(r));
  return frames;
}

// Console output as frames small enough to batch, split at line ends where possible.
std::vector<json> consoleFrames(std::string_view text) {
  std::vector<json> frames;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = std::min(text.size(), pos + kMaxBatchBytes / 2);
    if (end < text.size()) {
      const std::size_t nl = text.rfind('\n', end - 1);
      if (nl != std::string_view::npos && nl >= pos) end = nl + 1;
    }
    frames.push_back({{"data", toText(text.substr(pos, end - pos))}});
    pos = end;
  }
  return frames;
}

}  // namespace

SessionRunner::SessionRunner(std::string node, client::ApiClient& api, Paths paths, ChannelLookup channels)
    : node_(std::move(node)), api_(api), paths_(std::move(paths)), channels_(std::move(channels)) {}

SessionRunner::~SessionRunner() { stop(); }

void SessionRunner::start() {
  claimer_ = std::thread([this] { claimLoop(); });
}

void SessionRunner::stop() {
  stopping_ = true;
  if (claimer_.joinable()) claimer_.join();
  std::lock_guard lock(workers_mu_);
  for (auto& w : workers_) {
    if (w.thread.joinable()) w.thread.join();
  }
  workers_.clear();
}

void SessionRunner::reapFinished() {
  std::lock_guard lock(workers_mu_);
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (!it->finished) {
      ++it;
      continue;
    }
    it->thread.join();
    it = workers_.erase(it);
  }
}

void SessionRunner::claimLoop() {
  while (!stopping_) {
    auto claimed = api_.get("/v1/nodes/" + node_ + "/sessions?wait=" + std::to_string(kClaimWaitSeconds));
    reapFinished();
    if (!claimed.isOk()) {
      spdlog::warn("agent: cannot claim sessions: {}", claimed.status().toString());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    const json items = claimed->body.value("items", json::array());
    for (const json& session : items) {
      {
        std::lock_guard lock(workers_mu_);
        if (workers_.size() < kMaxWorkers) {
          Worker& w = workers_.emplace_back();
          w.thread = std::thread([this, session, &w] {
            run(session);
            w.finished = true;
          });
          continue;
        }
      }
      (void)deliver(session.value("id", ""), json::array(),
                    "node '" + node_ + "' is running " + std::to_string(kMaxWorkers) + " sessions; try again shortly",
                    true);
    }
  }
}

bool SessionRunner::deliver(const std::string& id, const json& frames, const std::optional<std::string>& error,
                            bool done) {
  json body = {{"frames", frames}, {"done", done}};
  if (error) body["error"] = *error;
  auto sent = api_.post("/v1/nodes/" + node_ + "/sessions/" + id, body);
  if (!sent.isOk() && sent.status().code() != StatusCode::kNotFound) {
    spdlog::warn("agent: session {}: cannot deliver output: {}", id, sent.status().toString());
  }
  return sent.isOk();
}

void SessionRunner::run(const json& session) {
  const std::string id = session.value("id", "");
  const std::string kind = session.value("kind", "");
  if (kind == "exec") return runExec(id, session);
  if (kind == "logs") return runLogs(id, session);
  if (kind == "console") return runConsole(id, session);
  (void)deliver(id, json::array(), "this agent does not know sessions of kind '" + kind + "'", true);
}

void SessionRunner::runExec(const std::string& id, const json& session) {
  const std::string project = session.value("project", ""), vm = session.value("vm", "");
  std::shared_ptr<GuestConnection> channel = channels_(project, vm);
  if (!channel || !channel->open()) {
    (void)deliver(id, json::array(), "VM '" + vm + "' has no guest channel up (booting, stopping or failed)", true);
    return;
  }
  const json params = session.value("params", json::object());
  guest::ExecRequest request;
  request.app = session.value("app", "");
  std::string stdin_text;
  model::JsonReader reader(params, "params.");
  reader.read("command", request.argv).read("env", request.env).read("stdin", stdin_text).read("timeout_ms", request.timeout_ms);
  if (!reader.status().isOk()) {
    (void)deliver(id, json::array(), reader.status().message(), true);
    return;
  }
  if (params.contains("stdin")) {
    auto bytes = base64Decode(stdin_text, "stdin");
    if (!bytes.isOk()) {
      (void)deliver(id, json::array(), bytes.status().message(), true);
      return;
    }
    request.stdin_data = std::move(bytes).value();
  }
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kNoExecTimeout);
  if (request.timeout_ms != 0) {
    // The guest kills the command at its timeout; the host waits a little longer for the reply.
    timeout = std::chrono::milliseconds(request.timeout_ms) + std::chrono::seconds(10);
  }
  if (!deliver(id, json::array(), std::nullopt, false)) return;

  std::mutex mu;
  std::condition_variable wake;
  json pending = json::array();
  std::size_t pending_bytes = 0;
  bool finished = false;
  Result<guest::ExecReply> result = internalError("exec did not run");
  std::atomic<std::uint64_t> exec_id{0};
  std::thread caller([&] {
    auto r = channel->call(std::string(guest::ExecRequest::kType), request.encode(), timeout, [&](const guest::Message& m) {
      auto output = guest::fromMessage<guest::ExecOutputNotification>(m);
      if (!output.isOk()) {
        spdlog::warn("agent: session {}: ignored exec output: {}", id, output.status().message());
        return;
      }
      std::lock_guard lock(mu);
      pending.push_back({{"stream", output->stream}, {"data", base64Encode(output->data)}});
      pending_bytes += output->data.size();
      wake.notify_all();
    }, &exec_id);
    Result<guest::ExecReply> reply = r.isOk() ? guest::ExecReply::decode(*r) : Result<guest::ExecReply>(r.status());
    std::lock_guard lock(mu);
    result = std::move(reply);
    finished = true;
    wake.notify_all();
  });
  // Output is relayed while the command runs. Once the caller has gone (or the agent stops) the
  // command is cancelled in the guest, so a forgotten `sleep infinity` cannot hold this worker.
  bool caller_here = true, cancelled = false;
  auto last_probe = std::chrono::steady_clock::now();
  for (;;) {
    json batch = json::array();
    bool done;
    {
      std::unique_lock lock(mu);
      wake.wait_for(lock, kExecFlush, [&] { return finished || pending_bytes >= kMaxBatchBytes; });
      batch.swap(pending);
      pending_bytes = 0;
      done = finished;
    }
    if (done) {
      if (caller_here && !batch.empty()) caller_here = deliver(id, batch, std::nullopt, false);
      break;
    }
    if (caller_here) {
      // An empty batch still asks berthd whether the caller is there, once in a while.
      const bool probe = batch.empty() && std::chrono::steady_clock::now() - last_probe >= kFollowHeartbeat;
      if (!batch.empty() || probe) {
        caller_here = deliver(id, batch, std::nullopt, false);
        last_probe = std::chrono::steady_clock::now();
      }
    }
    if ((!caller_here || stopping_) && !cancelled && exec_id.load() != 0) {
      cancelled = true;
      (void)callGuest<guest::CancelExecReply>(*channel, guest::CancelExecRequest{exec_id.load()}, std::chrono::seconds(5));
    }
  }
  caller.join();
  if (!caller_here) return;
  if (!result.isOk()) {
    (void)deliver(id, json::array(), result.status().message(), true);
    return;
  }
  json exit = {{"exit_code", result->exit_code}, {"signal", result->signal}, {"timed_out", result->timed_out}};
  (void)deliver(id, json::array({exit}), std::nullopt, true);
}

namespace {
// Sends `frames` in batches under berthd's body limit; the last batch carries `done`.
bool deliverAll(const std::function<bool(const json&, bool)>& post, const std::vector<json>& frames, bool done) {
  json batch = json::array();
  std::size_t bytes = 0;
  for (const json& frame : frames) {
    const std::size_t size = frame.dump().size();
    if (!batch.empty() && bytes + size > kMaxBatchBytes) {
      if (!post(batch, false)) return false;
      batch = json::array();
      bytes = 0;
    }
    batch.push_back(frame);
    bytes += size;
  }
  return post(batch, done);
}
}  // namespace

void SessionRunner::streamFile(const std::string& id, const std::vector<json>& past, bool follow,
                               const std::function<std::vector<json>()>& fresh) {
  auto post = [&](const json& batch, bool done) { return deliver(id, batch, std::nullopt, done); };
  if (!deliverAll(post, past, !follow) || !follow) return;
  auto last_post = std::chrono::steady_clock::now();
  while (!stopping_) {
    std::this_thread::sleep_for(kFollowPoll);
    const std::vector<json> frames = fresh();
    const bool heartbeat = std::chrono::steady_clock::now() - last_post >= kFollowHeartbeat;
    if (frames.empty() && !heartbeat) continue;
    if (!deliverAll(post, frames, false)) return;
    last_post = std::chrono::steady_clock::now();
  }
  (void)deliver(id, json::array(), "the node's agent is stopping", true);
}

void SessionRunner::runLogs(const std::string& id, const json& session) {
  const json params = session.value("params", json::object());
  FileFollower file(paths_.vm(session.value("project", ""), session.value("vm", "")).appLog(session.value("app", "")));
  std::string partial;
  const auto past = tailRecords(decodeRecords(partial, file.readAll()), params.value("tail", std::size_t{200}));
  streamFile(id, logFrames(past), params.value("follow", false),
             [&] { return logFrames(decodeRecords(partial, file.readNew())); });
}

void SessionRunner::runConsole(const std::string& id, const json& session) {
  const json params = session.value("params", json::object());
  FileFollower file(paths_.vm(session.value("project", ""), session.value("vm", "")).serialLog());
  streamFile(id, consoleFrames(tailText(file.readAll(), params.value("tail", std::size_t{200}))),
             params.value("follow", false), [&] { return consoleFrames(file.readNew()); });
}

}  // namespace berth::agent
