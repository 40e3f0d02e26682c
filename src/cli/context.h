#pragma once
// What every command shares: global flags, the environment, output, and the API client.

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "cli/config.h"

namespace berth::cli {

// Makes the API client for a resolved server URL and token: client::ApiClient::create, or a
// fake in tests.
using ClientFactory =
    std::function<Result<std::unique_ptr<client::ApiClient>>(const std::string& url, std::string token)>;

class Context {
 public:
  Context(std::map<std::string, std::string> env, std::ostream& out,
          ClientFactory make_client = client::ApiClient::create)
      : env_(std::move(env)), out_(out), make_client_(std::move(make_client)) {}

  // Global flags, bound by registerGlobalFlags.
  bool json = false;
  // Everything after the first "--" on the command line (an app's command), kept away from
  // CLI11, which would still match options such as -p in it.
  std::vector<std::string> trailing_args;
  std::optional<std::string> url_flag;
  std::optional<std::string> token_file_flag;

  // Set by commands that pass a remote exit status through (exec); runCli exits with it.
  std::optional<int> exit_code;

  const std::map<std::string, std::string>& env() const { return env_; }
  std::ostream& out() { return out_; }
  // Where a remote command's stderr goes (the process's stderr; `out` if none was set).
  std::ostream& err() { return err_ ? *err_ : out_; }
  void setErr(std::ostream& err) { err_ = &err; }

  // A client for the resolved server and token; FailedPrecondition when not logged in.
  Result<std::unique_ptr<client::ApiClient>> client();

  // Prints `body` as JSON with --json, else calls `human`.
  void print(const nlohmann::json& body, const std::function<void()>& human);

 private:
  std::map<std::string, std::string> env_;
  std::ostream& out_;
  std::ostream* err_ = nullptr;
  ClientFactory make_client_;
};

// The command to run once parsing succeeded.
using Action = std::function<Status()>;

// Each registers its subcommands on `app`; the chosen one stores its work in `action`.
void addSessionCommands(CLI::App& app, Context& ctx, Action& action);  // login, status, events
void addProjectCommands(CLI::App& app, Context& ctx, Action& action);
void addVmCommands(CLI::App& app, Context& ctx, Action& action);
void addAppCommands(CLI::App& app, Context& ctx, Action& action);     // app, releases, rollback
void addTokenCommands(CLI::App& app, Context& ctx, Action& action);
void addSecretCommands(CLI::App& app, Context& ctx, Action& action);
void addDomainCommands(CLI::App& app, Context& ctx, Action& action);  // domain add/ls/rm/ca
void addImageCommands(CLI::App& app, Context& ctx, Action& action);
void addDeployCommand(CLI::App& app, Context& ctx, Action& action);  // deploy a directory
// logs, exec and `vm console` (after addVmCommands: it extends `vm`).
void addStreamCommands(CLI::App& app, Context& ctx, Action& action);

// Shared helpers for command files.
// Adds --project, defaulting from BERTH_PROJECT; required.
CLI::Option* addProjectOption(CLI::App* cmd, std::string& project);
// Follows `next` cursors until the list ends; returns {"items":[all],"next":null}.
Result<nlohmann::json> listAll(client::ApiClient& client, const std::string& path);
// "2026-11-22T13:18:00.123Z" → "2026-11-22 13:18:00".
std::string shortTime(const nlohmann::json& timestamp);
std::string str(const nlohmann::json& v);  // strings unquoted, null as "-", others dumped

// Runs the CLI: parses argv, runs the command, prints errors as one line on `err`.
// Returns the exit code: 0 ok, 1 error, 2 usage.
int runCli(int argc, const char* const* argv, std::map<std::string, std::string> env, std::ostream& out,
           std::ostream& err, ClientFactory make_client = client::ApiClient::create);

}  // namespace berth::cli
