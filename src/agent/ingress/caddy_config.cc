#include "agent/ingress/caddy_config.h"

namespace berth::agent {

using nlohmann::json;

namespace {

json adminConfig(const CaddyFiles& files) {
  // persist=false: the agent is the source of truth and loads everything on start; an autosaved
  // copy would only resurrect routes the assignment no longer has.
  return {{"listen", "unix/" + files.admin_socket},
          {"origins", json::array({kCaddyAdminOrigin})},
          {"config", {{"persist", false}}}};
}

json routeTo(const std::string& host, const std::vector<Backend>& backends) {
  json upstreams = json::array();
  for (const Backend& backend : backends) upstreams.push_back({{"dial", backend}});
  // Retrying a refused dial for a few seconds covers the instant an instance is replaced.
  json proxy = {{"handler", "reverse_proxy"},
                {"upstreams", upstreams},
                {"load_balancing",
                 {{"selection_policy", {{"policy", "round_robin"}}},
                  {"try_duration", "5s"},
                  {"try_interval", "250ms"}}}};
  return {{"match", json::array({{{"host", json::array({host})}}})},
          {"handle", json::array({proxy})},
          {"terminal", true}};
}

json issuer(const IngressSettings& settings) {
  if (settings.tls == "internal") return {{"module", "internal"}};
  json acme = {{"module", "acme"}};
  if (!settings.acme_email.empty()) acme["email"] = settings.acme_email;
  return acme;
}

}  // namespace

json caddyBootstrapConfig(const CaddyFiles& files) { return {{"admin", adminConfig(files)}}; }

json caddyConfig(const IngressSettings& settings, const CaddyFiles& files,
                 const DomainBackends& domains, const std::vector<Backend>& draining) {
  json servers = json::object();
  if (!domains.empty() || !draining.empty()) {
    json routes = json::array();
    for (const auto& [host, backends] : domains) routes.push_back(routeTo(host, backends));
    if (!draining.empty()) {
      // No TCP peer has the broadcast address: nothing reaches these, and no host matcher means
      // no certificate is asked for them.
      json parked = routeTo("", draining);
      parked["match"] =
          json::array({{{"remote_ip", {{"ranges", json::array({"255.255.255.255/32"})}}}}});
      routes.push_back(parked);
    }
    json not_served = {{"handler", "static_response"},
                       {"status_code", 404},
                       {"body", "no app is served under this name here\n"}};
    routes.push_back({{"handle", json::array({not_served})}});
    servers["berth"] = {{"listen", json::array({settings.listen_address + ":" +
                                                std::to_string(settings.https_port)})},
                        {"routes", routes}};
  }
  // https_port stays Caddy's default (443): its HTTP-to-HTTPS redirect names the listener's port
  // only when it differs from https_port, and a node serving on another port must say so.
  json http = {{"http_port", settings.http_port}, {"servers", servers}};
  return {{"admin", adminConfig(files)},
          {"storage", {{"module", "file_system"}, {"root", files.storage_dir}}},
          {"apps",
           {{"http", http},
            {"tls",
             {{"automation",
               {{"policies", json::array({{{"issuers", json::array({issuer(settings)})}}})}}}}},
            {"pki",
             {{"certificate_authorities",
               {{"local", {{"name", "Berth ingress CA"}, {"install_trust", false}}}}}}}}}};
}

}  // namespace berth::agent
