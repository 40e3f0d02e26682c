#include <ostream>

#include "cli/context.h"
#include "cli/resource_commands.h"

namespace berth::cli {

namespace {

std::string usageOf(const nlohmann::json& p, const char* key) {
  return str(p["usage"][key]) + "/" + str(p["quotas"][key]);
}

Status writeProject(std::ostream& out, const nlohmann::json& p) {
  out << "Name:     " << str(p["name"]) << "\n"
      << "vCPUs:    " << usageOf(p, "vcpus") << "\n"
      << "Memory:   " << usageOf(p, "memory_mib") << " MiB\n"
      << "Disk:     " << usageOf(p, "disk_gib") << " GiB\n"
      << "VMs:      " << usageOf(p, "vms") << "\n"
      << "Network:  " << str(p["network"]["subnet"]) << " (gateway " << str(p["network"]["gateway"]) << ")\n"
      << "Egress:   " << str(p["network"]["egress"]) << "\n"
      << "Version:  " << str(p["version"]) << "\n"
      << "Created:  " << shortTime(p["created_at"]) << "\n";
  return Status::ok();
}

std::string projectPath(const ResourceArgs& args) { return objectPath("/v1/projects", args); }

// What `project create` and `project set` may set besides the name.
struct ProjectFlags {
  std::optional<int64_t> vcpus, memory_mib, disk_gib, vms;
  std::string egress;
  nlohmann::json quotas() const {
    nlohmann::json q = nlohmann::json::object();
    if (vcpus) q["vcpus"] = *vcpus;
    if (memory_mib) q["memory_mib"] = *memory_mib;
    if (disk_gib) q["disk_gib"] = *disk_gib;
    if (vms) q["vms"] = *vms;
    return q;
  }
  // The body's settings: only those given.
  nlohmann::json json() const {
    nlohmann::json body = nlohmann::json::object();
    if (!quotas().empty()) body["quotas"] = quotas();
    if (!egress.empty()) body["egress"] = egress;
    return body;
  }
};

void addProjectFlags(CLI::App* cmd, ProjectFlags& f) {
  cmd->add_option("--vcpus", f.vcpus, "vCPU quota");
  cmd->add_option("--memory-mib", f.memory_mib, "Memory quota in MiB");
  cmd->add_option("--disk-gib", f.disk_gib, "Disk quota in GiB");
  cmd->add_option("--vms", f.vms, "Number of VMs allowed");
  cmd->add_option("--egress", f.egress, "Whether the project's VMs may reach outside its network: allow or deny")
      ->check(CLI::IsMember({"allow", "deny"}));
}

}  // namespace

void addProjectCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* project = app.add_subcommand("project", "Create, list, show, change and remove projects");
  project->require_subcommand(1);
  struct Options {
    std::string name;
    ProjectFlags flags;
  };
  auto o = std::make_shared<Options>();

  auto* create = project->add_subcommand("create", "Create a project (admin)");
  create->add_option("name", o->name, "Project name (a DNS label)")->required();
  addProjectFlags(create, o->flags);
  create->footer(
      "EXAMPLES:\n  berth project create demo\n  berth project create big --vcpus 64 --memory-mib 131072\n"
      "  berth project create sealed --egress deny");
  create->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      nlohmann::json body = o->flags.json();
      body["name"] = o->name;
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->post(projectPath({}), body));
      return printDetails(ctx, r.body, writeProject);
    };
  });

  auto* set = project->add_subcommand("set", "Change a project's quotas or egress (admin)");
  set->add_option("name", o->name, "Project name")->required();
  addProjectFlags(set, o->flags);
  set->footer("EXAMPLES:\n  berth project set demo --vms 20\n  berth project set demo --egress deny");
  set->callback([&, o] {
    action = [&, o]() -> Status {
      if (o->flags.json().empty()) {
        return invalidArgument("nothing to change; give at least one of --vcpus, --memory-mib, --disk-gib, --vms, --egress");
      }
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->patch(projectPath({.name = o->name}), o->flags.json()));
      return printDetails(ctx, r.body, writeProject);
    };
  });

  ResourceCommands projects(project, ctx, action, {"name", "Project name", false, projectPath});
  projects.list({"List projects", "EXAMPLES:\n  berth project ls\n  berth project ls --json"},
                {"NAME", "VCPUS", "MEMORY_MIB", "DISK_GIB", "VMS", "CREATED"}, [](const nlohmann::json& p) -> Result<Row> {
                  return Row{str(p["name"]),          usageOf(p, "vcpus"), usageOf(p, "memory_mib"),
                             usageOf(p, "disk_gib"), usageOf(p, "vms"),   shortTime(p["created_at"])};
                });
  projects.show({"Show a project with its usage, quotas and network", "EXAMPLES:\n  berth project show demo"}, writeProject);
  projects.remove({"Remove an empty project (admin)", "EXAMPLES:\n  berth project rm demo"}, "delete", "Removed project ");
}

}  // namespace berth::cli
