// `berth deploy APP --dir ./site --cmd "..." --port 8080`: pack the directory, upload it,
// create or update the app (a new release), make sure the project has a VM, and wait until the
// app answers on its published port. With `--image SOURCE` the app is a container app of that
// image, imported first unless SOURCE is already an imported image's digest.

#include <chrono>
#include <ostream>
#include <thread>

#include "cli/app_flags.h"
#include "cli/bundle.h"
#include "cli/context.h"
#include "cli/image_import.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct DeployOptions {
  std::string project, name, dir, image, cmd, vm;
  std::vector<std::string> env;
  int port = 0;
  int host_port = 0;
  bool no_wait = false;
  int timeout = 180;
  HealthFlags health;
};

std::string humanBytes(std::size_t n) {
  if (n < 10 * 1024) return std::to_string(n) + " B";
  if (n < 10 * 1024 * 1024) return std::to_string(n / 1024) + " KiB";
  return std::to_string(n / (1024 * 1024)) + " MiB";
}

// The project's VM the app goes to: the pinned one, else the first; a project without VMs
// gets one named "default" (within its quota, which berthd enforces).
Result<std::string> chooseVm(Context& ctx, client::ApiClient& api, const DeployOptions& o) {
  const std::string vms = "/v1/projects/" + client::urlEncode(o.project) + "/vms";
  if (!o.vm.empty()) return o.vm;
  BERTH_ASSIGN_OR_RETURN(json list, listAll(api, vms));
  if (!list["items"].empty()) return list["items"][0]["name"].get<std::string>();
  BERTH_ASSIGN_OR_RETURN(client::ApiResponse created, api.post(vms, json{{"name", "default"}, {"memory_mib", 512}}));
  ctx.out() << "Created VM default (1 vCPU, 512 MiB) in project " << o.project << "\n";
  return created.body["name"].get<std::string>();
}

// A release's record, for its outcome (the app may have moved past it by the time we look:
// berthd rolls a failed release back at once).
Result<json> releaseRecord(client::ApiClient& api, const std::string& app_path, int64_t release) {
  BERTH_ASSIGN_OR_RETURN(client::ApiResponse page,
                         api.get(app_path + "/releases?after=" + std::to_string(release + 1) + "&limit=1"));
  const json items = page.body.value("items", json::array());
  if (items.empty() || items[0].value("number", int64_t{0}) != release) return notFound("release vanished");
  return items[0];
}

// The failure as the agent described it, its log lines indented; then what berthd did about it.
Status reportFailure(Context& ctx, client::ApiClient& api, const DeployOptions& o, const std::string& app_path, int64_t release,
                     const std::string& detail) {
  const auto newline = detail.find('\n');
  ctx.out() << "Release " << release << " of " << o.name << " failed: " << detail.substr(0, newline) << std::endl;
  if (newline != std::string::npos) {
    std::string rest = detail.substr(newline + 1);
    for (std::size_t start = 0; start < rest.size();) {
      std::size_t end = rest.find('\n', start);
      if (end == std::string::npos) end = rest.size();
      ctx.out() << "  | " << rest.substr(start, end - start) << "\n";
      start = end + 1;
    }
  }
  std::string outcome = "nothing to roll back to";
  // The rollback berthd made, if any, is the release after the failed one.
  if (auto after = releaseRecord(api, app_path, release + 1);
      after.isOk() && after->value("automatic", false)) {
    const std::string target = std::to_string(after->value("rollback_of", int64_t{0}));
    outcome = "rolled back to release " + target + " (as release " + std::to_string(release + 1) + ")";
    ctx.out() << "Rolled back: release " << release + 1 << " restores release " << target
              << ", which kept serving while " << release << " was tried." << std::endl;
  }
  return failedPrecondition("release " + std::to_string(release) + " of " + o.name + " failed: " +
                            detail.substr(0, newline) + " (" + outcome + ")");
}

// The first TCP port the image exposes (its config's ExposedPorts), or 0.
Result<int> exposedPort(client::ApiClient& api, const std::string& project, const std::string& digest) {
  BERTH_ASSIGN_OR_RETURN(json images, listAll(api, "/v1/projects/" + client::urlEncode(project) + "/images"));
  for (const json& image : images["items"]) {
    if (image.value("digest", "") != digest) continue;
    for (const json& port : image["config"].value("exposed_ports", json::array())) {
      const std::string text = port.get<std::string>();
      if (text.size() > 4 && text.compare(text.size() - 4, 4, "/tcp") == 0) return std::atoi(text.c_str());
    }
  }
  return 0;
}

Status waitUntilAnswering(Context& ctx, client::ApiClient& api, const DeployOptions& o, const std::string& vm, int64_t release) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout);
  const std::string vm_path = "/v1/projects/" + client::urlEncode(o.project) + "/vms/" + client::urlEncode(vm);
  const std::string app_path = "/v1/projects/" + client::urlEncode(o.project) + "/apps/" + client::urlEncode(o.name);
  const std::string url = "http://127.0.0.1:" + std::to_string(o.host_port);
  std::string last_vm, last_app;
  ctx.out() << "Waiting for release " << release << " to answer on " << url << " ..." << std::endl;
  while (std::chrono::steady_clock::now() < deadline) {
    BERTH_ASSIGN_OR_RETURN(client::ApiResponse vm_now, api.get(vm_path));
    const std::string vm_state = vm_now.body.value("state", "");
    const std::string vm_detail = vm_now.body.value("state_detail", "");
    if (vm_state != last_vm) {
      ctx.out() << "  VM " << vm << ": " << vm_state << (vm_detail.empty() ? "" : " (" + vm_detail + ")") << std::endl;
      last_vm = vm_state;
    }
    BERTH_ASSIGN_OR_RETURN(client::ApiResponse app_now, api.get(app_path));
    const json status = app_now.body.value("status", json::object());
    const bool current = status.value("release", int64_t{0}) == release;
    const std::string app_state = current ? status.value("state", "") : "pending";
    const std::string app_detail = current ? status.value("detail", "") : "";
    const std::string shown = app_state + (app_detail.empty() ? "" : " (" + app_detail.substr(0, app_detail.find('\n')) + ")");
    if (shown != last_app) {
      ctx.out() << "  app " << o.name << " release " << release << ": " << shown << std::endl;
      last_app = shown;
    }
    // Failed, or already superseded: the release's own record says which.
    if ((current && app_state == "failed") || app_now.body.value("release", release) != release) {
      BERTH_ASSIGN_OR_RETURN(json record, releaseRecord(api, app_path, release));
      if (record.value("state", "") == "failed") {
        return reportFailure(ctx, api, o, app_path, release, record.value("detail", std::string("(no detail)")));
      }
      if (!current && app_now.body.value("release", release) != release && record.value("state", "") != "running") {
        return failedPrecondition("release " + std::to_string(release) + " of " + o.name +
                                  " was superseded by release " + std::to_string(app_now.body.value("release", release)) +
                                  " before it ran");
      }
    }
    if (current && app_state == "running") {
      auto probe = client::ApiClient::create(url, "");
      if (probe.isOk() && (*probe)->download("/", 1 << 20).isOk()) {
        ctx.out() << "App " << o.name << " is answering on " << url << std::endl;
        return Status::ok();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return unavailable("app " + o.name + " did not answer on " + url + " within " + std::to_string(o.timeout) +
                     "s (VM " + last_vm + ", app " + last_app + "); see `berth vm show " + vm + "` and `berth app show " +
                     o.name + "`");
}

// Where the app answers, as berthd says: its domains over HTTPS and its published ports.
Status printUrls(Context& ctx, client::ApiClient& api, const std::string& app_path) {
  BERTH_ASSIGN_OR_RETURN(client::ApiResponse app, api.get(app_path));
  const json urls = app.body.value("urls", json::array());
  if (urls.empty()) return Status::ok();
  ctx.out() << "URLs:" << std::endl;
  for (const auto& url : urls) ctx.out() << "  " << str(url) << std::endl;
  return Status::ok();
}

}  // namespace

void addDeployCommand(CLI::App& app, Context& ctx, Action& action) {
  auto o = std::make_shared<DeployOptions>();
  auto* cmd = app.add_subcommand("deploy", "Deploy a directory (a process app) or an image (a container app) into the project's VMs");
  cmd->add_option("app", o->name, "App name")->required();
  addProjectOption(cmd, o->project);
  auto* dir = cmd->add_option("--dir", o->dir, "Directory to ship; the app runs inside it");
  cmd->add_option("--image", o->image,
                  "Image to run as a container app: an OCI layout directory, an OCI or docker archive, "
                  "docker://REF (imported first), or an imported image's sha256: digest")
      ->excludes(dir);
  cmd->add_option("--cmd", o->cmd, "The command as one string, split on spaces (or give it after '--')");
  cmd->add_option("--port", o->port, "Port the app listens on inside the VM")->check(CLI::Range(1, 65535));
  cmd->add_option("--host-port", o->host_port, "Publish on this host port (default: same as --port)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("-e,--env", o->env, "KEY=VALUE environment variable (repeatable)");
  cmd->add_option("--vm", o->vm, "Deploy into this VM of the project (default: the first, created if none)");
  cmd->add_flag("--no-wait", o->no_wait, "Return once the release is created");
  addHealthFlags(cmd, o->health);
  cmd->add_option("--timeout", o->timeout, "Seconds to wait for the app to answer")->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  berth deploy site --project demo --dir ./site --port 8080 -- busybox httpd -f -p 8080\n"
      "  berth deploy site --project demo --dir ./site --port 8080 --health-http / -- busybox httpd -f -p '$(PORT)'\n"
      "  berth deploy web --project demo --image ./web-oci.tar --port 8080 --health-http /healthz\n"
      "  berth deploy api --project demo --dir ./build --cmd './server --listen :9000' --port 9000 --host-port 19000");
  cmd->callback([&ctx, &action, o] {
    action = [&ctx, o]() -> Status {
      DeployOptions& opts = *o;
      if (opts.dir.empty() && opts.image.empty()) return invalidArgument("give --dir DIR or --image SOURCE to deploy");
      if (opts.cmd.empty() && ctx.trailing_args.empty() && opts.image.empty()) {
        return invalidArgument("give the app's command with --cmd or after '--'");
      }
      if (!opts.cmd.empty() && !ctx.trailing_args.empty()) return invalidArgument("give the command either with --cmd or after '--', not both");
      BERTH_ASSIGN_OR_RETURN(auto api, ctx.client());
      model::AppSpec spec;
      if (!opts.image.empty()) {
        std::string digest = opts.image;
        if (digest.rfind("sha256:", 0) != 0) {
          BERTH_ASSIGN_OR_RETURN(json imported, importWithProgress(ctx, *api, opts.project, opts.image));
          digest = imported.value("digest", "");
          ctx.out() << (imported.value("cached", false) ? "Image already imported: " : "Imported image ") << digest
                    << std::endl;
        }
        spec.kind = "container";
        spec.image = digest;
        if (opts.port == 0) {
          BERTH_ASSIGN_OR_RETURN(opts.port, exposedPort(*api, opts.project, digest));
          if (opts.port > 0) ctx.out() << "Port " << opts.port << " (the image's EXPOSE)" << std::endl;
        }
      } else {
        BERTH_ASSIGN_OR_RETURN(std::string bundle, packDirectory(opts.dir));
        ctx.out() << "Packed " << opts.dir << " (" << humanBytes(bundle.size()) << ")" << std::endl;
        BERTH_ASSIGN_OR_RETURN(client::ApiResponse uploaded, api->postBytes("/v1/projects/" + client::urlEncode(opts.project) + "/blobs",
                                                                    "application/x-tar", bundle));
        const std::string digest = uploaded.body.value("digest", "");
        ctx.out() << "Uploaded bundle " << digest.substr(0, 19) << "…" << std::endl;
        spec.kind = "process";
        spec.image = digest;
      }
      BERTH_ASSIGN_OR_RETURN(std::string vm, chooseVm(ctx, *api, opts));
      spec.vm = vm;
      // A container app without a command runs its image's entrypoint.
      spec.command = opts.cmd.empty() ? ctx.trailing_args : splitCommand(opts.cmd);
      BERTH_ASSIGN_OR_RETURN(spec.env, parseEnvFlags(opts.env));
      std::vector<std::string> members = {"kind", "image", "vm", "command"};
      if (!opts.env.empty()) members.push_back("env");
      json body = specMembers(spec, members);
      // The deploy's one port keeps the body's own form: berthd takes tcp where none is named.
      if (opts.host_port == 0) opts.host_port = opts.port;
      body["ports"] = json::array();
      if (opts.port > 0) body["ports"].push_back({{"port", opts.port}, {"host_port", opts.host_port}});
      BERTH_ASSIGN_OR_RETURN(auto health, healthBody(opts.health));
      if (health) body["health"] = *health;
      const std::string apps = "/v1/projects/" + client::urlEncode(opts.project) + "/apps";
      auto existing = api->get(apps + "/" + client::urlEncode(opts.name));
      Result<client::ApiResponse> written = existing.isOk() ? api->patch(apps + "/" + client::urlEncode(opts.name), body)
                                                    : api->post(apps, [&] {
                                                        json named = body;
                                                        named["name"] = opts.name;
                                                        return named;
                                                      }());
      if (!existing.isOk() && existing.status().code() != StatusCode::kNotFound) return existing.status();
      if (!written.isOk()) return written.status();
      const int64_t release = written->body.value("release", int64_t{0});
      ctx.out() << "Release " << release << " of " << opts.name << " created" << std::endl;
      if (!opts.no_wait && opts.port > 0) {
        BERTH_RETURN_IF_ERROR(waitUntilAnswering(ctx, *api, opts, vm, release));
      }
      return printUrls(ctx, *api, apps + "/" + client::urlEncode(opts.name));
    };
  });
}

}  // namespace berth::cli
