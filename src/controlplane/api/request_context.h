#pragma once
// What a route handler gets: the request, its path parameters, the caller, the services that
// carry out its command, and the broker that relays sessions to agents. Handlers parse and
// render; every rule and every store access is the services'.

#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "controlplane/auth/principal.h"
#include "controlplane/http/http_types.h"
#include "controlplane/service/services.h"
#include "controlplane/service/session_broker.h"

namespace berth::controlplane {

struct RequestContext {
  const HttpRequest& request;
  std::map<std::string, std::string> params;  // from ":name" path segments
  Principal who;
  Services& services;
  std::chrono::seconds event_keepalive;
  const std::string& blob_dir;  // uploaded app bundles, by sha256
  SessionBroker& broker;        // exec, logs and console relayed to node agents

  const std::string& param(const std::string& name) const { return params.at(name); }
};

using RouteHandler = Result<HttpResponse> (*)(RequestContext&);

// Query paging: limit in 1..1000 (default 100) and an opaque cursor.
struct Paging {
  int limit = 100;
  std::string after;
};
Result<Paging> parsePaging(const HttpRequest& request);
// An integer query parameter in [min, max]; `fallback` when absent.
Result<int64_t> queryInteger(const HttpRequest& request, const std::string& key, int64_t fallback, int64_t min,
                             int64_t max);
// If-Match: "3", 3, W/"3" or * (no check).
Result<std::optional<int64_t>> parseIfMatch(const HttpRequest& request);
// The body as a JSON object (Api checked its Content-Type); an empty body is {} when `empty_ok`.
Result<nlohmann::json> jsonBody(const HttpRequest& request, bool empty_ok = false);

HttpResponse jsonResponse(int status, const nlohmann::json& body);
HttpResponse jsonResponse(int status, std::string serialized);
// A JSON response carrying the object's version as its ETag.
HttpResponse objectResponse(int status, std::string serialized, int64_t version);
HttpResponse noContent();

// Route handlers, one group per file.
Result<HttpResponse> handleWhoami(RequestContext& c);
Result<HttpResponse> handleUploadBlob(RequestContext& c);
Result<HttpResponse> handleGetBlob(RequestContext& c);
Result<HttpResponse> handleCreateToken(RequestContext& c);
Result<HttpResponse> handleListTokens(RequestContext& c);
Result<HttpResponse> handleDeleteToken(RequestContext& c);
Result<HttpResponse> handleImportImage(RequestContext& c);
Result<HttpResponse> handleListImages(RequestContext& c);
Result<HttpResponse> handleSetSecret(RequestContext& c);
Result<HttpResponse> handleListSecrets(RequestContext& c);
Result<HttpResponse> handleDeleteSecret(RequestContext& c);
Result<HttpResponse> handleAddDomain(RequestContext& c);
Result<HttpResponse> handleListDomains(RequestContext& c);
Result<HttpResponse> handleDeleteDomain(RequestContext& c);
Result<HttpResponse> handleIngressCa(RequestContext& c);

Result<HttpResponse> handleCreateProject(RequestContext& c);
Result<HttpResponse> handleListProjects(RequestContext& c);
Result<HttpResponse> handleGetProject(RequestContext& c);
Result<HttpResponse> handlePatchProject(RequestContext& c);
Result<HttpResponse> handleDeleteProject(RequestContext& c);

Result<HttpResponse> handleCreateVm(RequestContext& c);
Result<HttpResponse> handleListVms(RequestContext& c);
Result<HttpResponse> handleGetVm(RequestContext& c);
Result<HttpResponse> handlePatchVm(RequestContext& c);
Result<HttpResponse> handleDeleteVm(RequestContext& c);
Result<HttpResponse> handleStartVm(RequestContext& c);
Result<HttpResponse> handleStopVm(RequestContext& c);
Result<HttpResponse> handleRestartVm(RequestContext& c);

Result<HttpResponse> handleCreateApp(RequestContext& c);
Result<HttpResponse> handleListApps(RequestContext& c);
Result<HttpResponse> handleGetApp(RequestContext& c);
Result<HttpResponse> handlePatchApp(RequestContext& c);
Result<HttpResponse> handleDeleteApp(RequestContext& c);
Result<HttpResponse> handleListReleases(RequestContext& c);
Result<HttpResponse> handleRollbackApp(RequestContext& c);

Result<HttpResponse> handleEvents(RequestContext& c);

Result<HttpResponse> handleAppExec(RequestContext& c);
Result<HttpResponse> handleAppLogs(RequestContext& c);
Result<HttpResponse> handleVmConsole(RequestContext& c);
Result<HttpResponse> handleNodeSessions(RequestContext& c);
Result<HttpResponse> handleNodeSessionOutput(RequestContext& c);

Result<HttpResponse> handleRegisterNode(RequestContext& c);
Result<HttpResponse> handleListNodes(RequestContext& c);
Result<HttpResponse> handleDrainNode(RequestContext& c);
Result<HttpResponse> handleNodeAssignment(RequestContext& c);
Result<HttpResponse> handleNodeStatus(RequestContext& c);

}  // namespace berth::controlplane
