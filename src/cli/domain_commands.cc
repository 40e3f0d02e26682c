#include <ostream>

#include "cli/context.h"
#include "cli/resource_commands.h"

namespace berth::cli {

namespace {
std::string domainPath(const ResourceArgs& args) { return projectObjectPath("domains", args); }

// The nodes' ingress CAs are bytes to save as they come, not JSON.
constexpr std::uint64_t kMaxCaBytes = 1 << 20;
}  // namespace

void addDomainCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* domain = app.add_subcommand(
      "domain", "Route host names to a project's apps through the nodes' HTTPS ingress");
  domain->require_subcommand(1);
  struct Options {
    std::string project, name, app;
  };
  auto o = std::make_shared<Options>();

  auto* add = domain->add_subcommand(
      "add", "Route a host name to an app (point its DNS record at the nodes)");
  add->add_option("name", o->name, "Host name, such as shop.example.com")->required();
  add->add_option("--app", o->app, "The app it routes to")->required();
  addProjectOption(add, o->project);
  add->footer(
      "EXAMPLES:\n  berth domain add shop.example.com --app web --project demo\n"
      "  berth domain add www.shop.example.com --app web --project demo");
  add->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(
          client::ApiResponse r,
          client->post(domainPath({.project = o->project}), {{"name", o->name}, {"app", o->app}}));
      ctx.print(r.body, [&] {
        ctx.out() << (r.status == 201 ? "Added domain " : "Domain already routed: ")
                  << str(r.body["name"]) << " -> app " << str(r.body["app"]) << "\n";
      });
      return Status::ok();
    };
  });

  ResourceCommands domains(domain, ctx, action, {"name", "Host name", true, domainPath});
  domains.list(
      {"List a project's domains", "EXAMPLES:\n  berth domain ls --project demo"},
      {"NAME", "APP", "ADDED", "BY"},
      [](const nlohmann::json& d) -> Result<Row> {
        return Row{str(d["name"]), str(d["app"]), shortTime(d["created_at"]), str(d["created_by"])};
      },
      {.paged = false});
  domains.remove(
      {"Stop routing a host name", "EXAMPLES:\n  berth domain rm shop.example.com --project demo"},
      "", "Removed domain ");

  auto* ca = domain->add_subcommand(
      "ca", "Print the CA the nodes' ingress signs with (PEM), for curl --cacert");
  ca->footer(
      "EXAMPLES:\n  berth domain ca > berth-ca.pem\n"
      "  curl --cacert berth-ca.pem https://shop.example.com/");
  ca->callback([&] {
    action = [&]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(std::string pem, client->download("/v1/ingress/ca", kMaxCaBytes));
      ctx.out() << pem;
      return Status::ok();
    };
  });
}

}  // namespace berth::cli
