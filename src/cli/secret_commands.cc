#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <ostream>

#include "cli/context.h"
#include "cli/resource_commands.h"

namespace berth::cli {

namespace {
std::string secretPath(const ResourceArgs& args) { return projectObjectPath("secrets", args); }

// The value from --file, else stdin. Never from argv: that would put it in shell history and ps.
Result<std::string> readValue(const std::string& file) {
  std::string value;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return invalidArgument("cannot read '" + file + "'");
    value.assign(std::istreambuf_iterator<char>(in), {});
  } else {
    if (::isatty(STDIN_FILENO)) std::cerr << "Reading the value from stdin; end it with Ctrl-D.\n";
    value.assign(std::istreambuf_iterator<char>(std::cin), {});
    // `echo value | berth secret set` would otherwise store the newline.
    if (!value.empty() && value.back() == '\n') value.pop_back();
  }
  return value;
}
}  // namespace

void addSecretCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* secret = app.add_subcommand("secret", "Set, list and remove a project's secrets (values are never shown)");
  secret->require_subcommand(1);
  struct Options {
    std::string project, name, file;
  };
  auto o = std::make_shared<Options>();

  auto* set = secret->add_subcommand("set", "Set a secret from stdin or a file; apps that use it get a new release");
  set->add_option("name", o->name, "Secret name, like an env variable: [A-Za-z_][A-Za-z0-9_]*")->required();
  addProjectOption(set, o->project);
  set->add_option("--file", o->file, "Read the value from this file (as is) instead of stdin");
  set->footer("EXAMPLES:\n  printf %s \"$DB_PASSWORD\" | berth secret set DB_PASSWORD --project demo\n"
              "  berth secret set TLS_KEY --project demo --file key.pem\n"
              "  berth app set api --project demo --secret DB_PASSWORD --secret-file TLS_KEY");
  set->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(std::string value, readValue(o->file));
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client->post(secretPath({.project = o->project}), {{"name", o->name}, {"value", value}}));
      ctx.print(r.body, [&] {
        ctx.out() << "Set secret " << o->name << " version " << str(r.body["version"]) << "\n";
        for (const auto& a : r.body["apps_released"]) ctx.out() << "  app " << str(a) << ": new release\n";
      });
      return Status::ok();
    };
  });

  ResourceCommands secrets(secret, ctx, action, {"name", "Secret name", true, secretPath});
  secrets.list({"List a project's secrets: names and versions", "EXAMPLES:\n  berth secret ls --project demo"},
               {"NAME", "VERSION", "SET", "BY"},
               [](const nlohmann::json& s) -> Result<Row> {
                 return Row{str(s["name"]), str(s["version"]), shortTime(s["created_at"]), str(s["created_by"])};
               },
               {.paged = false});
  secrets.remove({"Remove a secret (refused while an app uses it)", "EXAMPLES:\n  berth secret rm OLD_TOKEN --project demo"},
                 "", "Removed secret ");
}

}  // namespace berth::cli
