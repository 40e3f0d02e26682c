#include <unistd.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "controlplane/api/json_fields.h"
#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {
constexpr size_t kMaxRefBytes = 1024;

nlohmann::json imageJson(const store::Image& i) {
  auto config = nlohmann::json::parse(i.config_json, nullptr, false);
  return {{"digest", i.digest},
          {"config", config.is_discarded() ? nlohmann::json::object() : config},
          {"rootfs_digest", i.rootfs_digest},
          {"rootfs_size", i.rootfs_size},
          {"source", i.source},
          {"created_at", formatTimestamp(i.created_at)},
          {"created_by", i.created_by}};
}

std::string sseFrame(const char* event, const nlohmann::json& data) {
  return std::string("event: ") + event + "\ndata: " + data.dump() + "\n\n";
}
}  // namespace

// The answer is a stream: `progress` frames while the import runs (it may take minutes),
// then one `done` frame with the image (and whether it was cached) or one `error` frame.
// What can be refused before the work starts is refused with a plain 4xx.
Result<HttpResponse> handleImportImage(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto body, jsonBody(c.request));
  FieldReader f(body);
  auto source = f.string("source", true);
  BERTH_RETURN_IF_ERROR(f.finish());
  std::string path;
  if (source->rfind("docker://", 0) == 0) {
    if (source->size() == 9 || source->size() > kMaxRefBytes ||
        source->find_first_of(" \t\r\n") != std::string::npos) {
      return invalidArgument("source must be docker://REF (a registry reference of up to 1 KiB, no spaces)");
    }
    path = *source;
  } else if (isSha256Digest(*source)) {
    path = c.blob_dir + "/" + source->substr(7);
    if (::access(path.c_str(), R_OK) != 0) {
      return notFound("no uploaded archive " + *source + "; upload it first (POST /v1/projects/{project}/blobs)");
    }
  } else {
    return invalidArgument("source must be docker://REF or the sha256: digest of an uploaded OCI or docker archive");
  }
  const std::string project = c.param("project");
  BERTH_RETURN_IF_ERROR(c.services.images.authorizeImport(c.who, project));
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.stream = [&images = c.services.images, who = c.who, project, path, label = *source](StreamWriter& w) {
    auto imported = images.import(who, project, path, label, [&w](const ImportStep& s) {
      w.write(sseFrame("progress", {{"phase", s.phase},
                                    {"layer", s.layer},
                                    {"layers", s.layers},
                                    {"bytes", s.bytes},
                                    {"total_bytes", s.total_bytes}}));
    });
    if (!imported.isOk()) {
      w.write(sseFrame("error", {{"error",
                                  {{"code", statusCodeName(imported.status().code())},
                                   {"message", imported.status().message()}}}}));
      return;
    }
    nlohmann::json done = imageJson(imported->first);
    done["cached"] = imported->second;
    w.write(sseFrame("done", done));
  };
  return r;
}

Result<HttpResponse> handleListImages(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(auto images, c.services.images.list(c.who, c.param("project")));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : images) items.push_back(imageJson(i));
  return jsonResponse(200, {{"items", items}, {"next", nullptr}});
}

}  // namespace berth::controlplane
