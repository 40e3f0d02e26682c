#include <ostream>

#include "cli/context.h"
#include "cli/resource_commands.h"

namespace berth::cli {

namespace {

Status writeVm(std::ostream& out, const nlohmann::json& vm) {
  out << "Name:     " << str(vm["name"]) << "\n"
      << "Project:  " << str(vm["project"]) << "\n"
      << "vCPUs:    " << str(vm["vcpus"]) << "\n"
      << "Memory:   " << str(vm["memory_mib"]) << " MiB\n"
      << "Disk:     " << str(vm["disk_gib"]) << " GiB\n"
      << "Machine:  " << str(vm["runtime"]) << "/" << str(vm["machine"]) << "\n"
      << "Node:     " << str(vm["node"]) << "\n"
      << "Address:  " << str(vm["address"]) << " (" << str(vm["name"]) << "." << str(vm["project"]) << ".internal)\n"
      << "Power:    " << str(vm["power"]) << " (desired)\n"
      << "State:    " << str(vm["state"]);
  if (vm["state_detail"].is_string() && !vm["state_detail"].get<std::string>().empty()) {
    out << " (" << str(vm["state_detail"]) << ")";
  }
  out << "\nVersion:  " << str(vm["version"]) << "\n";
  return Status::ok();
}

std::string vmPath(const ResourceArgs& args) { return projectObjectPath("vms", args); }

}  // namespace

void addVmCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* vm = app.add_subcommand("vm", "Create, list, show, power and remove virtual machines");
  vm->require_subcommand(1);
  struct Options {
    std::string project, name, machine;
    std::optional<int64_t> vcpus, memory_mib, disk_gib;
    bool stopped = false;
  };
  auto o = std::make_shared<Options>();

  auto* create = vm->add_subcommand("create", "Create a VM in a project");
  create->add_option("name", o->name, "VM name (a DNS label)")->required();
  addProjectOption(create, o->project);
  create->add_option("--vcpus", o->vcpus, "vCPUs (default 1)");
  create->add_option("--memory-mib", o->memory_mib, "Memory in MiB (default 512)");
  create->add_option("--disk-gib", o->disk_gib, "Scratch disk in GiB (default 2)");
  create->add_option("--machine", o->machine, "microvm (default) or q35")->check(CLI::IsMember({"microvm", "q35"}));
  create->add_flag("--stopped", o->stopped, "Create it powered off");
  create->footer("EXAMPLES:\n  berth vm create web --project demo\n  berth vm create db --project demo --vcpus 2 --memory-mib 2048 --disk-gib 20");
  create->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      nlohmann::json body = {{"name", o->name}};
      if (o->vcpus) body["vcpus"] = *o->vcpus;
      if (o->memory_mib) body["memory_mib"] = *o->memory_mib;
      if (o->disk_gib) body["disk_gib"] = *o->disk_gib;
      if (!o->machine.empty()) body["machine"] = o->machine;
      if (o->stopped) body["power"] = "stopped";
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->post(vmPath({.project = o->project}), body));
      return printDetails(ctx, r.body, writeVm);
    };
  });

  ResourceCommands vms(vm, ctx, action, {"name", "VM name", true, vmPath});
  vms.list({"List a project's VMs", "EXAMPLES:\n  berth vm ls --project demo"},
           {"NAME", "VCPUS", "MEMORY_MIB", "DISK_GIB", "MACHINE", "POWER", "STATE", "NODE", "ADDRESS"},
           [](const nlohmann::json& v) -> Result<Row> {
             return Row{str(v["name"]),    str(v["vcpus"]), str(v["memory_mib"]), str(v["disk_gib"]),
                        str(v["machine"]), str(v["power"]), str(v["state"]),      str(v["node"]),
                        str(v["address"])};
           });
  vms.show({"Show a VM", "EXAMPLES:\n  berth vm show web --project demo"}, writeVm);

  for (const char* verb : {"start", "stop", "restart"}) {
    auto* power = vm->add_subcommand(verb, std::string("Ask for a VM to ") + verb + " (returns at once; watch with 'berth vm show')");
    power->add_option("name", o->name, "VM name")->required();
    addProjectOption(power, o->project);
    power->footer(std::string("EXAMPLES:\n  berth vm ") + verb + " web --project demo");
    std::string action_name = verb;
    power->callback([&, o, action_name] {
      action = [&, o, action_name]() -> Status {
        BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
        BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->post(vmPath({o->project, o->name}) + "/" + action_name, nlohmann::json::object()));
        ctx.print(r.body, [&] {
          ctx.out() << "VM " << o->name << ": power " << str(r.body["power"]) << " requested (state " << str(r.body["state"])
                    << ")\n";
        });
        return Status::ok();
      };
    });
  }

  vms.remove({"Remove a VM", "EXAMPLES:\n  berth vm rm web --project demo"}, "delete", "Removed VM ");
}

}  // namespace berth::cli
