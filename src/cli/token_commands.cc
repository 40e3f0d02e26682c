#include <ostream>

#include "cli/context.h"
#include "cli/resource_commands.h"

namespace berth::cli {

namespace {
std::string tokenPath(const ResourceArgs& args) { return objectPath("/v1/tokens", args); }
}  // namespace

void addTokenCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* token = app.add_subcommand("token", "Create, list and revoke API tokens");
  token->require_subcommand(1);
  struct Options {
    std::string name, role, project;
  };
  auto o = std::make_shared<Options>();

  auto* create = token->add_subcommand("create", "Create a token; its secret is shown once");
  create->add_option("name", o->name, "A name for the token (a DNS label)")->required();
  create->add_option("--role", o->role, "admin, owner, deployer, viewer or node")
      ->required()
      ->check(CLI::IsMember({"admin", "owner", "deployer", "viewer", "node"}));
  create->add_option("-p,--project", o->project, "The project of an owner/deployer/viewer token")->envname("BERTH_PROJECT");
  create->footer("EXAMPLES:\n  berth token create ci --role deployer --project demo\n  berth token create ops --role admin");
  create->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      nlohmann::json body = {{"name", o->name}, {"role", o->role}};
      if (!o->project.empty() && o->role != "admin" && o->role != "node") body["project"] = o->project;
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->post(tokenPath({}), body));
      ctx.print(r.body, [&] {
        ctx.out() << "Created token " << str(r.body["id"]) << " (" << str(r.body["role"]);
        if (r.body["project"].is_string()) ctx.out() << " of project " << str(r.body["project"]);
        ctx.out() << "):\n" << str(r.body["token"]) << "\nKeep it now: it will not be shown again.\n";
      });
      return Status::ok();
    };
  });

  ResourceCommands tokens(token, ctx, action, {"id", "Token id (tok_...)", false, tokenPath});
  tokens.list({"List tokens (never their secrets)", "EXAMPLES:\n  berth token ls"},
              {"ID", "NAME", "ROLE", "PROJECT", "CREATED", "CREATED_BY"}, [](const nlohmann::json& tk) -> Result<Row> {
                return Row{str(tk["id"]),      str(tk["name"]),                str(tk["role"]),
                           str(tk["project"]), shortTime(tk["created_at"]), str(tk["created_by"])};
              });
  tokens.remove({"Revoke a token at once", "EXAMPLES:\n  berth token rm tok_0123456789abcdef"}, "revoke", "Revoked token ");
}

}  // namespace berth::cli
