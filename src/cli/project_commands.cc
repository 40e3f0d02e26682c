#include <ostream>

#include "cli/context.h"
#include "cli/table.h"

namespace berth::cli {

namespace {

std::string usageOf(const nlohmann::json& p, const char* key) {
  return str(p["usage"][key]) + "/" + str(p["quotas"][key]);
}

void printProject(Context& ctx, const nlohmann::json& p) {
  ctx.print(p, [&] {
    ctx.out() << "Name:     " << str(p["name"]) << "\n"
              << "vCPUs:    " << usageOf(p, "vcpus") << "\n"
              << "Memory:   " << usageOf(p, "memory_mib") << " MiB\n"
              << "Disk:     " << usageOf(p, "disk_gib") << " GiB\n"
              << "VMs:      " << usageOf(p, "vms") << "\n"
              << "Version:  " << str(p["version"]) << "\n"
              << "Created:  " << shortTime(p["created_at"]) << "\n";
  });
}

struct QuotaFlags {
  std::optional<int64_t> vcpus, memory_mib, disk_gib, vms;
  nlohmann::json json() const {
    nlohmann::json q = nlohmann::json::object();
    if (vcpus) q["vcpus"] = *vcpus;
    if (memory_mib) q["memory_mib"] = *memory_mib;
    if (disk_gib) q["disk_gib"] = *disk_gib;
    if (vms) q["vms"] = *vms;
    return q;
  }
};

void addQuotaFlags(CLI::App* cmd, QuotaFlags& q) {
  cmd->add_option("--vcpus", q.vcpus, "vCPU quota");
  cmd->add_option("--memory-mib", q.memory_mib, "Memory quota in MiB");
  cmd->add_option("--disk-gib", q.disk_gib, "Disk quota in GiB");
  cmd->add_option("--vms", q.vms, "Number of VMs allowed");
}

}  // namespace

void addProjectCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* project = app.add_subcommand("project", "Create, list, show, change and remove projects");
  project->require_subcommand(1);
  struct Options {
    std::string name;
    QuotaFlags quotas;
  };
  auto o = std::make_shared<Options>();

  auto* create = project->add_subcommand("create", "Create a project (admin)");
  create->add_option("name", o->name, "Project o->name (a DNS label)")->required();
  addQuotaFlags(create, o->quotas);
  create->footer("EXAMPLES:\n  berth project create demo\n  berth project create big --vcpus 64 --memory-mib 131072");
  create->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      nlohmann::json body = {{"name", o->name}};
      if (!o->quotas.json().empty()) body["quotas"] = o->quotas.json();
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->post("/v1/projects", body));
      printProject(ctx, r.body);
      return Status::ok();
    };
  });

  auto* set = project->add_subcommand("set", "Change a project's quotas (admin)");
  set->add_option("name", o->name, "Project name")->required();
  addQuotaFlags(set, o->quotas);
  set->footer("EXAMPLES:\n  berth project set demo --vms 20");
  set->callback([&, o] {
    action = [&, o]() -> Status {
      if (o->quotas.json().empty()) return invalidArgument("nothing to change; give at least one of --vcpus, --memory-mib, --disk-gib, --vms");
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->patch("/v1/projects/" + client::urlEncode(o->name), {{"quotas", o->quotas.json()}}));
      printProject(ctx, r.body);
      return Status::ok();
    };
  });

  auto* ls = project->add_subcommand("ls", "List projects");
  ls->alias("list");
  ls->footer("EXAMPLES:\n  berth project ls\n  berth project ls --json");
  ls->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(nlohmann::json all, listAll(*client, "/v1/projects"));
      ctx.print(all, [&] {
        Table t({"NAME", "VCPUS", "MEMORY_MIB", "DISK_GIB", "VMS", "CREATED"});
        for (const auto& p : all["items"]) {
          t.addRow({str(p["name"]), usageOf(p, "vcpus"), usageOf(p, "memory_mib"), usageOf(p, "disk_gib"),
                    usageOf(p, "vms"), shortTime(p["created_at"])});
        }
        ctx.out() << t.render();
      });
      return Status::ok();
    };
  });

  auto* show = project->add_subcommand("show", "Show a project with its usage and quotas");
  show->add_option("name", o->name, "Project name")->required();
  show->footer("EXAMPLES:\n  berth project show demo");
  show->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->get("/v1/projects/" + client::urlEncode(o->name)));
      printProject(ctx, r.body);
      return Status::ok();
    };
  });

  auto* rm = project->add_subcommand("rm", "Remove an empty project (admin)");
  rm->alias("delete");
  rm->add_option("name", o->name, "Project name")->required();
  rm->footer("EXAMPLES:\n  berth project rm demo");
  rm->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_RETURN_IF_ERROR(client->del("/v1/projects/" + client::urlEncode(o->name)).status());
      if (!ctx.json) ctx.out() << "Removed project " << o->name << "\n";
      return Status::ok();
    };
  });
}

}  // namespace berth::cli
