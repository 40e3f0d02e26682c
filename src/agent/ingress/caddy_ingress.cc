#include "agent/ingress/caddy_ingress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <thread>

#include "agent/ingress/caddy_admin.h"
#include "agent/rollout.h"
#include "agent/sessions/app_log.h"
#include "os/detached_process.h"
#include "os/file_util.h"

namespace berth::agent {

namespace {

using namespace std::chrono_literals;

constexpr auto kStartLimit = 15s;
constexpr auto kLoadTimeout = 30s;  // bounds a wedged Caddy; a reload itself answers at once
constexpr std::size_t kMaxCaBytes = 16 * 1024;

// The last `lines` lines of `text` for an error message, without the final newline.
std::string lastLines(const std::string& text, std::size_t lines) {
  std::string out = tailText(text, lines);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

Status NoIngress::route(const DomainBackends& domains) {
  if (domains.empty()) return Status::ok();
  return failedPrecondition(
      "this node runs no ingress (berth-agent --ingress none, or no caddy installed), so " +
      domains.begin()->first + " is not served here");
}

CaddyIngress::CaddyIngress(IngressSettings settings, std::string dir, std::string caddy)
    : settings_(std::move(settings)),
      dir_(std::move(dir)),
      caddy_(std::move(caddy)),
      files_{dir_ + "/admin.sock", dir_ + "/storage"} {}

Result<std::string> CaddyIngress::findCaddy() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/caddy";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return notFound("no caddy in PATH (Debian: apt-get install caddy)");
}

bool CaddyIngress::answers() const {
  return caddyAdminRequest(files_.admin_socket, "GET", "/config/", "", 2s).isOk();
}

Status CaddyIngress::startLocked() {
  BERTH_RETURN_IF_ERROR(os::makeDirs(dir_, 0700));
  BERTH_RETURN_IF_ERROR(
      os::writeFileAtomic(dir_ + "/bootstrap.json", caddyBootstrapConfig(files_).dump(), 0600));
  ::unlink(files_.admin_socket.c_str());
  const std::string log = dir_ + "/caddy.log";
  ::unlink(log.c_str());
  // Caddy keeps nothing outside its directory: HOME and XDG paths point into it too.
  const std::vector<std::string> env = {"HOME=" + dir_, "XDG_DATA_HOME=" + dir_ + "/data",
                                        "XDG_CONFIG_HOME=" + dir_ + "/config",
                                        "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  BERTH_RETURN_IF_ERROR(os::spawnDetached(
      {caddy_, "run", "--config", dir_ + "/bootstrap.json", "--pidfile", dir_ + "/caddy.pid"}, log,
      &env));
  const auto deadline = std::chrono::steady_clock::now() + kStartLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (caddyAdminRequest(files_.admin_socket, "GET", "/config/", "", 1s).isOk()) {
      spdlog::info("agent: ingress: started Caddy ({}), admin API on {}", caddy_,
                   files_.admin_socket);
      loaded_.clear();
      return Status::ok();
    }
    std::this_thread::sleep_for(50ms);
  }
  auto said = os::readFile(log);
  return unavailable("Caddy did not start within 15 s" +
                     (said.isOk() ? ": " + lastLines(*said, 3) : std::string()));
}

Status CaddyIngress::route(const DomainBackends& domains) {
  std::lock_guard lock(mu_);
  std::set<Backend> wanted;
  for (const auto& [host, backends] : domains) wanted.insert(backends.begin(), backends.end());
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [host, backends] : routed_) {
    for (const Backend& backend : backends) {
      if (!wanted.count(backend)) draining_.emplace(backend, now + kDrainLimit);
    }
  }
  std::vector<Backend> draining;
  for (auto it = draining_.begin(); it != draining_.end();) {
    if (wanted.count(it->first) || idle_.count(it->first) || it->second < now) {
      it = draining_.erase(it);
      continue;
    }
    draining.push_back(it->first);
    ++it;
  }
  idle_.clear();
  const std::string document = caddyConfig(settings_, files_, domains, draining).dump();
  if (document == loaded_) return Status::ok();
  if (!answers()) {
    // Nothing to serve and nothing served by this agent yet: no process to start.
    if (domains.empty() && loaded_.empty()) return Status::ok();
    BERTH_RETURN_IF_ERROR(startLocked());
  }
  BERTH_ASSIGN_OR_RETURN(
      AdminReply reply,
      caddyAdminRequest(files_.admin_socket, "POST", "/load", document,
                        std::chrono::duration_cast<std::chrono::milliseconds>(kLoadTimeout)));
  if (reply.status != 200) {
    // Caddy says why as {"error": "..."}: a port taken, most often.
    const auto said = nlohmann::json::parse(reply.body, nullptr, false);
    const std::string why = said.is_object() && said.contains("error") && said["error"].is_string()
                                ? said["error"].get<std::string>()
                                : lastLines(reply.body, 1);
    return unavailable("Caddy refused the ingress routes (HTTP " + std::to_string(reply.status) +
                       "): " + why);
  }
  loaded_ = document;
  routed_ = domains;
  return Status::ok();
}

std::size_t CaddyIngress::requestsTo(const Backend& backend) const {
  std::lock_guard lock(mu_);
  if (loaded_.empty()) return 0;
  auto reply = caddyAdminRequest(files_.admin_socket, "GET", "/reverse_proxy/upstreams", "", 2s);
  if (!reply.isOk() || reply->status != 200) return 0;
  const auto upstreams = nlohmann::json::parse(reply->body, nullptr, false);
  if (!upstreams.is_array()) return 0;
  std::size_t requests = 0;
  for (const auto& upstream : upstreams) {
    if (!upstream.is_object() || upstream.value("address", "") != backend) continue;
    const auto& count = upstream["num_requests"];
    requests = count.is_number_unsigned() ? count.get<std::size_t>() : 0;
  }
  // Seen idle: the next reload may let it go.
  if (requests == 0 && draining_.count(backend)) idle_.insert(backend);
  return requests;
}

model::NodeIngress CaddyIngress::describe() const {
  model::NodeIngress out{settings_.http_port, settings_.https_port, ""};
  if (settings_.tls != "internal") return out;
  auto ca = os::readFile(files_.storage_dir + "/pki/authorities/local/root.crt");
  if (ca.isOk() && ca->size() <= kMaxCaBytes) out.ca = *ca;
  return out;
}

}  // namespace berth::agent
