#include "controlplane/local_image_importer.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "agent/image/image_import.h"
#include "os/file_util.h"

namespace berth::controlplane {

namespace {
const char* phaseName(agent::ImportProgress::Phase phase) {
  switch (phase) {
    case agent::ImportProgress::Phase::kFetch: return "fetch";
    case agent::ImportProgress::Phase::kVerify: return "verify";
    case agent::ImportProgress::Phase::kUnpack: return "unpack";
    case agent::ImportProgress::Phase::kConvert: return "convert";
    case agent::ImportProgress::Phase::kDone: return "done";
  }
  return "unknown";
}
}  // namespace

LocalImageImporter::LocalImageImporter(std::string data_dir, std::string blob_dir)
    : data_dir_(std::move(data_dir)), blob_dir_(std::move(blob_dir)) {
  if (Status s = agent::removeStaleImports(agent::Paths(data_dir_)); !s.isOk()) {
    spdlog::warn("berthd: leftovers of interrupted image imports stay: {}", s.toString());
  }
}

Result<ImportResult> LocalImageImporter::import(const std::string& source,
                                                const std::function<void(const ImportStep&)>& progress) {
  agent::Paths paths(data_dir_);
  auto imported = agent::importImage(paths, source, {}, [&](const agent::ImportProgress& p) {
    if (progress) progress({phaseName(p.phase), p.layer, p.layers, p.bytes, p.total_bytes});
  });
  if (!imported.isOk()) return imported.status();
  const agent::ImageRecord& record = imported->record;
  // A hard link: same file system, no copy; the cache entry and the blob are one inode.
  BERTH_RETURN_IF_ERROR(os::makeDirs(blob_dir_, 0700));
  const std::string blob = blob_dir_ + "/" + record.ext4_digest.substr(7);
  if (::link(imported->ext4_path.c_str(), blob.c_str()) != 0 && errno != EEXIST) {
    return internalError("cannot offer the root file system as " + blob + ": " + os::errnoMessage(errno));
  }
  const agent::ImageConfig& c = record.config;
  nlohmann::json config = {{"entrypoint", c.entrypoint}, {"cmd", c.cmd},   {"env", c.env},
                           {"working_dir", c.working_dir}, {"user", c.user}, {"exposed_ports", c.exposed_ports}};
  return ImportResult{record.manifest_digest, config.dump(), record.ext4_digest,
                      static_cast<std::int64_t>(record.ext4_size), imported->cached};
}

}  // namespace berth::controlplane
