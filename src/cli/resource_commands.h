#pragma once
// The subcommands every resource group has in the same shape, written once: `ls` (a table of the
// collection), `show` (one object's details) and `rm`. Each registers its subcommand on the group
// and, when chosen, stores its work in `action`; with --json they print the API's JSON as is.

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/context.h"

namespace berth::cli {

// What the user named on the command line; `name` is empty for a collection.
struct ResourceArgs {
  std::string project{};
  std::string name{};
};

// The API path for the arguments given: the collection when `name` is empty, else the object.
using PathOf = std::function<std::string(const ResourceArgs&)>;

// `collection`, or the object in it that `args.name` names.
std::string objectPath(const std::string& collection, const ResourceArgs& args);
// The same inside the project: "/v1/projects/<project>/<kind>[/<name>]".
std::string projectObjectPath(const std::string& kind, const ResourceArgs& args);

// How a resource is named on the command line and where it lives in the API.
struct ResourceKind {
  std::string positional{};  // the object's positional argument ("name", "id") in help
  std::string positional_help{};
  bool in_project = false;  // every subcommand takes -p/--project (default $BERTH_PROJECT)
  PathOf path{};
};

// A subcommand's one-line summary and its examples (the help's footer).
struct HelpText {
  std::string summary;
  std::string examples;
};

// One object's cells in a table, in the columns' order.
using Row = std::vector<std::string>;
// An object's row; an error for a malformed object.
using RowOf = std::function<Result<Row>(const nlohmann::json& item)>;
// Writes one object's details for a person; an error (before any output) for a malformed object.
using DetailWriter = std::function<Status(std::ostream& out, const nlohmann::json& object)>;

struct ListOptions {
  std::string name = "ls";
  std::string alias = "list";  // "" for none
  // True: the list belongs to one named object (an app's releases) and takes its positional.
  bool of_object = false;
  // True: follows `next` cursors (listAll). False: the collection answers in one response.
  bool paged = true;
};

// Adds a resource's subcommands to its group (`berth vm`, `berth app`, …). Holds references to
// the group, the context and the action, which must outlive it and the parse.
class ResourceCommands {
 public:
  ResourceCommands(CLI::App* group, Context& ctx, Action& action, ResourceKind kind)
      : group_(group), ctx_(ctx), action_(action), kind_(std::move(kind)) {}

  // `ls`: the collection as a table of `columns`.
  void list(HelpText help, std::vector<std::string> columns, RowOf row, ListOptions options = {});
  // `show`: GET the object, printed by `details`.
  void show(HelpText help, DetailWriter details);
  // `rm`: DELETE the object, then prints `done` and its name ("Removed VM web").
  void remove(HelpText help, std::string alias, std::string done);

 private:
  // What a subcommand does once parsed, with a client for the server.
  using Work = std::function<Status(client::ApiClient& client, const ResourceArgs& args)>;
  // Registers the subcommand; `named`: it takes the object's positional.
  void add(const std::string& name, const std::string& alias, const HelpText& help, bool named, Work work);

  CLI::App* group_;
  Context& ctx_;
  Action& action_;
  ResourceKind kind_;
};

// `object` as JSON with --json, else written by `details`.
Status printDetails(Context& ctx, const nlohmann::json& object, const DetailWriter& details);

}  // namespace berth::cli
