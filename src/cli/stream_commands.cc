// berth logs, berth exec, berth vm console: commands whose answer is a stream of output frames
// (server-sent events) relayed from the VM's node.

#include <algorithm>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

#include "cli/context.h"
#include "common/base64.h"

namespace berth::cli {

namespace {

constexpr std::size_t kMaxExecStdin = 64 << 10;

std::string appPath(const std::string& project, const std::string& app) {
  return "/v1/projects/" + client::urlEncode(project) + "/apps/" + client::urlEncode(app);
}

// Prefixes each line with its timestamp when asked; remembers per stream whether the next
// byte starts a line.
class LinePrinter {
 public:
  explicit LinePrinter(bool timestamps) : timestamps_(timestamps) {}
  void print(std::ostream& os, bool& at_line_start, const std::string& ts, const std::string& data) {
    if (!timestamps_) {
      os << data;
    } else {
      for (char c : data) {
        if (at_line_start) os << shortTime(ts) << "  ";
        os << c;
        at_line_start = c == '\n';
      }
    }
    os.flush();
  }

 private:
  bool timestamps_;
};

// Runs one output stream; an `error` event ends it with that error.
Status runStream(Context& ctx, const client::StreamRequest& request,
                 const std::function<Status(const nlohmann::json& frame, const std::string& event)>& on_frame) {
  BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
  Status failure;
  Status s = client->stream(request, [&](const client::SseEvent& event) {
    auto frame = nlohmann::json::parse(event.data, nullptr, false);
    if (!frame.is_object()) {
      failure = internalError("berthd sent a stream frame that is not a JSON object");
      return false;
    }
    if (event.event == "error") {
      failure = Status(StatusCode::kFailedPrecondition,
                       frame["error"].is_object() ? frame["error"].value("message", "the stream failed")
                                                  : "the stream failed");
      return false;
    }
    failure = on_frame(frame, event.event);
    return failure.isOk();
  });
  BERTH_RETURN_IF_ERROR(s);
  return failure;
}

std::string logsPath(const std::string& project, const std::string& app, bool follow, int tail,
                     const std::string& instance) {
  return appPath(project, app) + "/logs?tail=" + std::to_string(tail) + (follow ? "&follow=1" : "") +
         (instance.empty() ? "" : "&instance=" + client::urlEncode(instance));
}

// Output of several instances, each line prefixed with its VM: whole lines only, so that two
// instances never mix within one line (a partial line waits for its end, or the stream's).
class MergedPrinter {
 public:
  MergedPrinter(Context& ctx, bool timestamps) : ctx_(ctx), timestamps_(timestamps) {}
  void add(const std::string& vm, const nlohmann::json& frame) {
    std::lock_guard lock(mu_);
    if (ctx_.json) {
      nlohmann::json tagged = frame;
      tagged["vm"] = vm;
      ctx_.out() << tagged.dump() << "\n" << std::flush;
      return;
    }
    const bool is_err = frame.value("stream", "") == "stderr";
    std::string& partial = partial_[{vm, is_err}];
    partial += frame.value("data", "");
    std::size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      emit(vm, is_err, frame.value("ts", ""), partial.substr(0, nl + 1));
      partial.erase(0, nl + 1);
    }
  }
  void flush() {
    std::lock_guard lock(mu_);
    for (auto& [key, rest] : partial_) {
      if (!rest.empty()) emit(key.first, key.second, "", rest + "\n");
      rest.clear();
    }
  }

 private:
  void emit(const std::string& vm, bool is_err, const std::string& ts, const std::string& line) {
    std::ostream& os = is_err ? ctx_.err() : ctx_.out();
    os << vm << " | " << (timestamps_ && !ts.empty() ? shortTime(ts) + "  " : "") << line << std::flush;
  }

  Context& ctx_;
  bool timestamps_;
  std::mutex mu_;
  std::map<std::pair<std::string, bool>, std::string> partial_;
};

// An app with several instances: one stream per VM, merged. Without --follow the past of each
// is collected first and printed in time order.
Status mergedLogs(Context& ctx, const std::string& project, const std::string& app, bool follow, int tail,
                  bool timestamps, const std::vector<std::string>& vms) {
  MergedPrinter printer(ctx, timestamps);
  std::mutex mu;
  std::vector<std::pair<std::string, nlohmann::json>> past;
  std::vector<Status> results(vms.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < vms.size(); ++i) {
    threads.emplace_back([&, i] {
      client::StreamRequest request;
      request.path = logsPath(project, app, follow, tail, vms[i]);
      results[i] = runStream(ctx, request, [&](const nlohmann::json& frame, const std::string&) {
        if (follow) {
          printer.add(vms[i], frame);
        } else {
          std::lock_guard lock(mu);
          past.emplace_back(vms[i], frame);
        }
        return Status::ok();
      });
    });
  }
  for (auto& t : threads) t.join();
  std::stable_sort(past.begin(), past.end(), [](const auto& a, const auto& b) {
    return a.second.value("ts", "") < b.second.value("ts", "");
  });
  for (const auto& [vm, frame] : past) printer.add(vm, frame);
  printer.flush();
  for (std::size_t i = 0; i < vms.size(); ++i) {
    if (!results[i].isOk()) return results[i].withContext("the instance in VM '" + vms[i] + "'");
  }
  return Status::ok();
}

Status logs(Context& ctx, const std::string& project, const std::string& app, bool follow, int tail,
            bool timestamps, const std::string& instance) {
  if (instance.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
    BERTH_ASSIGN_OR_RETURN(client::ApiResponse shown, client->get(appPath(project, app)));
    std::vector<std::string> vms;
    const nlohmann::json status = shown.body.value("status", nlohmann::json::object());
    for (const auto& i : status.value("instances", nlohmann::json::array())) vms.push_back(i.value("vm", ""));
    if (vms.size() > 1) return mergedLogs(ctx, project, app, follow, tail, timestamps, vms);
  }
  client::StreamRequest request;
  request.path = logsPath(project, app, follow, tail, instance);
  LinePrinter printer(timestamps);
  bool out_at_start = true, err_at_start = true;
  return runStream(ctx, request, [&](const nlohmann::json& frame, const std::string&) {
    if (ctx.json) {
      ctx.out() << frame.dump() << "\n" << std::flush;
      return Status::ok();
    }
    const bool is_err = frame.value("stream", "") == "stderr";
    printer.print(is_err ? ctx.err() : ctx.out(), is_err ? err_at_start : out_at_start, frame.value("ts", ""),
                  frame.value("data", ""));
    return Status::ok();
  });
}

Status exec(Context& ctx, const std::string& project, const std::string& app, bool send_stdin,
            std::optional<int> timeout, const std::string& instance) {
  if (ctx.trailing_args.empty()) {
    return invalidArgument("name the command to run after '--', e.g. berth exec " + app + " -- ls /");
  }
  nlohmann::json body = {{"command", ctx.trailing_args}};
  if (send_stdin) {
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (input.size() > kMaxExecStdin) {
      return invalidArgument("standard input is " + std::to_string(input.size()) + " bytes; exec takes at most 64 KiB");
    }
    body["stdin"] = base64Encode(input);
  }
  if (timeout) body["timeout_seconds"] = *timeout;
  if (!instance.empty()) body["instance"] = instance;
  client::StreamRequest request{"POST", appPath(project, app) + "/exec", body, ""};
  bool exited = false;
  BERTH_RETURN_IF_ERROR(runStream(ctx, request, [&](const nlohmann::json& frame, const std::string& event) {
    if (event == "exit") {
      exited = true;
      ctx.exit_code = frame.value("exit_code", 1);
      if (frame.value("timed_out", false)) {
        ctx.err() << "berth: the command was killed after its timeout of " << timeout.value_or(0) << " s\n";
      }
      return Status::ok();
    }
    BERTH_ASSIGN_OR_RETURN(std::string bytes, base64Decode(frame.value("data", ""), "exec output"));
    std::ostream& os = frame.value("stream", "") == "stderr" ? ctx.err() : ctx.out();
    os << bytes << std::flush;
    return Status::ok();
  }));
  if (!exited) return unavailable("the exec stream ended before the command's exit status arrived");
  return Status::ok();
}

Status console(Context& ctx, const std::string& project, const std::string& vm, bool follow, int tail) {
  client::StreamRequest request;
  request.path = "/v1/projects/" + client::urlEncode(project) + "/vms/" + client::urlEncode(vm) + "/console?tail=" +
                 std::to_string(tail) + (follow ? "&follow=1" : "");
  return runStream(ctx, request, [&](const nlohmann::json& frame, const std::string&) {
    if (ctx.json) {
      ctx.out() << frame.dump() << "\n";
    } else {
      ctx.out() << frame.value("data", "");
    }
    ctx.out().flush();
    return Status::ok();
  });
}

}  // namespace

void addStreamCommands(CLI::App& app, Context& ctx, Action& action) {
  struct Options {
    std::string project, name, instance;
    bool follow = false, timestamps = false, send_stdin = false;
    int tail = 200;
    std::optional<int> timeout;
  };
  auto o = std::make_shared<Options>();

  auto* logs_cmd = app.add_subcommand("logs", "Show an app's output (stdout and stderr), kept on its VM's node");
  logs_cmd->add_option("app", o->name, "App name")->required();
  addProjectOption(logs_cmd, o->project);
  logs_cmd->add_flag("-f,--follow", o->follow, "Keep streaming new output (Ctrl-C stops)");
  logs_cmd->add_option("-n,--tail", o->tail, "Lines of past output to show first (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  logs_cmd->add_flag("-t,--timestamps", o->timestamps, "Prefix each line with the time the node received it");
  logs_cmd->add_option("--instance", o->instance,
                       "Only the instance in this VM (default: every instance, each line prefixed with its VM)");
  logs_cmd->footer("EXAMPLES:\n  berth logs site --project demo\n  berth logs site --project demo -f --tail 0\n"
                   "  berth logs site --project demo --instance site-2\n"
                   "  berth logs site --project demo --json   # one JSON frame per line");
  logs_cmd->callback([&, o] {
    action = [&, o] { return logs(ctx, o->project, o->name, o->follow, o->tail, o->timestamps, o->instance); };
  });

  auto* exec_cmd = app.add_subcommand(
      "exec", "Run a command inside an app's VM, in the app's environment; exits with the command's status");
  exec_cmd->add_option("app", o->name, "App name")->required();
  addProjectOption(exec_cmd, o->project);
  exec_cmd->add_flag("-i,--stdin", o->send_stdin, "Send standard input (up to 64 KiB) to the command");
  exec_cmd->add_option("--timeout", o->timeout, "Kill the command after this many seconds")
      ->check(CLI::Range(1, 86400));
  exec_cmd->add_option("--instance", o->instance, "Run in the app's instance in this VM (default: the first running)");
  exec_cmd->footer("The command follows '--'. Its stdout and stderr are printed as they come; berth exits with\n"
                   "its exit status (128 + signal if it was killed).\n"
                   "EXAMPLES:\n  berth exec site --project demo -- ls -l /\n"
                   "  echo hello | berth exec site --project demo -i -- cat\n"
                   "  berth exec site --project demo --timeout 10 -- sh -c 'ps; df -h'");
  exec_cmd->callback([&, o] {
    action = [&, o] { return exec(ctx, o->project, o->name, o->send_stdin, o->timeout, o->instance); };
  });

  CLI::App* vm = app.get_subcommand("vm");
  auto* console_cmd = vm->add_subcommand("console", "Show a VM's serial console (kernel and berth-init messages)");
  console_cmd->add_option("name", o->name, "VM name")->required();
  addProjectOption(console_cmd, o->project);
  console_cmd->add_flag("-f,--follow", o->follow, "Keep streaming new console output (Ctrl-C stops)");
  console_cmd->add_option("-n,--tail", o->tail, "Lines of past output to show first (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  console_cmd->footer("EXAMPLES:\n  berth vm console default --project demo\n  berth vm console default --project demo -f");
  console_cmd->callback([&, o] {
    action = [&, o] { return console(ctx, o->project, o->name, o->follow, o->tail); };
  });
}

}  // namespace berth::cli
