#include "controlplane/local_image_importer.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "image/image_import.h"
#include "model/node_protocol.h"
#include "os/file_util.h"

namespace berth::controlplane {

namespace {
const char* phaseName(image::ImportProgress::Phase phase) {
  switch (phase) {
    case image::ImportProgress::Phase::kFetch: return "fetch";
    case image::ImportProgress::Phase::kVerify: return "verify";
    case image::ImportProgress::Phase::kUnpack: return "unpack";
    case image::ImportProgress::Phase::kConvert: return "convert";
    case image::ImportProgress::Phase::kDone: return "done";
  }
  return "unknown";
}
}  // namespace

LocalImageImporter::LocalImageImporter(std::string cache_dir, std::string blob_dir)
    : cache_(std::move(cache_dir)), blob_dir_(std::move(blob_dir)) {
  if (Status s = image::removeStaleImports(cache_); !s.isOk()) {
    spdlog::warn("berthd: leftovers of interrupted image imports stay: {}", s.toString());
  }
}

Result<ImportResult> LocalImageImporter::import(const std::string& source,
                                                const std::function<void(const ImportStep&)>& progress) {
  auto imported = image::importImage(cache_, source, {}, [&](const image::ImportProgress& p) {
    if (progress) progress({phaseName(p.phase), p.layer, p.layers, p.bytes, p.total_bytes});
  });
  if (!imported.isOk()) return imported.status();
  const image::ImageRecord& record = imported->record;
  // A hard link: same file system, no copy; the cache entry and the blob are one inode.
  BERTH_RETURN_IF_ERROR(os::makeDirs(blob_dir_, 0700));
  const std::string blob = blob_dir_ + "/" + record.ext4_digest.substr(7);
  if (::link(imported->ext4_path.c_str(), blob.c_str()) != 0 && errno != EEXIST) {
    return internalError("cannot offer the root file system as " + blob + ": " + os::errnoMessage(errno));
  }
  const image::ImageConfig& c = record.config;
  const model::ImageConfig config{c.entrypoint, c.cmd, c.env, c.working_dir, c.user, c.exposed_ports};
  // An image's strings need not be UTF-8: they are replaced rather than thrown on.
  const std::string config_json =
      model::imageConfigToJson(config).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return ImportResult{record.manifest_digest, config_json, record.ext4_digest,
                      static_cast<std::int64_t>(record.ext4_size), imported->cached};
}

}  // namespace berth::controlplane
