#include "cli/context.h"

#include <algorithm>
#include <ostream>

namespace berth::cli {

Result<std::unique_ptr<client::ApiClient>> Context::client() {
  CredentialSources sources;
  sources.flag_url = url_flag;
  sources.flag_token_file = token_file_flag;
  sources.env = env_;
  BERTH_ASSIGN_OR_RETURN(sources.file, loadConfig(configPath(env_)));
  BERTH_ASSIGN_OR_RETURN(Credentials c, resolveCredentials(sources));
  return make_client_(c.url, c.token);
}

void Context::print(const nlohmann::json& body, const std::function<void()>& human) {
  if (json) {
    out_ << body.dump(2) << "\n";
  } else {
    human();
  }
}

CLI::Option* addProjectOption(CLI::App* cmd, std::string& project) {
  return cmd->add_option("-p,--project", project, "Project (default: $BERTH_PROJECT)")
      ->envname("BERTH_PROJECT")
      ->required();
}

Result<nlohmann::json> listAll(client::ApiClient& client, const std::string& path) {
  nlohmann::json items = nlohmann::json::array();
  std::string after;
  char sep = path.find('?') == std::string::npos ? '?' : '&';
  do {
    std::string page_path = path + sep + "limit=1000" + (after.empty() ? "" : "&after=" + client::urlEncode(after));
    BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client.get(page_path));
    for (auto& item : r.body["items"]) items.push_back(std::move(item));
    after = r.body["next"].is_string() ? r.body["next"].get<std::string>() : "";
  } while (!after.empty());
  return nlohmann::json{{"items", items}, {"next", nullptr}};
}

std::string shortTime(const nlohmann::json& timestamp) {
  if (!timestamp.is_string()) return "-";
  std::string t = timestamp.get<std::string>();
  if (t.size() >= 19) {
    t = t.substr(0, 19);
    t[10] = ' ';
  }
  return t;
}

std::string str(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

namespace {
// Lets --json, --url and --token-file come after the subcommand too ("berth project ls --json").
void allowGlobalFlagsAnywhere(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands({})) {
    sub->fallthrough();
    allowGlobalFlagsAnywhere(*sub);
  }
}
}  // namespace

int runCli(int argc, const char* const* argv, std::map<std::string, std::string> env, std::ostream& out,
           std::ostream& err, ClientFactory make_client) {
  Context ctx(std::move(env), out, std::move(make_client));
  ctx.setErr(err);
  CLI::App app{"berth: deploy and run apps in VMs on a Berth platform", "berth"};
  app.require_subcommand(1);
  app.add_flag("--json", ctx.json, "Print the API's JSON instead of a table");
  app.add_option("--url", ctx.url_flag, "Server URL (default: $BERTH_URL, then the login config)");
  app.add_option("--token-file", ctx.token_file_flag, "File holding the API token (default: $BERTH_TOKEN, then the login config)");
  Action action;
  addSessionCommands(app, ctx, action);
  addProjectCommands(app, ctx, action);
  addVmCommands(app, ctx, action);
  addAppCommands(app, ctx, action);
  addDeployCommand(app, ctx, action);
  addStreamCommands(app, ctx, action);
  addTokenCommands(app, ctx, action);
  addSecretCommands(app, ctx, action);
  addDomainCommands(app, ctx, action);
  addImageCommands(app, ctx, action);
  allowGlobalFlagsAnywhere(app);
  // Set after the subcommands exist: CLI11 copies a parent's footer into subcommands made later.
  app.footer(
      "EXAMPLES:\n"
      "  berth login http://127.0.0.1:7070 --token-file .berth-dev/admin.token\n"
      "  berth project create demo\n"
      "  berth vm create web --project demo --vcpus 2 --memory-mib 1024\n"
      "  berth app create site --project demo --port 8080 -- busybox httpd -f -p 8080\n"
      "  berth logs site --project demo -f\n"
      "  berth exec site --project demo -- ls /\n"
      "  berth events -f\n"
      "Run 'berth COMMAND --help' for a command's options.");
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      ctx.trailing_args.assign(argv + i + 1, argv + argc);
      break;
    }
    args.emplace_back(argv[i]);
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    // Help for the subcommand the user asked about, not the top level.
    const CLI::App* target = &app;
    while (!target->get_subcommands().empty()) target = target->get_subcommands().front();
    out << target->help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "berth: " << e.what() << "\n";
    return 2;
  }
  if (!action) {
    err << "berth: no command given; run 'berth --help'\n";
    return 2;
  }
  Status s;
  try {
    s = action();
  } catch (const std::exception& e) {
    s = internalError(e.what());
  }
  if (!s.isOk()) {
    err << "berth: " << s.message() << "\n";
    return 1;
  }
  return ctx.exit_code.value_or(0);
}

}  // namespace berth::cli
