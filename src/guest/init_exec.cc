// berth-init: exec requests, run outside the app supervisor (in an app's namespaces when asked).
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "guest/child_output.h"
#include "guest/init.h"
#include "guest/time_ms.h"

namespace berth::guest {

void Init::onExec(std::uint64_t id, const ExecRequest& request) {
  ProcessSpec spec;
  spec.argv = request.argv;
  spec.env = envEntries(request.env);
  spec.with_stdin = true;
  spec.cwd = request.cwd.value_or("/");
  App* app = nullptr;
  if (request.instance) {
    auto it = apps_.find(*request.instance);
    if (it == apps_.end()) return channel_.send(makeErrorReply(id, "no instance " + *request.instance));
    app = &it->second;
  } else if (request.app) {
    app = newestInstance(*request.app);
  }
  if (app) {
    if (!request.cwd) spec.cwd = app->spec.cwd;
    if (app->spec.container) {
      if (app->pid <= 0) return channel_.send(makeErrorReply(id, "the app is not running"));
      spec.join_pid = app->pid;
    }
    // The app's environment, with the request's variables added or overriding.
    std::vector<std::string> env = app->spec.env;
    for (const std::string& extra : spec.env) {
      const std::string name = extra.substr(0, extra.find('=') + 1);
      std::erase_if(env, [&](const std::string& e) { return e.rfind(name, 0) == 0; });
      env.push_back(extra);
    }
    spec.env = std::move(env);
  }
  auto process = spawnProcess(spec);
  if (!process.isOk()) return channel_.send(makeErrorReply(id, process.status().message()));
  if (request.stdin_data) {
    const std::string& bytes = *request.stdin_data;
    // Small inputs only (a frame is at most 1 MiB); a pipe holds 64 KiB, so write from here
    // would block on more: the rest is dropped and documented as a limit of this first cut.
    (void)!::write(process->stdin_fd.get(), bytes.data(), std::min<std::size_t>(bytes.size(), 65536));
  }
  process->stdin_fd.reset();
  Exec& exec = execs_[process->pid];
  exec.request_id = id;
  exec.pid = process->pid;
  exec.out = std::move(process->stdout_fd);
  exec.err = std::move(process->stderr_fd);
  if (request.timeout_ms > 0) exec.deadline_ms = monotonicMs() + request.timeout_ms;
}

void Init::onCancelExec(std::uint64_t id, const CancelExecRequest& request) {
  const std::uint64_t request_id = request.exec;
  bool found = false;
  for (auto& [pid, exec] : execs_) {
    if (exec.request_id != request_id || exec.exited) continue;
    // Its own session (setsid at spawn): the whole process group goes. The exec's reply follows
    // as usual once it is reaped, with signal 9.
    ::kill(-pid, SIGKILL);
    found = true;
  }
  channel_.send(makeReply(id, CancelExecReply{found}.encode()));
}

void Init::onExecOutput(Exec& exec, bool stderr_stream) {
  const std::optional<std::string> data = readChunk(stderr_stream ? exec.err : exec.out);
  if (!data) return;
  channel_.send(toMessage(ExecOutputNotification{exec.request_id, stderr_stream ? "stderr" : "stdout", *data}));
}

void Init::finishExecIfDone(pid_t pid) {
  auto it = execs_.find(pid);
  if (it == execs_.end()) return;
  Exec& exec = it->second;
  if (!exec.exited || exec.out || exec.err) return;
  channel_.send(makeReply(exec.request_id, ExecReply{exec.code, exec.signal, exec.timed_out}.encode()));
  execs_.erase(it);
}

}  // namespace berth::guest
