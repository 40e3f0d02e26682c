#pragma once
// berth-init's supervisor: one poll loop over the guest channel, a signalfd, the power button
// and every child's output. It runs app instances (restarting them with backoff until told to
// stop), probes their health checks, runs exec requests, keeps each instance's output in a
// LogRing and streams it to the host, and on Shutdown, SIGTERM or the ACPI power button stops
// everything with its grace period and powers off.
//
// An app may have two instances at once while the host rolls it out start-first: the new one
// runs beside the old until its health check passes, then the host stops the old one.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/guest_messages.h"
#include "common/guest_protocol.h"
#include "guest/channel.h"
#include "guest/health_check.h"
#include "guest/kernel_cmdline.h"
#include "guest/log_ring.h"
#include "guest/process.h"

namespace berth::guest {

class Init {
 public:
  Init(BootConfig config, Channel channel, std::string boot_id, std::vector<int> power_button_fds);
  // Serves until shutdown; returns when every app has stopped and filesystems are synced.
  void run();

 private:
  // A health probe in flight: a forked child (http, tcp) or an exec in the app's namespaces.
  struct Probe {
    pid_t pid = -1;
    bool own_session = false;  // an exec probe: its whole group is killed at the deadline
    os::UniqueFd out, err;
    std::uint64_t deadline_ms = 0;
  };
  struct App {
    std::string name;      // the app
    std::string instance;  // the key in apps_: one run of one release of the app
    std::uint64_t generation = 0;  // order of run_app requests: exec goes to the newest instance
    ProcessSpec spec;
    pid_t pid = -1;
    os::UniqueFd out, err;
    LogRing ring{1u << 20};
    bool stopping = false;     // told to stop: no restart
    std::string restart = "always";  // always | on-failure | never (after an exit not asked for)
    std::uint64_t started_ms = 0;
    std::uint64_t restart_at_ms = 0;  // > 0 while waiting to restart
    std::uint64_t stop_deadline_ms = 0;
    int restarts = 0;
    int backoff_ms = 0;
    int last_exit = -1;
    std::vector<std::uint64_t> stop_waiters;  // stop_app request ids answered on exit
    std::optional<HealthTracker> health;
    Probe probe;
  };
  struct Exec {
    std::uint64_t request_id = 0;
    pid_t pid = -1;
    os::UniqueFd out, err;
    std::uint64_t deadline_ms = 0;
    bool exited = false;
    bool timed_out = false;
    int code = 0;
    int signal = 0;
  };

  void handle(const Message& message);
  // Decodes the request once and passes it to `handler`; a body that does not decode is
  // answered with an error reply naming the field.
  template <typename Request>
  void serve(const Message& message, void (Init::*handler)(std::uint64_t id, const Request& request));
  void onHello(std::uint64_t id, const HelloRequest& request);
  void onRunApp(std::uint64_t id, const RunAppRequest& request);
  void onStopApp(std::uint64_t id, const StopAppRequest& request);
  void onAppStatus(std::uint64_t id, const AppStatusRequest& request);
  void onExec(std::uint64_t id, const ExecRequest& request);
  void onCancelExec(std::uint64_t id, const CancelExecRequest& request);
  void onLogs(std::uint64_t id, const LogsRequest& request);
  void onMetrics(std::uint64_t id, const MetricsRequest& request);
  void onShutdown(std::uint64_t id, const ShutdownRequest& request);

  Status startApp(App& app);
  void stopApp(App& app, int signal, std::uint64_t grace_ms);
  void onChildOutput(App& app, bool stderr_stream);
  void sendLog(const App& app, const LogChunk& chunk);
  void onExecOutput(Exec& exec, bool stderr_stream);
  void startProbe(App& app, std::uint64_t now);
  void finishProbe(App& app, bool ok, std::string detail);
  void sendHealth(const App& app, Health before);
  void replaceInstances(const std::string& name, const std::string& instance, bool others_too);
  App* newestInstance(const std::string& name);
  void reapChildren();
  void finishExecIfDone(pid_t pid);
  void runTimers();
  void beginShutdown(std::uint64_t grace_ms, std::uint64_t request_id);
  void sendHello();
  AppState appState(const App& app) const;

  BootConfig config_;
  Channel channel_;
  std::string boot_id_;
  std::vector<int> power_button_fds_;
  os::UniqueFd signal_fd_;
  std::map<std::string, App> apps_;  // by instance
  std::uint64_t generations_ = 0;
  std::map<pid_t, Exec> execs_;
  bool shutting_down_ = false;
  std::uint64_t shutdown_request_ = 0;
};

}  // namespace berth::guest
