#include "guest/init.h"

#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "guest/argv_expand.h"
#include "guest/child_output.h"
#include "guest/image_store.h"
#include "guest/time_ms.h"
#include "os/file_util.h"

namespace berth::guest {
namespace {

constexpr int kMaxBackoffMs = 30'000;

// run_app's files (config, certificates): absolute paths, parents created, written whole.
Status writeFiles(const std::vector<RunAppRequest::File>& files) {
  for (const RunAppRequest::File& file : files) {
    const std::string& path = file.path;
    if (path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
        (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0)) {
      return invalidArgument("file path '" + path + "' must be absolute without '..'");
    }
    BERTH_RETURN_IF_ERROR(os::makeDirs(path.substr(0, path.rfind('/')), 0755));
    BERTH_RETURN_IF_ERROR(os::writeFileAtomic(path, file.data, static_cast<mode_t>(file.mode & 07777)));
  }
  return Status::ok();
}

}  // namespace

Init::Init(BootConfig config, Channel channel, std::string boot_id, std::vector<int> power_button_fds)
    : config_(std::move(config)),
      channel_(std::move(channel)),
      boot_id_(std::move(boot_id)),
      power_button_fds_(std::move(power_button_fds)) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGPWR, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&mask, sig);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_.reset(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
}

void Init::sendHello() {
  GuestHello hello;
  hello.boot_id = boot_id_;
  hello.hostname = config_.hostname;
  hello.capabilities = {"run_app", "stop_app", "app_status", "exec",   "cancel_exec", "logs",
                        "metrics", "shutdown", "image_fetch", "health", "instances"};
  channel_.send(toMessage(hello));
}

AppState Init::appState(const App& app) const {
  AppState state;
  state.app = app.name;
  state.instance = app.instance;
  state.restarts = app.restarts;
  if (app.health) {
    state.health = healthName(app.health->state());
    state.health_detail = app.health->detail();
  }
  if (app.pid > 0) {
    state.state = app.stopping ? "stopping" : "running";
    state.pid = static_cast<std::uint64_t>(app.pid);
    state.started_ms = app.started_ms;
  } else {
    state.state = app.stopping ? "stopped" : (app.restart_at_ms > 0 ? "restarting" : "exited");
  }
  if (app.last_exit >= 0) state.last_exit = app.last_exit;
  state.log_seq = app.ring.nextSeq();
  return state;
}

void Init::run() {
  std::fprintf(stderr, "berth-init: ready (boot %s)\n", boot_id_.c_str());
  for (;;) {
    if (channel_.pollConnection()) sendHello();
    if (shutting_down_ && apps_.empty() && execs_.empty()) break;

    std::vector<pollfd> fds;
    enum class Source { kChannel, kSignal, kPower, kAppOut, kAppErr, kExecOut, kExecErr };
    std::vector<std::pair<Source, std::string>> sources;
    auto watch = [&](int fd, short events, Source source, std::string key = {}) {
      fds.push_back(pollfd{fd, events, 0});
      sources.emplace_back(source, std::move(key));
    };
    if (channel_.hostConnected()) {
      watch(channel_.fd(), static_cast<short>(POLLIN | (channel_.wantsWrite() ? POLLOUT : 0)), Source::kChannel);
    }
    watch(signal_fd_.get(), POLLIN, Source::kSignal);
    for (int fd : power_button_fds_) watch(fd, POLLIN, Source::kPower);
    for (auto& [name, app] : apps_) {
      if (app.out) watch(app.out.get(), POLLIN, Source::kAppOut, name);
      if (app.err) watch(app.err.get(), POLLIN, Source::kAppErr, name);
    }
    for (auto& [pid, exec] : execs_) {
      if (exec.out) watch(exec.out.get(), POLLIN, Source::kExecOut, std::to_string(pid));
      if (exec.err) watch(exec.err.get(), POLLIN, Source::kExecErr, std::to_string(pid));
    }

    // Timers: restarts, stop deadlines, exec timeouts; and while the host is away, a re-check
    // of the port (a closed port reports POLLHUP continuously, so it is not polled then).
    std::uint64_t now = monotonicMs();
    std::uint64_t next = now + (channel_.hostConnected() ? 60'000 : 200);
    for (auto& [name, app] : apps_) {
      if (app.restart_at_ms > 0) next = std::min(next, app.restart_at_ms);
      if (app.stop_deadline_ms > 0) next = std::min(next, app.stop_deadline_ms);
      if (app.probe.pid > 0) next = std::min(next, app.probe.deadline_ms);
      if (app.health && app.probe.pid <= 0 && !app.stopping) next = std::min(next, app.health->nextProbeMs());
    }
    for (auto& [pid, exec] : execs_) {
      if (exec.deadline_ms > 0 && !exec.exited) next = std::min(next, exec.deadline_ms);
    }
    const int timeout = static_cast<int>(next > now ? next - now : 0);
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      std::perror("berth-init: poll");
    }

    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto& [source, key] = sources[i];
      switch (source) {
        case Source::kChannel: {
          if (fds[i].revents & POLLOUT) channel_.flush();
          if (fds[i].revents & POLLHUP) break;  // pollConnection notices next round
          std::vector<Message> messages;
          Status read = channel_.readInto(messages);
          if (!read.isOk()) std::fprintf(stderr, "berth-init: channel: %s\n", read.toString().c_str());
          for (const Message& message : messages) handle(message);
          break;
        }
        case Source::kSignal: {
          signalfd_siginfo info;
          while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
            const int sig = static_cast<int>(info.ssi_signo);
            if (sig == SIGCHLD) continue;
            if (sig == SIGTERM || sig == SIGINT || sig == SIGPWR) {
              beginShutdown(kDefaultGraceMs, 0);
            } else {
              for (auto& [name, app] : apps_) {
                if (app.pid > 0) ::kill(-app.pid, sig);
              }
            }
          }
          reapChildren();
          break;
        }
        case Source::kPower: {
          input_event event;
          while (::read(fds[i].fd, &event, sizeof event) == sizeof event) {
            if (event.type == EV_KEY && event.code == KEY_POWER && event.value == 1) {
              std::fprintf(stderr, "berth-init: power button pressed\n");
              beginShutdown(kDefaultGraceMs, 0);
            }
          }
          break;
        }
        case Source::kAppOut:
        case Source::kAppErr:
          if (auto it = apps_.find(key); it != apps_.end()) onChildOutput(it->second, source == Source::kAppErr);
          break;
        case Source::kExecOut:
        case Source::kExecErr:
          if (auto it = execs_.find(std::stoi(key)); it != execs_.end()) {
            onExecOutput(it->second, source == Source::kExecErr);
            finishExecIfDone(it->first);
          }
          break;
      }
    }
    reapChildren();
    runTimers();
  }
  if (shutdown_request_ != 0) channel_.send(makeReply(shutdown_request_));
  channel_.flush();
}

template <typename Request>
void Init::serve(const Message& message, void (Init::*handler)(std::uint64_t id, const Request& request)) {
  Result<Request> request = Request::decode(message.body);
  if (!request.isOk()) return channel_.send(makeErrorReply(message.id, request.status().message()));
  (this->*handler)(message.id, *request);
}

void Init::handle(const Message& message) {
  if (message.type == HelloRequest::kType) return serve(message, &Init::onHello);
  if (message.type == PingRequest::kType) return channel_.send(makeReply(message.id, PingReply{boot_id_}.encode()));
  if (message.type == RunAppRequest::kType) {
    if (shutting_down_) return channel_.send(makeErrorReply(message.id, "guest is shutting down"));
    return serve(message, &Init::onRunApp);
  }
  if (message.type == StopAppRequest::kType) return serve(message, &Init::onStopApp);
  if (message.type == AppStatusRequest::kType) return serve(message, &Init::onAppStatus);
  if (message.type == ExecRequest::kType) return serve(message, &Init::onExec);
  if (message.type == CancelExecRequest::kType) return serve(message, &Init::onCancelExec);
  if (message.type == LogsRequest::kType) return serve(message, &Init::onLogs);
  if (message.type == MetricsRequest::kType) return serve(message, &Init::onMetrics);
  if (message.type == ShutdownRequest::kType) return serve(message, &Init::onShutdown);
  // A host reply: the guest sends no requests, so there is nothing to match it to.
}

void Init::onShutdown(std::uint64_t id, const ShutdownRequest& request) { beginShutdown(request.grace_ms, id); }

void Init::onHello(std::uint64_t id, const HelloRequest& request) {
  if (request.version != kProtocolVersion) {
    return channel_.send(makeErrorReply(id, "guest speaks protocol version " + std::to_string(kProtocolVersion)));
  }
  HelloReply reply;
  reply.boot_id = boot_id_;
  reply.hostname = config_.hostname;
  for (const auto& [name, app] : apps_) reply.apps.push_back(appState(app));
  channel_.send(makeReply(id, reply.encode()));
}

void Init::onRunApp(std::uint64_t id, const RunAppRequest& request) {
  const std::string& name = request.app;
  const std::string instance = request.instance.empty() ? name : request.instance;
  ProcessSpec spec;
  spec.env = envEntries(request.env);
  spec.argv = expandArgv(request.argv, spec.env);
  spec.uid = static_cast<uid_t>(request.uid);
  spec.gid = static_cast<gid_t>(request.gid);
  std::string root = "/";
  if (request.image) {
    auto mounted = ensureImage(request.image->digest, request.image->size, request.image->source, kStoreDir);
    if (!mounted.isOk()) return channel_.send(makeErrorReply(id, mounted.status().message()));
    root = *mounted;
  }
  // Start-first (replace false): the instances already running stay until the host stops them.
  replaceInstances(name, instance, request.replace);
  if (request.container) {
    if (root == "/") return channel_.send(makeErrorReply(id, "a container app needs an image"));
    // A fresh writable layer per instance; restarts of the same instance keep theirs.
    const std::string layer = std::to_string(monotonicMs());
    const ContainerLimits limits{request.limits.memory_max, request.limits.cpu_max_millis, request.limits.pids_max};
    auto cgroup = createCgroup(name + "-" + layer, limits);
    if (!cgroup.isOk()) return channel_.send(makeErrorReply(id, cgroup.status().message()));
    spec.container = ContainerSpec{root, std::string(kStoreDir) + "/containers/" + name + "/" + layer, name,
                                   "/run/secrets/" + name, *cgroup};
    spec.cwd = request.cwd.value_or("/");
  } else {
    spec.cwd = request.cwd.value_or(root);
  }
  Status written = writeFiles(request.files);
  if (!written.isOk()) return channel_.send(makeErrorReply(id, written.message()));

  App& app = apps_[instance];
  app.name = name;
  app.instance = instance;
  app.generation = ++generations_;
  app.spec = std::move(spec);
  app.restart = request.restart;
  app.stopping = false;
  app.restart_at_ms = 0;
  app.stop_deadline_ms = 0;
  app.backoff_ms = 0;
  app.health.reset();
  if (request.health) app.health.emplace(*request.health, monotonicMs());
  Status started = startApp(app);
  if (!started.isOk()) {
    // Nothing runs in them: the container's layer and cgroup go with the instance.
    if (app.spec.container) {
      (void)os::removeAll(app.spec.container->state_dir);
      removeCgroup(app.spec.container->cgroup);
    }
    apps_.erase(instance);
    return channel_.send(makeErrorReply(id, started.message()));
  }
  channel_.send(makeReply(id, appState(app).encode()));
}

// The instance being replaced (same key) always goes; with `others_too`, every other instance
// of the app as well. Each is stopped before the new one starts (its grace applies, up to 5 s
// here), so two versions never hold the same port.
void Init::replaceInstances(const std::string& name, const std::string& instance, bool others_too) {
  for (auto it = apps_.begin(); it != apps_.end();) {
    App& old = it->second;
    if (it->first != instance && !(others_too && old.name == name)) {
      ++it;
      continue;
    }
    if (old.probe.pid > 0) ::kill(old.probe.own_session ? -old.probe.pid : old.probe.pid, SIGKILL);
    if (old.pid > 0) {
      old.stopping = true;
      ::kill(-old.pid, SIGTERM);
      for (int waited = 0; waited < 5000 && ::kill(old.pid, 0) == 0; waited += 10) {
        int status = 0;
        if (::waitpid(old.pid, &status, WNOHANG) == old.pid) break;
        ::usleep(10'000);
      }
      ::kill(-old.pid, SIGKILL);
      ::waitpid(old.pid, nullptr, WNOHANG);
    }
    // Its namespace dies with its first process, and the overlay with it; the layer goes too.
    if (old.spec.container) {
      (void)os::removeAll(old.spec.container->state_dir);
      removeCgroup(old.spec.container->cgroup);
    }
    for (std::uint64_t waiter : old.stop_waiters) channel_.send(makeReply(waiter, appState(old).encode()));
    it = apps_.erase(it);
  }
}

Init::App* Init::newestInstance(const std::string& name) {
  App* newest = nullptr;
  for (auto& [key, app] : apps_) {
    if (app.name != name && key != name) continue;
    // A running instance wins over a newer one that is not (a failed rollout's, say).
    const bool better = !newest || (app.pid > 0 && newest->pid <= 0) ||
                        ((app.pid > 0) == (newest->pid > 0) && app.generation > newest->generation);
    if (better) newest = &app;
  }
  return newest;
}

Status Init::startApp(App& app) {
  auto process = spawnProcess(app.spec);
  if (!process.isOk()) return process.status();
  app.pid = process->pid;
  app.out = std::move(process->stdout_fd);
  app.err = std::move(process->stderr_fd);
  app.started_ms = monotonicMs();
  app.restart_at_ms = 0;
  std::fprintf(stderr, "berth-init: app %s started (pid %d, instance %s)\n", app.name.c_str(), app.pid,
               app.instance.c_str());
  // Without a health check, a (re)start is all the host learns of an instance being back.
  if (!app.health) {
    channel_.send(toMessage(AppStartedNotification{app.name, app.instance, static_cast<std::uint64_t>(app.pid)}));
  }
  return Status::ok();
}

void Init::stopApp(App& app, int signal, std::uint64_t grace_ms) {
  app.stopping = true;
  app.restart_at_ms = 0;
  if (app.pid > 0) {
    ::kill(-app.pid, signal);
    app.stop_deadline_ms = monotonicMs() + grace_ms;
  }
}

// Stops one instance, or with only `app` every instance of it; answered when all have exited.
void Init::onStopApp(std::uint64_t id, const StopAppRequest& request) {
  const std::string& name = request.app;
  const std::string& instance = request.instance;
  std::vector<std::string> matches;
  for (const auto& [key, app] : apps_) {
    if (instance.empty() ? (app.name == name || key == name) : key == instance) matches.push_back(key);
  }
  if (matches.empty()) {
    return channel_.send(makeErrorReply(id, "no app " + name + (instance.empty() ? "" : " instance " + instance)));
  }
  App* waiter = nullptr;
  for (const std::string& key : matches) {
    App& app = apps_[key];
    if (app.pid <= 0) {
      apps_.erase(key);
      continue;
    }
    stopApp(app, static_cast<int>(request.signal), request.grace_ms);
    waiter = &app;
  }
  if (waiter) {
    waiter->stop_waiters.push_back(id);
  } else {
    AppState stopped;
    stopped.app = name;
    stopped.state = "stopped";
    channel_.send(makeReply(id, stopped.encode()));
  }
}

void Init::onAppStatus(std::uint64_t id, const AppStatusRequest& request) {
  AppStatusReply reply;
  for (const auto& [name, app] : apps_) {
    if (request.app.empty() || request.app == name) reply.apps.push_back(appState(app));
  }
  channel_.send(makeReply(id, reply.encode()));
}

void Init::onLogs(std::uint64_t id, const LogsRequest& request) {
  const std::string& name = request.app;
  auto it = apps_.find(request.instance.empty() ? name : request.instance);
  App* app = it != apps_.end() ? &it->second : newestInstance(name);
  if (!app) return channel_.send(makeErrorReply(id, "no app " + name));
  for (const LogChunk& chunk : app->ring.since(request.since)) sendLog(*app, chunk);
  channel_.send(makeReply(id, LogsReply{app->ring.nextSeq()}.encode()));
}

void Init::onChildOutput(App& app, bool stderr_stream) {
  std::optional<std::string> data = readChunk(stderr_stream ? app.err : app.out);
  if (!data) return;
  sendLog(app, app.ring.append(wallMs(), stderr_stream, std::move(*data)));
}

void Init::sendLog(const App& app, const LogChunk& chunk) {
  channel_.send(toMessage(LogNotification{app.name, app.instance, chunk.stderr_stream ? "stderr" : "stdout", chunk.seq,
                                          chunk.ts_ms, chunk.data}));
}

void Init::reapChildren() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    bool was_probe = false;
    for (auto& [key, app] : apps_) {
      if (app.probe.pid != pid) continue;
      was_probe = true;
      std::string output;
      for (os::UniqueFd* fd : {&app.probe.err, &app.probe.out}) {
        char buffer[1024];
        const ssize_t n = *fd ? ::read(fd->get(), buffer, sizeof buffer) : 0;
        if (n > 0 && output.empty()) output.assign(buffer, static_cast<std::size_t>(n));
      }
      if (const auto end = output.find('\n'); end != std::string::npos) output.resize(end);
      const bool ok = sig == 0 && code == 0;
      if (!ok && app.probe.own_session) {
        output = "the check command " + std::string(sig != 0 ? "was killed by signal " + std::to_string(sig)
                                                               : "exited with " + std::to_string(code)) +
                 (output.empty() ? "" : ": " + output);
      }
      finishProbe(app, ok, output);
      break;
    }
    if (was_probe) continue;
    if (auto exec = execs_.find(pid); exec != execs_.end()) {
      exec->second.exited = true;
      exec->second.code = sig != 0 ? 128 + sig : code;
      exec->second.signal = sig;
      // Output still in the pipes is read by the poll loop; the reply follows EOF.
      finishExecIfDone(pid);
      continue;
    }
    for (auto it = apps_.begin(); it != apps_.end(); ++it) {
      App& app = it->second;
      if (app.pid != pid) continue;
      app.pid = -1;
      app.last_exit = sig != 0 ? 128 + sig : code;
      app.stop_deadline_ms = 0;
      std::fprintf(stderr, "berth-init: app %s exited (%s %d, instance %s)\n", app.name.c_str(),
                   sig != 0 ? "signal" : "code", sig != 0 ? sig : code, app.instance.c_str());
      AppExitedNotification exited{app.name, app.instance, static_cast<std::uint64_t>(pid), std::nullopt, std::nullopt};
      if (sig != 0) exited.signal = static_cast<std::uint64_t>(sig);
      else exited.code = code;
      channel_.send(toMessage(exited));
      if (app.health && !app.stopping) {
        const Health before = app.health->state();
        if (app.health->processExited(monotonicMs())) sendHealth(app, before);
      }
      if (app.stopping) {
        for (std::uint64_t waiter : app.stop_waiters) channel_.send(makeReply(waiter, appState(app).encode()));
        apps_.erase(it);
      } else if (app.restart == "never" || (app.restart == "on-failure" && sig == 0 && code == 0)) {
        app.restart_at_ms = 0;  // stays exited, as its policy says
      } else {
        // Ran long enough to count as healthy: start the backoff over.
        const std::uint64_t now = monotonicMs();
        if (now - app.started_ms > 10'000) app.backoff_ms = 0;
        app.backoff_ms = app.backoff_ms == 0 ? 1000 : std::min(app.backoff_ms * 2, kMaxBackoffMs);
        app.restart_at_ms = now + static_cast<std::uint64_t>(app.backoff_ms);
      }
      break;
    }
  }
}

void Init::runTimers() {
  const std::uint64_t now = monotonicMs();
  for (auto& [name, app] : apps_) {
    if (app.restart_at_ms > 0 && app.restart_at_ms <= now && !app.stopping) {
      ++app.restarts;
      Status started = startApp(app);
      if (!started.isOk()) {
        std::fprintf(stderr, "berth-init: restart of %s failed: %s\n", name.c_str(), started.toString().c_str());
        app.backoff_ms = std::min(std::max(app.backoff_ms, 1000) * 2, kMaxBackoffMs);
        app.restart_at_ms = now + static_cast<std::uint64_t>(app.backoff_ms);
      }
    }
    if (app.stop_deadline_ms > 0 && app.stop_deadline_ms <= now && app.pid > 0) {
      ::kill(-app.pid, SIGKILL);
      app.stop_deadline_ms = 0;
    }
    if (!app.health || app.stopping) continue;
    if (app.probe.pid > 0 && app.probe.deadline_ms <= now) {
      // Killed and forgotten: its exit is reaped as an unknown child.
      ::kill(app.probe.own_session ? -app.probe.pid : app.probe.pid, SIGKILL);
      finishProbe(app, false, "no answer within " + std::to_string(app.health->check().timeout_ms) + " ms");
    }
    if (app.probe.pid <= 0 && app.health->nextProbeMs() <= now) startProbe(app, now);
  }
  for (auto& [pid, exec] : execs_) {
    if (exec.deadline_ms > 0 && exec.deadline_ms <= now && !exec.exited) {
      exec.timed_out = true;
      exec.deadline_ms = 0;
      ::kill(-pid, SIGKILL);
    }
  }
}

void Init::beginShutdown(std::uint64_t grace_ms, std::uint64_t request_id) {
  if (request_id != 0) shutdown_request_ = request_id;
  if (shutting_down_) return;
  shutting_down_ = true;
  std::fprintf(stderr, "berth-init: shutting down (grace %llu ms)\n", static_cast<unsigned long long>(grace_ms));
  for (auto it = apps_.begin(); it != apps_.end();) {
    if (it->second.pid > 0) {
      stopApp(it->second, SIGTERM, grace_ms);
      ++it;
    } else {
      it = apps_.erase(it);
    }
  }
  for (auto& [pid, exec] : execs_) ::kill(-pid, SIGKILL);
}

}  // namespace berth::guest
