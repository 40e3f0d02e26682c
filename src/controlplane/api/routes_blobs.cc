// App bundles: `berth deploy --dir` uploads a tar of the directory; an app's spec then names
// it by digest, and the agent of the app's node downloads it. Content addressing makes the
// upload idempotent and lets the agent verify what it got.

#include <unistd.h>

#include "common/crypto.h"
#include "controlplane/api/request_context.h"
#include "os/file_util.h"

namespace berth::controlplane {

Result<HttpResponse> handleUploadBlob(RequestContext& c) {
  const std::string& project = c.param("project");
  BERTH_RETURN_IF_ERROR(c.services.projects.get(c.who, project).status());
  BERTH_RETURN_IF_ERROR(authorize(c.who, project, Access::kDeploy, "project '" + project + "'"));
  const auto type = c.request.header("content-type").value_or("");
  const std::string media = type.substr(0, type.find(';'));
  if (media != "application/x-tar" && media != "application/gzip") {
    return Status(StatusCode::kInvalidArgument,
                  "an app bundle must be application/x-tar or application/gzip, not '" + type + "'");
  }
  if (c.request.body.empty()) return invalidArgument("the app bundle is empty");
  const std::string hex = sha256Hex(c.request.body);
  const std::string path = c.blob_dir + "/" + hex;
  if (::access(path.c_str(), R_OK) != 0) {
    BERTH_RETURN_IF_ERROR(os::makeDirs(c.blob_dir, 0700));
    BERTH_RETURN_IF_ERROR(os::writeFileAtomic(path, c.request.body, 0600));
  }
  return jsonResponse(201, nlohmann::json{{"digest", "sha256:" + hex},
                                          {"size", static_cast<int64_t>(c.request.body.size())}});
}

Result<HttpResponse> handleGetBlob(RequestContext& c) {
  if (c.who.role != Role::kAdmin && c.who.role != Role::kNode) {
    return permissionDenied("app bundles are read by node agents and admins");
  }
  const std::string& digest = c.param("digest");
  if (!isSha256Digest(digest)) {
    return invalidArgument("digest must be sha256:<64 lowercase hex>");
  }
  auto bytes = os::readFile(c.blob_dir + "/" + digest.substr(7));
  if (!bytes.isOk()) return notFound("blob " + digest + " does not exist");
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/octet-stream";
  r.body = std::move(bytes).value();
  return r;
}

}  // namespace berth::controlplane
