// berth-init: exec requests, run outside the app supervisor (in an app's namespaces when asked).
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "guest/init.h"
#include "guest/init_util.h"

namespace berth::guest {

using namespace init_util;

void Init::onExec(const Message& message) {
  const json& body = message.body;
  ProcessSpec spec;
  spec.argv = body["argv"].get<std::vector<std::string>>();
  spec.env = envList(body);
  spec.with_stdin = true;
  spec.cwd = body.value("cwd", std::string("/"));
  App* app = nullptr;
  if (auto instance = body.find("instance"); instance != body.end()) {
    auto it = apps_.find(instance->get<std::string>());
    if (it == apps_.end()) return channel_.send(makeErrorReply(message.id, "no instance " + instance->get<std::string>()));
    app = &it->second;
  } else if (body.contains("app")) {
    app = newestInstance(body["app"].get<std::string>());
  }
  if (app) {
    if (!body.contains("cwd")) spec.cwd = app->spec.cwd;
    if (app->spec.container) {
      if (app->pid <= 0) return channel_.send(makeErrorReply(message.id, "the app is not running"));
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
  if (!process.isOk()) return channel_.send(makeErrorReply(message.id, process.status().message()));
  if (auto it = body.find("stdin"); it != body.end()) {
    const auto& bytes = it->get_binary();
    // Small inputs only (a frame is at most 1 MiB); a pipe holds 64 KiB, so write from here
    // would block on more: the rest is dropped and documented as a limit of this first cut.
    (void)!::write(process->stdin_fd.get(), bytes.data(), std::min<std::size_t>(bytes.size(), 65536));
  }
  process->stdin_fd.reset();
  Exec& exec = execs_[process->pid];
  exec.request_id = message.id;
  exec.pid = process->pid;
  exec.out = std::move(process->stdout_fd);
  exec.err = std::move(process->stderr_fd);
  if (auto timeout = body.value("timeout_ms", std::uint64_t{0}); timeout > 0) {
    exec.deadline_ms = monotonicMs() + timeout;
  }
}

void Init::onCancelExec(const Message& message) {
  const std::uint64_t request_id = message.body["exec"].get<std::uint64_t>();
  bool found = false;
  for (auto& [pid, exec] : execs_) {
    if (exec.request_id != request_id || exec.exited) continue;
    // Its own session (setsid at spawn): the whole process group goes. The exec's reply follows
    // as usual once it is reaped, with signal 9.
    ::kill(-pid, SIGKILL);
    found = true;
  }
  channel_.send(makeReply(message.id, {{"found", found}}));
}

void Init::onExecOutput(Exec& exec, bool stderr_stream) {
  const std::optional<std::string> data = readChunk(stderr_stream ? exec.err : exec.out);
  if (!data) return;
  Message output{"exec_output", 0, {{"exec", exec.request_id}, {"stream", stderr_stream ? "stderr" : "stdout"}}};
  output.body["data"] = json::binary(std::vector<std::uint8_t>(data->begin(), data->end()));
  channel_.send(output);
}

void Init::finishExecIfDone(pid_t pid) {
  auto it = execs_.find(pid);
  if (it == execs_.end()) return;
  Exec& exec = it->second;
  if (!exec.exited || exec.out || exec.err) return;
  channel_.send(makeReply(exec.request_id, {{"exit_code", exec.code}, {"signal", exec.signal},
                                            {"timed_out", exec.timed_out}}));
  execs_.erase(it);
}

}  // namespace berth::guest
