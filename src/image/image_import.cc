#include "image/image_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <future>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "image/ext4_build.h"
#include "image/image_source.h"
#include "image/image_user.h"
#include "image/layer_digest.h"
#include "os/file_util.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace berth::image {
namespace {

using nlohmann::json;
using Phase = ImportProgress::Phase;

json recordToJson(const ImageRecord& r) {
  const ImageConfig& c = r.config;
  return json{{"manifest_digest", r.manifest_digest},
              {"config_digest", r.config_digest},
              {"config",
               {{"entrypoint", c.entrypoint},
                {"cmd", c.cmd},
                {"env", c.env},
                {"working_dir", c.working_dir},
                {"user", c.user},
                {"exposed_ports", c.exposed_ports}}},
              {"ext4", {{"digest", r.ext4_digest}, {"size", r.ext4_size}}},
              {"unpacked_bytes", r.unpacked_bytes}};
}

// Throws nlohmann's exceptions on a malformed record; the caller catches them.
ImageRecord recordFromJson(const json& j) {
  const json& c = j.at("config");
  ImageConfig config{c.at("entrypoint").get<std::vector<std::string>>(),
                     c.at("cmd").get<std::vector<std::string>>(),
                     c.at("env").get<std::vector<std::string>>(),
                     c.at("working_dir").get<std::string>(),
                     c.at("user").get<std::string>(),
                     c.at("exposed_ports").get<std::vector<std::string>>()};
  return ImageRecord{j.at("manifest_digest").get<std::string>(),
                     j.at("config_digest").get<std::string>(),
                     std::move(config),
                     j.at("ext4").at("digest").get<std::string>(),
                     j.at("ext4").at("size").get<std::uint64_t>(),
                     j.at("unpacked_bytes").get<std::uint64_t>()};
}

// Applies every layer of `image` into `root`, each verified against its descriptor.
Result<std::uint64_t> unpackLayers(const OciImage& image, const std::string& root,
                                   const UnpackLimits& limits, const ImportProgressFn& report) {
  BERTH_ASSIGN_OR_RETURN(LayerUnpacker unpacker, LayerUnpacker::create(root, limits));
  // Each layer's uncompressed digest, computed on another core while the layers unpack.
  auto diff_ids = std::async(std::launch::async, [&image] {
    std::vector<Result<std::string>> digests;
    for (std::size_t i = 0; i < image.diff_ids.size(); ++i) {
      digests.push_back(uncompressedDigest(image.blobPath(image.layers[i])));
    }
    return digests;
  });
  ImportProgress progress{Phase::kUnpack, 0, image.layers.size(), 0, 0};
  for (const auto& layer : image.layers) progress.total_bytes += layer.size;
  for (const auto& layer : image.layers) {
    ++progress.layer;
    report(progress);
    const std::string what = "layer " + std::to_string(progress.layer) + "/" +
                             std::to_string(progress.layers) + " (" + layer.digest + ")";
    auto blob = BlobReader::open(image.blobPath(layer), layer);
    if (!blob.isOk()) return blob.status().withContext(what);
    const Status applied = unpacker.apply(*blob);
    // A corrupt blob explains whatever unpacking made of it, so its verdict comes first.
    if (Status verified = blob->finish(); !verified.isOk()) return verified.withContext(what);
    if (!applied.isOk()) return applied.withContext(what);
    progress.bytes += layer.size;
  }
  std::vector<Result<std::string>> digests = diff_ids.get();
  for (std::size_t i = 0; i < digests.size(); ++i) {
    const Result<std::string>& digest = digests[i];
    const std::string what = "layer " + std::to_string(i + 1) + "/" + std::to_string(image.layers.size());
    if (!digest.isOk()) return digest.status().withContext(what);
    if (*digest != image.diff_ids[i]) {
      return invalidArgument(what + " decompresses to " + *digest + ", not to the diff_id " + image.diff_ids[i] +
                             " its config names");
    }
  }
  return unpacker.bytes();
}

// Moves the finished entry `built` into the cache slot for `hex`. If a concurrent import got
// there first, its entry is the one returned.
Result<ImportedImage> place(const ImageCache& cache, const ImageCache::Entry& built,
                            const std::string& hex, const ImageRecord& record) {
  const ImageCache::Entry slot = cache.entry(hex);
  if (::rename(built.dir.c_str(), slot.dir.c_str()) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) return findCachedImage(cache, hex);
    return internalError("cannot place '" + slot.dir + "': " + os::errnoMessage(errno));
  }
  os::UniqueFd dir(::open(cache.dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir || ::fsync(dir.get()) != 0) {
    return internalError("cannot sync '" + cache.dir() + "'");
  }
  return ImportedImage{record, slot.ext4(), false};
}

Result<ImportedImage> importInto(const ImageCache& cache, const std::string& staging,
                                 const std::string& source, const ImportOptions& options,
                                 const ImportProgressFn& report) {
  report({Phase::kFetch});
  BERTH_ASSIGN_OR_RETURN(std::string layout, ociLayoutFor(source, staging, options.skopeo));
  report({Phase::kVerify});
  BERTH_ASSIGN_OR_RETURN(OciImage image, readOciLayout(layout));
  const std::string hex = image.manifest.digest.substr(std::string_view("sha256:").size());
  const std::size_t layers = image.layers.size();
  auto cached = findCachedImage(cache, hex);
  if (cached.isOk()) {
    report({Phase::kDone, layers, layers, cached->record.ext4_size, 0});
    return cached;
  }
  if (cached.status().code() != StatusCode::kNotFound) {
    spdlog::warn("image cache: replacing a damaged entry: {}", cached.status().toString());
    BERTH_RETURN_IF_ERROR(os::removeAll(cache.entry(hex).dir));
  }

  const std::string root = staging + "/root";
  if (::mkdir(root.c_str(), 0755) != 0) {
    return internalError("cannot create '" + root + "': " + os::errnoMessage(errno));
  }
  BERTH_ASSIGN_OR_RETURN(std::uint64_t unpacked, unpackLayers(image, root, options.limits, report));
  // A USER given by name is looked up now, in the image's own files: nodes get numbers.
  if (!image.config.user.empty()) {
    os::UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    BERTH_ASSIGN_OR_RETURN(ImageUser user, resolveImageUser(root_fd.get(), image.config.user));
    image.config.user = std::to_string(user.uid) + ":" + std::to_string(user.gid);
  }

  report({Phase::kConvert, layers, layers, 0, 0});
  const ImageCache::Entry built{staging + "/entry"};
  if (::mkdir(built.dir.c_str(), 0755) != 0) {
    return internalError("cannot create '" + built.dir + "': " + os::errnoMessage(errno));
  }
  BERTH_RETURN_IF_ERROR(buildExt4(root, built.ext4(), options.mkfs));
  BERTH_ASSIGN_OR_RETURN(Descriptor ext4, hashFile(built.ext4()));
  const ImageRecord record{image.manifest.digest,
                           image.config_blob.digest,
                           image.config,
                           ext4.digest,
                           ext4.size,
                           unpacked};
  BERTH_RETURN_IF_ERROR(os::writeFileAtomic(built.record(), recordToJson(record).dump(2) + "\n"));
  BERTH_ASSIGN_OR_RETURN(ImportedImage imported, place(cache, built, hex, record));
  report({Phase::kDone, layers, layers, imported.record.ext4_size, 0});
  return imported;
}

}  // namespace

Result<ImportedImage> importImage(const ImageCache& cache, const std::string& source,
                                  const ImportOptions& options, const ImportProgressFn& progress) {
  const std::string what = "cannot import image '" + source + "'";
  const ImportProgressFn report = [&](const ImportProgress& p) {
    if (progress) progress(p);
  };
  if (Status s = os::makeDirs(cache.dir()); !s.isOk()) return s.withContext(what);
  auto staging = os::TempDir::createIn(cache.dir(), ".import-");
  if (!staging.isOk()) return staging.status().withContext(what);
  auto imported = importInto(cache, staging->path(), source, options, report);
  if (!imported.isOk()) return imported.status().withContext(what);
  return imported;
}

Status removeStaleImports(const ImageCache& cache) {
  if (!os::pathExists(cache.dir())) return Status::ok();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(cache.dir(), ec)) {
    if (entry.path().filename().string().rfind(".import-", 0) != 0) continue;
    BERTH_RETURN_IF_ERROR(os::removeAll(entry.path().string()));
  }
  if (ec) return internalError("cannot list '" + cache.dir() + "': " + ec.message());
  return Status::ok();
}

Result<ImportedImage> findCachedImage(const ImageCache& cache, const std::string& manifest_hex) {
  const std::string digest = "sha256:" + manifest_hex;
  if (!isSha256Digest(digest)) {
    return invalidArgument("'" + manifest_hex + "' is not a sha256 digest in hex");
  }
  const ImageCache::Entry entry = cache.entry(manifest_hex);
  auto text = os::readFile(entry.record());
  if (!text.isOk()) {
    if (!os::pathExists(entry.dir)) return notFound("no cached image " + digest);
    return internalError("image cache entry '" + entry.dir +
                         "' is damaged: " + text.status().message());
  }
  ImportedImage image{{}, entry.ext4(), true};
  try {
    image.record = recordFromJson(json::parse(*text));
  } catch (const json::exception& e) {
    return internalError("image cache entry '" + entry.dir + "' is damaged: " + e.what());
  }
  struct stat st {};
  if (image.record.manifest_digest != digest || ::stat(entry.ext4().c_str(), &st) != 0 ||
      static_cast<std::uint64_t>(st.st_size) != image.record.ext4_size) {
    return internalError("image cache entry '" + entry.dir +
                         "' is damaged: its record does not match it");
  }
  return image;
}

}  // namespace berth::image
