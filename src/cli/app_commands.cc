#include <ostream>

#include "cli/app_flags.h"
#include "cli/context.h"
#include "cli/resource_commands.h"

namespace berth::cli {

namespace {

struct Options {
  std::string project, name, cmd, image, vm, kind, restart;
  std::vector<std::string> env, ports, secrets, secret_files;
  std::optional<int64_t> replicas, to, memory_mib, cpu_millis, pids;
  HealthFlags health;
};

std::string appPath(const ResourceArgs& args) { return projectObjectPath("apps", args); }


std::string commandOf(const nlohmann::json& spec) {
  std::string out;
  for (const auto& a : spec["command"]) out += (out.empty() ? "" : " ") + str(a);
  if (out.empty()) out = str(spec["image"]);
  return out;
}

std::string portsOf(const nlohmann::json& spec) {
  std::string out;
  for (const auto& p : spec["ports"]) out += (out.empty() ? "" : ",") + str(p["port"]) + "/" + str(p["protocol"]);
  return out.empty() ? "-" : out;
}

std::string healthOf(const nlohmann::json& h) {
  std::string out = str(h["type"]);
  if (out == "http") out += " GET " + str(h["path"]);
  if (out == "exec") {
    out += ":";
    for (const auto& a : h["command"]) out += " " + str(a);
  }
  return out + " every " + str(h["interval_ms"]) + " ms, timeout " + str(h["timeout_ms"]) + " ms, grace " +
         str(h["grace_ms"]) + " ms, " + str(h["retries"]) + " retries";
}

// A release's fate: "running", "failed: why", "rollback of 3 (automatic)".
std::string outcomeOf(const nlohmann::json& r) {
  std::string out = str(r["state"]);
  if (r.contains("rollback_of")) {
    out += ", rollback of " + str(r["rollback_of"]) + (r.value("automatic", false) ? " (automatic)" : "");
  }
  return out;
}

// What the VM's agent reports: "running r3", "deploying r4", "failed r4", "pending".
std::string stateOf(const nlohmann::json& app) {
  const auto& status = app["status"];
  if (!status.is_object()) return "-";
  std::string out = str(status["state"]);
  if (status["release"].is_number_integer() && status["release"].get<int64_t>() > 0) {
    out += " r" + str(status["release"]);
  }
  return out;
}

Status writeApp(std::ostream& out, const nlohmann::json& a) {
  const auto& spec = a["spec"];
  out << "Name:      " << str(a["name"]) << "\n"
      << "Project:   " << str(a["project"]) << "\n"
      << "Release:   " << str(a["release"]) << "\n"
      << "State:     " << stateOf(a);
  if (a["status"].is_object() && !str(a["status"]["detail"]).empty() && str(a["status"]["detail"]) != "-") {
    out << " (" << str(a["status"]["detail"]) << ")";
  }
  out << "\n";
  for (const auto& i : a["status"].value("instances", nlohmann::json::array())) {
    out << "Instance:  VM " << str(i["vm"]) << ": " << str(i["state"]) << " r" << str(i["release"]);
    const std::string detail = str(i["detail"]);
    if (!detail.empty() && detail != "-") out << " (" << detail.substr(0, detail.find('\n')) << ")";
    out << "\n";
  }
  out << "Kind:      " << str(spec["kind"]) << "\n";
  if (!str(spec["image"]).empty()) out << "Image:     " << str(spec["image"]) << "\n";
  out << "Command:   " << commandOf(spec) << "\n"
      << "Ports:     " << portsOf(spec) << "\n"
      << "Replicas:  " << str(spec["replicas"]) << "\n"
      << "VM:        " << str(spec["vm"]) << "\n";
  for (const auto& [k, v] : spec["env"].items()) out << "Env:       " << k << "=" << str(v) << "\n";
  for (const auto& s : spec.value("secrets", nlohmann::json::array())) {
    out << "Secret:    " << str(s["name"]) << " v" << str(s["version"]) << " (" << str(s["as"]) << ")\n";
  }
  if (spec.contains("health")) out << "Health:    " << healthOf(spec["health"]) << "\n";
  return Status::ok();
}

// The spec fields the user gave, as a create or PATCH body.
Result<nlohmann::json> specBody(const Options& o, const std::vector<std::string>& argv) {
  nlohmann::json body = nlohmann::json::object();
  if (!o.cmd.empty() && !argv.empty()) return invalidArgument("give the command either with --cmd or after '--', not both");
  if (!o.cmd.empty()) body["command"] = splitCommand(o.cmd);
  if (!argv.empty()) body["command"] = argv;
  if (!o.image.empty()) body["image"] = o.image;
  if (!o.kind.empty()) body["kind"] = o.kind;
  if (!o.restart.empty()) body["restart"] = o.restart;
  if (!o.env.empty()) {
    BERTH_ASSIGN_OR_RETURN(body["env"], parseEnvFlags(o.env));
  }
  if (!o.ports.empty()) {
    BERTH_ASSIGN_OR_RETURN(body["ports"], parsePortFlags(o.ports));
  }
  if (o.replicas) body["replicas"] = *o.replicas;
  if (!o.vm.empty()) body["vm"] = o.vm;
  if (o.memory_mib || o.cpu_millis || o.pids) {
    body["resources"] = nlohmann::json::object();
    if (o.memory_mib) body["resources"]["memory_mib"] = *o.memory_mib;
    if (o.cpu_millis) body["resources"]["cpu_millis"] = *o.cpu_millis;
    if (o.pids) body["resources"]["pids"] = *o.pids;
  }
  BERTH_ASSIGN_OR_RETURN(auto health, healthBody(o.health));
  if (health) body["health"] = *health;
  if (!o.secrets.empty() || !o.secret_files.empty()) {
    body["secrets"] = nlohmann::json::array();
    for (const auto& s : o.secrets) body["secrets"].push_back(s);
    for (const auto& s : o.secret_files) body["secrets"].push_back({{"name", s}, {"as", "file"}});
  }
  return body;
}

void addSpecFlags(CLI::App* cmd, Options& o) {
  cmd->add_option("--cmd", o.cmd, "The command as one string, split on spaces (or give it after '--')");
  cmd->add_option("--image", o.image, "An image imported with `berth image import` (its sha256: digest)");
  cmd->add_option("--kind", o.kind, "process (runs in the VM) or container (its image, in its own namespaces)")
      ->check(CLI::IsMember({"process", "container"}));
  cmd->add_option("-e,--env", o.env, "KEY=VALUE environment variable (repeatable)");
  cmd->add_option("--port", o.ports, "Port the app listens on: 8080 or 53/udp (repeatable)");
  cmd->add_option("--replicas", o.replicas, "Instances to run");
  cmd->add_option("--vm", o.vm, "Pin to this VM of the project");
  cmd->add_option("--restart", o.restart, "After an exit: always (default), on-failure or never")
      ->check(CLI::IsMember({"always", "on-failure", "never"}));
  cmd->add_option("--memory-mib", o.memory_mib, "Container: memory limit; past it the app is OOM-killed and restarted");
  cmd->add_option("--cpu-millis", o.cpu_millis, "Container: CPU limit, 1000 = one vCPU");
  cmd->add_option("--pids", o.pids, "Container: process limit");
  cmd->add_option("--secret", o.secrets, "A project secret the app sees as an env variable of that name (repeatable)");
  cmd->add_option("--secret-file", o.secret_files,
                  "A project secret the app reads from /run/secrets/<app>/<NAME> (repeatable)");
  addHealthFlags(cmd, o.health);
}

}  // namespace

void addAppCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* group = app.add_subcommand("app", "Create, list, show, change and remove apps");
  group->require_subcommand(1);
  auto o = std::make_shared<Options>();

  auto* create = group->add_subcommand("create", "Create an app (its release 1)");
  create->add_option("name", o->name, "App name (a DNS label)")->required();
  addProjectOption(create, o->project);
  addSpecFlags(create, *o);
  create->footer("EXAMPLES:\n  berth app create site --project demo --port 8080 --cmd \"busybox httpd -f -p 8080\"\n"
                 "  berth app create api --project demo -e MODE=prod --port 8080 -- /srv/api --listen :8080\n"
                 "  berth app create web --project demo --kind container --image sha256:<digest from berth image import>");
  create->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(nlohmann::json body, specBody(*o, ctx.trailing_args));
      body["name"] = o->name;
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->post(appPath({.project = o->project}), body));
      return printDetails(ctx, r.body, writeApp);
    };
  });

  auto* set = group->add_subcommand("set", "Change an app: makes a new release");
  set->add_option("name", o->name, "App name")->required();
  addProjectOption(set, o->project);
  addSpecFlags(set, *o);
  set->footer("EXAMPLES:\n  berth app set site --project demo -e MODE=v2\n  berth app set site --project demo --replicas 3");
  set->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(nlohmann::json body, specBody(*o, ctx.trailing_args));
      if (body.empty()) return invalidArgument("nothing to change; give a command, --image, --env, --port, --replicas, --vm, --secret or a limit");
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->patch(appPath({o->project, o->name}), body));
      return printDetails(ctx, r.body, writeApp);
    };
  });

  ResourceCommands apps(group, ctx, action, {"name", "App name", true, appPath});
  apps.list({"List a project's apps", "EXAMPLES:\n  berth app ls --project demo"},
            {"NAME", "RELEASE", "STATE", "KIND", "REPLICAS", "PORTS", "COMMAND"}, [](const nlohmann::json& a) -> Result<Row> {
              return Row{str(a["name"]), str(a["release"]), stateOf(a), str(a["spec"]["kind"]),
                         str(a["spec"]["replicas"]), portsOf(a["spec"]), commandOf(a["spec"])};
            });
  apps.show({"Show an app's current release", "EXAMPLES:\n  berth app show site --project demo"}, writeApp);
  apps.remove({"Remove an app and its releases", "EXAMPLES:\n  berth app rm site --project demo"}, "delete", "Removed app ");

  ResourceCommands releases(&app, ctx, action, {"app", "App name", true, [](const ResourceArgs& args) {
                                                  return appPath(args) + "/releases";
                                                }});
  releases.list({"List an app's releases, newest first", "EXAMPLES:\n  berth releases site --project demo"},
                {"RELEASE", "CREATED", "BY", "STATE", "PORTS", "COMMAND"},
                [](const nlohmann::json& r) -> Result<Row> {
                  return Row{str(r["number"]), shortTime(r["created_at"]), str(r["created_by"]),
                             outcomeOf(r),     portsOf(r["spec"]),         commandOf(r["spec"])};
                },
                {.name = "releases", .alias = "", .of_object = true});

  auto* rollback = app.add_subcommand("rollback", "Make an earlier release current again (as a new release)");
  rollback->add_option("app", o->name, "App name")->required();
  addProjectOption(rollback, o->project);
  rollback->add_option("--to", o->to, "Release number (default: the one before the current)");
  rollback->footer("EXAMPLES:\n  berth rollback site --project demo\n  berth rollback site --project demo --to 3");
  rollback->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      nlohmann::json body = nlohmann::json::object();
      if (o->to) body["to"] = *o->to;
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->post(appPath({o->project, o->name}) + "/rollback", body));
      ctx.print(r.body, [&] {
        ctx.out() << "App " << o->name << " is now at release " << str(r.body["release"]) << "\n";
      });
      return Status::ok();
    };
  });
}

}  // namespace berth::cli
