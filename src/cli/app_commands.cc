#include <ostream>

#include "cli/app_flags.h"
#include "cli/app_view.h"
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

// The spec fields the user gave, as a create or PATCH body: berthd changes only the members a
// body names. Those the model can say are built typed; resources, health and secrets keep the
// request's own partial form (only the limits given, "none" to remove a check, secrets by name
// without a version), which a stored spec cannot say.
Result<nlohmann::json> specBody(const Options& o, const std::vector<std::string>& argv) {
  if (!o.cmd.empty() && !argv.empty()) return invalidArgument("give the command either with --cmd or after '--', not both");
  model::AppSpec spec;
  std::vector<std::string> given;
  auto give = [&given](const char* member, bool is_given) {
    if (is_given) given.push_back(member);
  };
  spec.command = o.cmd.empty() ? argv : splitCommand(o.cmd);
  give("command", !o.cmd.empty() || !argv.empty());
  spec.image = o.image;
  give("image", !o.image.empty());
  spec.kind = o.kind;
  give("kind", !o.kind.empty());
  spec.restart = o.restart;
  give("restart", !o.restart.empty());
  BERTH_ASSIGN_OR_RETURN(spec.env, parseEnvFlags(o.env));
  give("env", !o.env.empty());
  BERTH_ASSIGN_OR_RETURN(spec.ports, parsePortFlags(o.ports));
  give("ports", !o.ports.empty());
  spec.replicas = o.replicas.value_or(spec.replicas);
  give("replicas", o.replicas.has_value());
  if (!o.vm.empty()) spec.vm = o.vm;
  give("vm", !o.vm.empty());
  nlohmann::json body = specMembers(spec, given);
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
            {"NAME", "RELEASE", "STATE", "KIND", "REPLICAS", "PORTS", "COMMAND"}, appRow);
  apps.show({"Show an app's current release", "EXAMPLES:\n  berth app show site --project demo"}, writeApp);
  apps.remove({"Remove an app and its releases", "EXAMPLES:\n  berth app rm site --project demo"}, "delete", "Removed app ");

  ResourceCommands releases(&app, ctx, action, {"app", "App name", true, [](const ResourceArgs& args) {
                                                  return appPath(args) + "/releases";
                                                }});
  releases.list({"List an app's releases, newest first", "EXAMPLES:\n  berth releases site --project demo"},
                {"RELEASE", "CREATED", "BY", "STATE", "PORTS", "COMMAND"}, releaseRow, {.name = "releases", .alias = "", .of_object = true});

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
