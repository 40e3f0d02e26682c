#include "controlplane/service/host_ports.h"

#include <charconv>
#include <set>

namespace berth::controlplane {

namespace {

std::set<int64_t> publishedPorts(const model::AppSpec& spec) {
  std::set<int64_t> out;
  for (const auto& p : spec.ports) {
    if (p.host_port > 0) out.insert(p.host_port);
  }
  return out;
}

bool parsePort(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 5) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 1 && out <= 65535;
}

Status outsideRange(int64_t port, const HostPortRange& range) {
  return invalidArgument("host port " + std::to_string(port) + " is outside the range this platform publishes (" +
                         range.toString() + ")");
}

Status taken(int64_t port) {
  return conflict("host port " + std::to_string(port) + " is already published by another app");
}

}  // namespace

Result<HostPortRange> HostPortRange::parse(std::string_view text) {
  HostPortRange r;
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || !parsePort(text.substr(0, dash), r.low) ||
      !parsePort(text.substr(dash + 1), r.high) || r.low > r.high) {
    return invalidArgument("'" + std::string(text.substr(0, 64)) +
                           "' is not a port range: want LOW-HIGH with 1 <= LOW <= HIGH <= 65535, e.g. 1024-65535");
  }
  return r;
}

Status checkHostPortsInRange(const HostPortRange& range, const model::AppSpec& spec) {
  for (int64_t port : publishedPorts(spec)) {
    if (!range.contains(port)) return outsideRange(port, range);
  }
  return Status::ok();
}

Status claimHostPorts(store::Tx& tx, const HostPortRange& range, const std::string& project, const std::string& app,
                      const model::AppSpec& spec, int64_t now) {
  const std::set<int64_t> wanted = publishedPorts(spec);
  BERTH_ASSIGN_OR_RETURN(std::vector<store::HostPortClaim> held, tx.listHostPortClaims(project, app));
  std::set<int64_t> mine;
  for (const auto& c : held) mine.insert(c.port);
  std::vector<int64_t> fresh;
  for (int64_t port : wanted) {
    if (!mine.count(port)) fresh.push_back(port);
  }
  for (int64_t port : fresh) {
    if (!range.contains(port)) return outsideRange(port, range);
  }
  for (int64_t port : fresh) {
    auto holder = tx.getHostPortClaim(port);
    if (holder.isOk()) return taken(port);
    if (holder.status().code() != StatusCode::kNotFound) return holder.status();
  }
  for (int64_t port : mine) {
    if (!wanted.count(port)) BERTH_RETURN_IF_ERROR(tx.deleteHostPortClaim(port));
  }
  for (int64_t port : fresh) {
    Status s = tx.insertHostPortClaim({port, project, app, now});
    if (s.code() == StatusCode::kAlreadyExists) return taken(port);
    BERTH_RETURN_IF_ERROR(s);
  }
  return Status::ok();
}

Status dropUnheldHostPorts(store::Tx& tx, const std::string& project, const std::string& app, model::AppSpec& spec) {
  if (publishedPorts(spec).empty()) return Status::ok();
  BERTH_ASSIGN_OR_RETURN(std::vector<store::HostPortClaim> held, tx.listHostPortClaims(project, app));
  std::set<int64_t> mine;
  for (const auto& c : held) mine.insert(c.port);
  for (auto& p : spec.ports) {
    if (p.host_port > 0 && !mine.count(p.host_port)) p.host_port = 0;
  }
  return Status::ok();
}

Result<std::vector<std::string>> claimPublishedHostPorts(store::Store& store, int64_t now) {
  std::vector<std::string> warnings;
  BERTH_RETURN_IF_ERROR(store.write([&](store::Tx& tx) {
    warnings.clear();
    BERTH_ASSIGN_OR_RETURN(std::vector<store::App> apps, tx.listAppsByAge());
    for (const auto& app : apps) {
      auto spec = model::appSpecFromJson(app.spec_json);
      if (!spec.isOk()) {
        // One unreadable app must not leave every other without its ports.
        warnings.push_back("app '" + app.name + "' of project '" + app.project +
                             "' publishes no host port: its spec cannot be read: " + spec.status().message());
        continue;
      }
      for (int64_t port : publishedPorts(*spec)) {
        auto holder = tx.getHostPortClaim(port);
        if (holder.isOk()) {
          if (holder->project != app.project || holder->app != app.name) {
            warnings.push_back("host port " + std::to_string(port) + " stays with app '" + holder->app +
                                 "' of project '" + holder->project + "'; app '" + app.name + "' of project '" +
                                 app.project + "' also publishes it and is not given it");
          }
          continue;
        }
        if (holder.status().code() != StatusCode::kNotFound) return holder.status();
        BERTH_RETURN_IF_ERROR(tx.insertHostPortClaim({port, app.project, app.name, now}));
      }
    }
    return Status::ok();
  }));
  return warnings;
}

}  // namespace berth::controlplane
