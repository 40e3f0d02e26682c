#include "controlplane/api/json_fields.h"
#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {
constexpr size_t kMaxArgs = 256, kMaxEnv = 256, kMaxPorts = 64;
constexpr size_t kMaxStringBytes = 4096;

// "secrets": ["DB_URL", {"name": "TLS_KEY", "as": "file"}]: a bare name is exposed as env.
Result<std::vector<model::SecretRef>> readSecretRefs(const nlohmann::json& items) {
  if (items.size() > kMaxEnv) return invalidArgument("secrets has more than " + std::to_string(kMaxEnv) + " entries");
  std::vector<model::SecretRef> out;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string field = "secrets[" + std::to_string(i) + "]";
    model::SecretRef ref;
    if (items[i].is_string()) {
      ref.name = items[i].get<std::string>();
    } else if (items[i].is_object()) {
      FieldReader sf(items[i], field + ".");
      auto name = sf.string("name", true);
      auto as = sf.oneOf("as", {"env", "file"});
      BERTH_RETURN_IF_ERROR(sf.finish());
      ref.name = *name;
      ref.as = as.value_or("env");
    } else {
      return invalidArgument(field + " must be a secret name or an object {\"name\", \"as\"}");
    }
    BERTH_RETURN_IF_ERROR(checkSecretName(ref.name, field));
    out.push_back(std::move(ref));
  }
  return out;
}

Result<AppSpecPatch> readSpec(FieldReader& f) {
  AppSpecPatch p;
  p.kind = f.oneOf("kind", {"process", "container"});
  p.image = f.string("image");
  p.command = f.stringArray("command", kMaxArgs);
  p.env = f.stringMap("env", kMaxEnv);
  p.replicas = f.integer("replicas", 0, 100);
  p.vm = f.name("vm");
  p.restart = f.oneOf("restart", {"always", "on-failure", "never"});
  if (const auto* ports = f.array("ports")) {
    if (ports->size() > kMaxPorts) return invalidArgument("ports has more than 64 entries");
    std::vector<model::PortSpec> out;
    for (size_t i = 0; i < ports->size(); ++i) {
      std::string prefix = "ports[" + std::to_string(i) + "].";
      if (!(*ports)[i].is_object()) return invalidArgument("ports[" + std::to_string(i) + "] must be an object");
      FieldReader pf((*ports)[i], prefix);
      auto port = pf.integer("port", 1, 65535, true);
      auto protocol = pf.oneOf("protocol", {"tcp", "udp"});
      auto host_port = pf.integer("host_port", 1, 65535);
      BERTH_RETURN_IF_ERROR(pf.finish());
      out.push_back({*port, protocol.value_or("tcp"), host_port.value_or(0)});
    }
    p.ports = out;
  }
  if (const auto* resources = f.object("resources")) {
    FieldReader rf(*resources, "resources.");
    auto memory = rf.integer("memory_mib", 16, 1 << 20);
    auto cpu = rf.integer("cpu_millis", 10, 64000);
    auto pids = rf.integer("pids", 8, 1 << 16);
    BERTH_RETURN_IF_ERROR(rf.finish());
    p.resources = model::Resources{memory.value_or(0), cpu.value_or(0), pids.value_or(0)};
  }
  if (const auto* secrets = f.array("secrets")) {
    BERTH_ASSIGN_OR_RETURN(p.secrets, readSecretRefs(*secrets));
  }
  if (const auto* health = f.object("health")) {
    FieldReader hf(*health, "health.");
    model::HealthSpec h;
    auto type = hf.oneOf("type", {"http", "tcp", "exec", "none"}, true);
    auto path = hf.string("path");
    auto command = hf.stringArray("command", kMaxArgs);
    auto interval = hf.integer("interval_ms", 100, 3'600'000);
    auto timeout = hf.integer("timeout_ms", 100, 600'000);
    auto grace = hf.integer("grace_ms", 0, 3'600'000);
    auto retries = hf.integer("retries", 1, 100);
    BERTH_RETURN_IF_ERROR(hf.finish());
    if (*type != "none") {
      h.type = *type;
      if (path) {
        if (path->empty() || (*path)[0] != '/' || path->size() > 1024 ||
            path->find_first_of(" \r\n\t") != std::string::npos) {
          return invalidArgument("health.path must start with '/', hold no spaces and be at most 1024 bytes");
        }
        h.path = *path;
      }
      if (command) {
        BERTH_RETURN_IF_ERROR(checkStringLengths(*command, "health.command"));
        h.command = *command;
      }
      h.interval_ms = interval.value_or(h.interval_ms);
      h.timeout_ms = timeout.value_or(h.timeout_ms);
      h.grace_ms = grace.value_or(h.grace_ms);
      h.retries = retries.value_or(h.retries);
    }
    p.health = h;
  }
  if (p.image && p.image->size() > kMaxStringBytes) return invalidArgument("image is longer than 4096 bytes");
  if (p.command) BERTH_RETURN_IF_ERROR(checkStringLengths(*p.command, "command"));
  if (p.env) BERTH_RETURN_IF_ERROR(checkEnvNames(*p.env));
  return p;
}
}  // namespace

Result<HttpResponse> handleCreateApp(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  auto name = f.name("name", true);
  BERTH_ASSIGN_OR_RETURN(AppSpecPatch spec, readSpec(f));
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(store::App app, c.services.apps.create(c.who, c.param("project"), *name, spec));
  return objectResponse(201, renderOne(renderApp, app), app.version);
}

Result<HttpResponse> handleListApps(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(Paging p, parsePaging(c.request));
  BERTH_ASSIGN_OR_RETURN(auto page, c.services.apps.list(c.who, c.param("project"), p.after, p.limit));
  return jsonResponse(200, renderPage(page, renderApp));
}

Result<HttpResponse> handleGetApp(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(store::App app, c.services.apps.get(c.who, c.param("project"), c.param("app")));
  return objectResponse(200, renderOne(renderApp, app), app.version);
}

Result<HttpResponse> handlePatchApp(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto if_match, parseIfMatch(c.request));
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  BERTH_ASSIGN_OR_RETURN(AppSpecPatch spec, readSpec(f));
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(store::App app,
                         c.services.apps.update(c.who, c.param("project"), c.param("app"), spec, if_match));
  return objectResponse(200, renderOne(renderApp, app), app.version);
}

Result<HttpResponse> handleDeleteApp(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto if_match, parseIfMatch(c.request));
  BERTH_RETURN_IF_ERROR(c.services.apps.remove(c.who, c.param("project"), c.param("app"), if_match));
  return noContent();
}

Result<HttpResponse> handleListReleases(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(Paging p, parsePaging(c.request));
  int64_t before = 0;
  if (!p.after.empty()) {
    try {
      before = std::stoll(p.after);
    } catch (const std::exception&) {
      return invalidArgument("query parameter after must be a release number");
    }
  }
  BERTH_ASSIGN_OR_RETURN(auto page,
                         c.services.apps.listReleases(c.who, c.param("project"), c.param("app"), before, p.limit));
  return jsonResponse(200, renderPage(page, renderRelease));
}

Result<HttpResponse> handleRollbackApp(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto if_match, parseIfMatch(c.request));
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request, /*empty_ok=*/true));
  FieldReader f(body);
  auto to = f.integer("to", 1, INT64_MAX);
  BERTH_RETURN_IF_ERROR(f.finish());
  BERTH_ASSIGN_OR_RETURN(store::App app,
                         c.services.apps.rollback(c.who, c.param("project"), c.param("app"), to, if_match));
  return objectResponse(200, renderOne(renderApp, app), app.version);
}

}  // namespace berth::controlplane
