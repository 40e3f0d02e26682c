// berth-init: running an instance's health check and telling the host when its health changes.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "guest/health_probe.h"
#include "guest/init.h"
#include "guest/time_ms.h"

namespace berth::guest {

// Network probes run in a forked child, so that a slow app never stalls this loop; the child
// writes its reason for a failure to a pipe read when it is reaped.
void Init::startProbe(App& app, std::uint64_t now) {
  const HealthCheck& check = app.health->check();
  app.probe = Probe{};
  app.probe.deadline_ms = now + check.timeout_ms;
  if (check.type == "exec") {
    if (app.pid <= 0) return finishProbe(app, false, "the app is not running");
    ProcessSpec spec;
    spec.argv = check.argv;
    spec.env = app.spec.env;
    spec.cwd = app.spec.cwd;
    if (app.spec.container) spec.join_pid = app.pid;
    auto process = spawnProcess(spec);
    if (!process.isOk()) return finishProbe(app, false, "cannot run the check: " + process.status().message());
    app.probe.pid = process->pid;
    app.probe.own_session = true;
    app.probe.out = std::move(process->stdout_fd);
    app.probe.err = std::move(process->stderr_fd);
    return;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return finishProbe(app, false, "pipe: " + std::string(std::strerror(errno)));
  os::UniqueFd read_end(fds[0]), write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid == 0) {
    Status result = check.type == "http" ? probeHttp(check.port, check.path, check.timeout_ms)
                                         : probeTcp(check.port, check.timeout_ms);
    if (!result.isOk()) (void)!::write(write_end.get(), result.message().data(), result.message().size());
    ::_exit(result.isOk() ? 0 : 1);
  }
  if (pid < 0) return finishProbe(app, false, "fork: " + std::string(std::strerror(errno)));
  app.probe.pid = pid;
  app.probe.err = std::move(read_end);
  // Probes before the first answer would fail anyway: the deadline includes the child's own.
  app.probe.deadline_ms += 1000;
}

void Init::finishProbe(App& app, bool ok, std::string detail) {
  app.probe = Probe{};
  const Health before = app.health->state();
  if (app.health->record(ok, detail, monotonicMs())) sendHealth(app, before);
}

void Init::sendHealth(const App& app, Health before) {
  std::fprintf(stderr, "berth-init: app %s is %s%s%s\n", app.instance.c_str(), healthName(app.health->state()),
               app.health->detail().empty() ? "" : ": ", app.health->detail().c_str());
  channel_.send(toMessage(AppHealthNotification{app.name, app.instance, healthName(app.health->state()),
                                                healthName(before), app.health->detail()}));
}

}  // namespace berth::guest
