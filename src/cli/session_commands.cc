#include <chrono>
#include <iostream>
#include <thread>
#include <ostream>

#include "cli/context.h"
#include "cli/table.h"

namespace berth::cli {

namespace {

Status login(Context& ctx, const std::string& url, const std::optional<std::string>& token_file, bool token_stdin) {
  std::string token;
  if (token_file) {
    BERTH_ASSIGN_OR_RETURN(token, readTokenFile(*token_file));
  } else if (token_stdin) {
    std::getline(std::cin, token);
    if (token.empty()) return invalidArgument("no token on standard input");
  } else {
    return invalidArgument("give the token with --token-file FILE or --token-stdin");
  }
  BERTH_ASSIGN_OR_RETURN(auto client, client::ApiClient::create(url, token));
  BERTH_ASSIGN_OR_RETURN(client::ApiResponse who, client->get("/v1/whoami"));
  std::string path = configPath(ctx.env());
  BERTH_RETURN_IF_ERROR(saveConfig(path, Credentials{client->url(), token}));
  ctx.print(who.body, [&] {
    ctx.out() << "Logged in to " << client->url() << " as token '" << str(who.body["name"]) << "' ("
              << str(who.body["role"]);
    if (who.body["project"].is_string()) ctx.out() << " of project " << str(who.body["project"]);
    ctx.out() << "); saved to " << path << "\n";
  });
  return Status::ok();
}

Status status(Context& ctx) {
  BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
  BERTH_ASSIGN_OR_RETURN(client::ApiResponse health, client->get("/v1/healthz"));
  BERTH_ASSIGN_OR_RETURN(client::ApiResponse who, client->get("/v1/whoami"));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json projects, listAll(*client, "/v1/projects"));
  nlohmann::json out = {{"url", client->url()}, {"health", health.body}, {"whoami", who.body},
                        {"projects", projects["items"].size()}};
  if (who.body["role"] == "admin") {
    BERTH_ASSIGN_OR_RETURN(client::ApiResponse nodes, client->get("/v1/nodes"));
    out["nodes"] = nodes.body["items"];
  }
  ctx.print(out, [&] {
    ctx.out() << "Server:   " << client->url() << " (berthd " << str(health.body["version"]) << ", "
              << str(health.body["status"]) << ")\n";
    ctx.out() << "Token:    " << str(who.body["name"]) << " (" << str(who.body["token_id"]) << "), role "
              << str(who.body["role"]);
    if (who.body["project"].is_string()) ctx.out() << " of project " << str(who.body["project"]);
    ctx.out() << "\nProjects: " << projects["items"].size() << "\n";
    if (out.contains("nodes")) {
      ctx.out() << "Nodes:    " << out["nodes"].size() << "\n";
      for (const auto& n : out["nodes"]) {
        ctx.out() << "  " << str(n["name"]) << "  " << str(n["state"]) << "  " << str(n["capacity"]["vcpus"])
                  << " vCPUs, " << str(n["capacity"]["memory_mib"]) << " MiB\n";
      }
    }
  });
  return Status::ok();
}

std::string eventLine(const nlohmann::json& e) {
  std::string line = shortTime(e["time"]) + "  " + str(e["actor"]) + "  " + str(e["action"]) + "  " + str(e["object"]);
  if (e["details"].is_object() && !e["details"].empty()) line += "  " + e["details"].dump();
  return line;
}

Status events(Context& ctx, bool follow, const std::string& project, int limit) {
  BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
  std::string query = project.empty() ? "" : "project=" + client::urlEncode(project);
  if (!follow) {
    // The newest `limit` events: count back from the newest seq, which one request for the tail gives.
    BERTH_ASSIGN_OR_RETURN(nlohmann::json all, listAll(*client, "/v1/events" + (query.empty() ? "" : "?" + query)));
    auto& items = all["items"];
    if (limit > 0 && items.size() > static_cast<size_t>(limit)) {
      items.erase(items.begin(), items.end() - limit);
    }
    ctx.print(all, [&] {
      for (const auto& e : items) ctx.out() << eventLine(e) << "\n";
    });
    return Status::ok();
  }
  // Runs until the user interrupts it (Ctrl-C ends the process, as with `tail -f`).
  std::string last_id;
  std::string path = "/v1/events?follow=1" + (query.empty() ? "" : "&" + query);
  // Reconnects after a dropped connection, resuming after the last event seen.
  for (int failures = 0;;) {
    client::StreamRequest request;
    request.path = path;
    request.last_event_id = last_id;
    Status s = client->stream(request, [&](const client::SseEvent& event) {
      failures = 0;
      last_id = event.id;
      auto e = nlohmann::json::parse(event.data, nullptr, false);
      if (ctx.json) {
        ctx.out() << event.data << "\n";
      } else if (!e.is_discarded()) {
        ctx.out() << eventLine(e) << "\n";
      }
      ctx.out().flush();
      return true;
    });
    if (s.isOk()) return s;  // the server ended the stream (it is shutting down)
    if (s.code() != StatusCode::kUnavailable || ++failures > 5) return s;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

void addSessionCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* login_cmd = app.add_subcommand("login", "Save a server URL and token for later commands");
  struct Options {
    std::string url, project;
    std::optional<std::string> token_file;
    bool token_stdin = false, follow = false;
    int limit = 50;
  };
  auto o = std::make_shared<Options>();
  login_cmd->add_option("url", o->url, "Server URL, e.g. http://127.0.0.1:7070")->required();
  login_cmd->add_option("--token-file", o->token_file, "File holding the token");
  login_cmd->add_flag("--token-stdin", o->token_stdin, "Read the token from standard input");
  login_cmd->footer("EXAMPLES:\n  berth login http://127.0.0.1:7070 --token-file .berth-dev/admin.token\n"
                    "  pass show berth | berth login https://berth.example.com --token-stdin");
  login_cmd->callback([&, o] { action = [&, o] { return login(ctx, o->url, o->token_file, o->token_stdin); }; });

  auto* status_cmd = app.add_subcommand("status", "Show the server, your token and the fleet");
  status_cmd->footer("EXAMPLES:\n  berth status\n  berth status --json");
  status_cmd->callback([&] { action = [&] { return status(ctx); }; });

  auto* events_cmd = app.add_subcommand("events", "Show the audit and state event log");
  events_cmd->add_flag("-f,--follow", o->follow, "Keep streaming new events (Ctrl-C stops)");
  events_cmd->add_option("-p,--project", o->project, "Only this project's events")->envname("BERTH_PROJECT");
  events_cmd->add_option("-n,--limit", o->limit, "How many of the newest events to show")->check(CLI::Range(1, 100000));
  events_cmd->footer("EXAMPLES:\n  berth events\n  berth events -f --project demo");
  events_cmd->callback([&, o] { action = [&, o] { return events(ctx, o->follow, o->project, o->limit); }; });
}

}  // namespace berth::cli
