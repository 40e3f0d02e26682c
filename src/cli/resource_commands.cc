#include "cli/resource_commands.h"

#include <memory>
#include <ostream>

#include "cli/table.h"

namespace berth::cli {

namespace {

Result<nlohmann::json> fetchCollection(client::ApiClient& client, const std::string& path, bool paged) {
  if (paged) return listAll(client, path);
  BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client.get(path));
  return std::move(r.body);
}

}  // namespace

std::string objectPath(const std::string& collection, const ResourceArgs& args) {
  return collection + (args.name.empty() ? "" : "/" + client::urlEncode(args.name));
}

std::string projectObjectPath(const std::string& kind, const ResourceArgs& args) {
  return objectPath("/v1/projects/" + client::urlEncode(args.project) + "/" + kind, args);
}

Status printDetails(Context& ctx, const nlohmann::json& object, const DetailWriter& details) {
  Status written = Status::ok();
  ctx.print(object, [&] { written = details(ctx.out(), object); });
  return written;
}

// Arguments are added in the order help lists them: the positional, then --project.
void ResourceCommands::add(const std::string& name, const std::string& alias, const HelpText& help, bool named,
                           Work work) {
  auto args = std::make_shared<ResourceArgs>();
  auto* cmd = group_->add_subcommand(name, help.summary);
  if (!alias.empty()) cmd->alias(alias);
  if (named) cmd->add_option(kind_.positional, args->name, kind_.positional_help)->required();
  if (kind_.in_project) addProjectOption(cmd, args->project);
  cmd->footer(help.examples);
  cmd->callback([&ctx = ctx_, &action = action_, args, work] {
    action = [&ctx, args, work]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      return work(*client, *args);
    };
  });
}

void ResourceCommands::list(HelpText help, std::vector<std::string> columns, RowOf row, ListOptions options) {
  add(options.name, options.alias, help, options.of_object,
      [&ctx = ctx_, path = kind_.path, columns, row, paged = options.paged](client::ApiClient& client,
                                                                           const ResourceArgs& args) -> Status {
        BERTH_ASSIGN_OR_RETURN(nlohmann::json all, fetchCollection(client, path(args), paged));
        return printDetails(ctx, all, [&](std::ostream& out, const nlohmann::json& collection) -> Status {
          Table table(columns);
          for (const auto& item : collection.contains("items") ? collection["items"] : nlohmann::json::array()) {
            BERTH_ASSIGN_OR_RETURN(Row cells, row(item));
            table.addRow(std::move(cells));
          }
          out << table.render();
          return Status::ok();
        });
      });
}

void ResourceCommands::show(HelpText help, DetailWriter details) {
  add("show", "", help, true,
      [&ctx = ctx_, path = kind_.path, details](client::ApiClient& client, const ResourceArgs& args) -> Status {
        BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, client.get(path(args)));
        return printDetails(ctx, r.body, details);
      });
}

void ResourceCommands::remove(HelpText help, std::string alias, std::string done) {
  add("rm", alias, help, true,
      [&ctx = ctx_, path = kind_.path, done](client::ApiClient& client, const ResourceArgs& args) -> Status {
        BERTH_RETURN_IF_ERROR(client.del(path(args)).status());
        if (!ctx.json) ctx.out() << done << args.name << "\n";
        return Status::ok();
      });
}

}  // namespace berth::cli
