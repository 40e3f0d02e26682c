#pragma once
// Relays interactive work — exec, logs, the serial console — between an API caller and the agent
// of the node that runs the VM. Agents only ever dial berthd (they may sit behind NAT, and the
// same binary runs embedded or remote), so a session is queued for its node; the node's agent
// claims it with a long-poll, does the work over the guest channel or its own files, and posts
// the output back in batches; the caller's HTTP stream reads it from here.
//
// Sessions live in memory for as long as their caller is connected: a berthd restart ends them
// (the caller sees its stream break), and nothing about them needs to be durable. Memory is
// bounded: per session, output not yet read by the caller is capped and the agent's delivery
// waits for room (backpressure reaches the guest through the agent); per node, queued
// sessions are capped.
//
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::controlplane {

// What the agent is asked to do. `kind` is "exec", "logs" or "console"; `params` its arguments
// as the agent reads them (documented in docs/api.md, "Sessions").
struct SessionSpec {
  std::string kind;
  std::string project, vm, app;
  nlohmann::json params = nlohmann::json::object();
};

struct ClaimedSession {
  std::string id;
  SessionSpec spec;
};

// A caller's view of its session's output: frames (JSON objects, rendered as SSE by the API)
// and whether the agent has ended it.
struct SessionOutput {
  std::vector<nlohmann::json> frames;
  bool done = false;
};

struct SessionBrokerOptions {
  std::size_t max_unread_bytes = 4 << 20;  // per session
  std::size_t max_queued_per_node = 64;
  std::chrono::milliseconds delivery_wait{10000};  // how long an agent's batch waits for room
};

class SessionBroker {
 public:
  class Session;

  explicit SessionBroker(SessionBrokerOptions options = {});
  ~SessionBroker();

  // Caller side. open() queues a session for `node`; waitStarted() returns once the agent took
  // it and began (OK), refused it (its message, FailedPrecondition), or nobody claimed it in
  // `claim_timeout` (Unavailable). read() waits up to `wait` for output. close() ends the
  // caller's interest: the agent's next delivery is refused and the agent stops.
  Result<std::shared_ptr<Session>> open(const std::string& node, SessionSpec spec);
  Status waitStarted(Session& session, std::chrono::milliseconds claim_timeout);
  SessionOutput read(Session& session, std::chrono::milliseconds wait);
  void close(Session& session);

  // Agent side. claim() waits up to `wait` (checking `stopping`) for sessions queued for
  // `node` and hands each out once. deliver() appends frames; `error` before the start refuses
  // the session, after it ends the stream with an error frame; `done` ends it. NotFound if the
  // session is unknown, not this node's, or its caller has gone.
  std::vector<ClaimedSession> claim(const std::string& node, std::chrono::milliseconds wait,
                                    const std::function<bool()>& stopping);
  Status deliver(const std::string& node, const std::string& id, std::vector<nlohmann::json> frames,
                 const std::optional<std::string>& error, bool done);

  // Sessions open now (the berth_sessions_open gauge).
  std::size_t openSessions() const;

 private:
  SessionBrokerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable queued_;  // a session was queued for some node
  std::map<std::string, std::shared_ptr<Session>> sessions_;  // by id
};

}  // namespace berth::controlplane
