#include "controlplane/api/api.h"

#include <array>
#include <vector>

#include "controlplane/api/metrics.h"
#include "controlplane/api/openapi.h"
#include "controlplane/api/request_context.h"
#include "controlplane/api/response_cache.h"

namespace berth::controlplane {

namespace {

struct Route {
  const char* method;
  std::vector<std::string> pattern;  // segments; ":name" captures
  RouteHandler handler;
  bool raw_body = false;  // an upload: the body is bytes (a tar bundle), not JSON
  bool waits = false;     // a GET that may block: long-polls, streams, relayed sessions, blobs
  bool cached = false;    // a GET whose answer depends only on the store and the token
};

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

Route route(const char* method, const std::string& path, RouteHandler h) { return Route{method, split(path), h}; }
Route upload(const char* method, const std::string& path, RouteHandler h) {
  return Route{method, split(path), h, true};
}
Route waiting(const char* method, const std::string& path, RouteHandler h) {
  return Route{method, split(path), h, false, true};
}
Route cachedGet(const std::string& path, RouteHandler h) { return Route{"GET", split(path), h, false, false, true}; }

const std::vector<Route>& routes() {
  static const std::vector<Route> kRoutes = {
      route("GET", "/v1/whoami", handleWhoami),
      route("POST", "/v1/tokens", handleCreateToken),
      cachedGet("/v1/tokens", handleListTokens),
      route("DELETE", "/v1/tokens/:token", handleDeleteToken),
      route("POST", "/v1/projects", handleCreateProject),
      cachedGet("/v1/projects", handleListProjects),
      cachedGet("/v1/projects/:project", handleGetProject),
      route("PATCH", "/v1/projects/:project", handlePatchProject),
      route("DELETE", "/v1/projects/:project", handleDeleteProject),
      route("POST", "/v1/projects/:project/vms", handleCreateVm),
      cachedGet("/v1/projects/:project/vms", handleListVms),
      cachedGet("/v1/projects/:project/vms/:vm", handleGetVm),
      route("PATCH", "/v1/projects/:project/vms/:vm", handlePatchVm),
      route("DELETE", "/v1/projects/:project/vms/:vm", handleDeleteVm),
      route("POST", "/v1/projects/:project/vms/:vm/start", handleStartVm),
      route("POST", "/v1/projects/:project/vms/:vm/stop", handleStopVm),
      route("POST", "/v1/projects/:project/vms/:vm/restart", handleRestartVm),
      waiting("GET", "/v1/projects/:project/vms/:vm/console", handleVmConsole),
      route("POST", "/v1/projects/:project/apps", handleCreateApp),
      cachedGet("/v1/projects/:project/apps", handleListApps),
      cachedGet("/v1/projects/:project/apps/:app", handleGetApp),
      route("PATCH", "/v1/projects/:project/apps/:app", handlePatchApp),
      route("DELETE", "/v1/projects/:project/apps/:app", handleDeleteApp),
      cachedGet("/v1/projects/:project/apps/:app/releases", handleListReleases),
      route("POST", "/v1/projects/:project/apps/:app/rollback", handleRollbackApp),
      waiting("GET", "/v1/projects/:project/apps/:app/logs", handleAppLogs),
      route("POST", "/v1/projects/:project/apps/:app/exec", handleAppExec),
      route("POST", "/v1/projects/:project/images", handleImportImage),
      route("GET", "/v1/projects/:project/images", handleListImages),
      route("POST", "/v1/projects/:project/secrets", handleSetSecret),
      route("GET", "/v1/projects/:project/secrets", handleListSecrets),
      route("DELETE", "/v1/projects/:project/secrets/:secret", handleDeleteSecret),
      route("POST", "/v1/projects/:project/domains", handleAddDomain),
      cachedGet("/v1/projects/:project/domains", handleListDomains),
      route("DELETE", "/v1/projects/:project/domains/:domain", handleDeleteDomain),
      route("GET", "/v1/ingress/ca", handleIngressCa),
      waiting("GET", "/v1/events", handleEvents),
      upload("POST", "/v1/projects/:project/blobs", handleUploadBlob),
      waiting("GET", "/v1/blobs/:digest", handleGetBlob),
      route("POST", "/v1/nodes", handleRegisterNode),
      route("GET", "/v1/nodes", handleListNodes),
      route("POST", "/v1/nodes/:node/drain", handleDrainNode),
      waiting("GET", "/v1/nodes/:node/assignment", handleNodeAssignment),
      route("POST", "/v1/nodes/:node/status", handleNodeStatus),
      waiting("GET", "/v1/nodes/:node/sessions", handleNodeSessions),
      route("POST", "/v1/nodes/:node/sessions/:session", handleNodeSessionOutput),
  };
  return kRoutes;
}

bool matches(const Route& r, const std::vector<std::string>& segments, std::map<std::string, std::string>& params) {
  if (r.pattern.size() != segments.size()) return false;
  params.clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    if (r.pattern[i].starts_with(':')) {
      if (segments[i].empty()) return false;
      params[r.pattern[i].substr(1)] = segments[i];
    } else if (r.pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

int httpStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kConflict: return 409;
    case StatusCode::kVersionMismatch: return 412;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

HttpResponse errorResponse(const Status& s) {
  return jsonError(httpStatus(s.code()), statusCodeName(s.code()), s.message());
}

HttpResponse rateLimited(int retry_after, const std::string& message) {
  HttpResponse r = jsonError(429, "rate_limited", message);
  r.setHeader("Retry-After", std::to_string(retry_after));
  return r;
}

std::optional<std::string> bearerToken(const HttpRequest& r) {
  auto h = r.header("authorization");
  if (!h) return std::nullopt;
  constexpr std::string_view kPrefix = "Bearer ";
  if (h->size() <= kPrefix.size() || std::string_view(*h).substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  return h->substr(kPrefix.size());
}

}  // namespace

struct Api::Impl {
  Impl(Services& services, const Clock& clock, ApiOptions options)
      : services(services), options(options), per_token(clock, options.per_token),
        per_address(clock, options.per_address), auth_failures(clock, options.auth_failures) {}

  // Health, the API document and metrics: no token, no rate limit, GET only.
  std::optional<HttpResponse> publicEndpoint(const HttpRequest& req) {
    if (req.path != "/v1/healthz" && req.path != "/v1/openapi.json" && req.path != "/metrics") return std::nullopt;
    if (req.method != "GET") {
      HttpResponse r = jsonError(405, "method_not_allowed", req.method + " is not allowed on " + req.path + "; allowed: GET");
      r.setHeader("Allow", "GET");
      return r;
    }
    if (req.path == "/v1/healthz") return jsonResponse(200, {{"status", "ok"}, {"version", BERTH_VERSION}});
    if (req.path == "/v1/openapi.json") return jsonResponse(200, openApiDocument());
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics.render(services.events.lastSeq(), broker.openSessions());
    return r;
  }

  HttpResponse dispatch(const HttpRequest& req) {
    if (auto r = publicEndpoint(req)) return std::move(*r);
    if (int wait = per_address.acquire(req.remote_address)) {
      return rateLimited(wait, "too many requests from " + req.remote_address);
    }
    if (!auth_failures.wouldAllow(req.remote_address)) {
      return rateLimited(5, "too many failed authentication attempts from " + req.remote_address + "; slow down");
    }
    auto secret = bearerToken(req);
    if (!secret) {
      return jsonError(401, "unauthenticated", "missing 'Authorization: Bearer <token>' header");
    }
    auto who = services.tokens.authenticate(*secret);
    if (!who.isOk()) {
      if (who.status().code() == StatusCode::kUnauthenticated) (void)auth_failures.acquire(req.remote_address);
      return errorResponse(who.status());
    }
    if (int wait = per_token.acquire(who->token_id)) {
      return rateLimited(wait, "token '" + who->token_id + "' is over its request rate");
    }

    auto segments = split(req.path);
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;
    for (const auto& r : routes()) {
      if (!matches(r, segments, params)) continue;
      if (req.method != r.method) {
        allowed.push_back(r.method);
        continue;
      }
      if ((req.method == "POST" || req.method == "PATCH") && !req.body.empty() && !r.raw_body) {
        auto ct = req.header("content-type").value_or("");
        std::string media = ct.substr(0, ct.find(';'));
        if (media != "application/json") {
          return jsonError(415, "unsupported_media_type",
                           "the request body must be application/json, not '" + (ct.empty() ? "(none)" : ct) + "'");
        }
      }
      if (r.cached) return cachedResponse(r, req, params, *who);
      return run(r, req, params, *who);
    }
    if (!allowed.empty()) {
      std::string allow;
      for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
      HttpResponse r = jsonError(405, "method_not_allowed", req.method + " is not allowed on " + req.path +
                                                                "; allowed: " + allow);
      r.setHeader("Allow", allow);
      return r;
    }
    return jsonError(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
  }

  HttpResponse run(const Route& r, const HttpRequest& req, const std::map<std::string, std::string>& params,
                   const Principal& who) {
    RequestContext ctx{req, params, who, services, options.event_keepalive, options.blob_dir, broker};
    auto result = r.handler(ctx);
    return result.isOk() ? std::move(result).value() : errorResponse(result.status());
  }

  // Keyed by token, not role: the cache never has to know who may see what.
  HttpResponse cachedResponse(const Route& r, const HttpRequest& req, const std::map<std::string, std::string>& params,
                              const Principal& who) {
    std::string key = who.token_id + ' ' + req.path;
    for (const auto& [k, v] : req.query) key += '\n' + k + '=' + v;
    const int64_t generation = services.events.dataGeneration();
    if (auto hit = responses.find(key, generation)) return std::move(*hit);
    HttpResponse response = run(r, req, params, who);
    responses.put(key, generation, response);
    return response;
  }

  Services& services;
  ApiOptions options;
  RateLimiter per_token, per_address, auth_failures;
  Metrics metrics;
  SessionBroker broker;
  ResponseCache responses;
};

Api::Api(Services& services, const Clock& clock, ApiOptions options)
    : impl_(std::make_unique<Impl>(services, clock, options)) {}

Api::~Api() = default;

bool Api::isQuick(const HttpRequest& req) {
  if (req.method != "GET") return false;
  auto segments = split(req.path);
  std::map<std::string, std::string> params;
  for (const auto& r : routes()) {
    if (r.method == req.method && matches(r, segments, params)) return !r.waits;
  }
  return true;  // public endpoints and errors
}

HttpResponse Api::handle(const HttpRequest& req) {
  auto start = std::chrono::steady_clock::now();
  HttpResponse response = impl_->dispatch(req);
  impl_->metrics.observe(req.method, response.status, std::chrono::steady_clock::now() - start);
  return response;
}

}  // namespace berth::controlplane
