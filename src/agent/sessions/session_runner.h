#pragma once
// The agent's half of exec, logs and console: it long-polls berthd for sessions queued for this
// node (GET /v1/nodes/{node}/sessions), runs each in its own thread — exec over the VM's guest
// channel, logs and console from the node's files — and posts the output back in batches
// (POST /v1/nodes/{node}/sessions/{id}). berthd answering 404 means the caller has gone, and
// the session stops. The frames it posts are what API callers receive (docs/api.md).

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/guest_channel/guest_connection.h"
#include "agent/paths.h"
#include "client/api_client.h"

namespace berth::agent {

class SessionRunner {
 public:
  // The open guest channel of a VM, or null when it has none (not running, booting).
  using ChannelLookup =
      std::function<std::shared_ptr<GuestConnection>(const std::string& project, const std::string& vm)>;

  // `api` must outlive the runner and be usable from several threads at once.
  SessionRunner(std::string node, client::ApiClient& api, Paths paths, ChannelLookup channels);
  ~SessionRunner();

  void start();
  // Ends the claim loop and every session (an exec waiting on its guest ends when the agent
  // closes the VM's channel, which it does before calling this).
  void stop();

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> finished{false};
  };

  void claimLoop();
  void run(const nlohmann::json& session);
  void runExec(const std::string& id, const nlohmann::json& session);
  void runLogs(const std::string& id, const nlohmann::json& session);
  void runConsole(const std::string& id, const nlohmann::json& session);
  // Sends `past`; with `follow`, then what `fresh()` turns up every poll, until the caller
  // leaves or the agent stops (logs and console: files the node keeps).
  void streamFile(const std::string& id, const std::vector<nlohmann::json>& past, bool follow,
                  const std::function<std::vector<nlohmann::json>()>& fresh);
  // Posts a batch; false once the session is over for berthd (caller gone) or unreachable.
  bool deliver(const std::string& id, const nlohmann::json& frames, const std::optional<std::string>& error,
               bool done);
  void reapFinished();

  std::string node_;
  client::ApiClient& api_;
  Paths paths_;
  ChannelLookup channels_;
  std::atomic<bool> stopping_{false};
  std::thread claimer_;
  std::mutex workers_mu_;
  std::list<Worker> workers_;
};

}  // namespace berth::agent
