#include "oci_test_util.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <memory>
#include <stdexcept>

#include "common/crypto.h"
#include "os/file_util.h"

namespace berth::image::oci_test {

TarEntry file(std::string name, std::string data, mode_t perm) {
  return {std::move(name), AE_IFREG, std::move(data), "", perm};
}
TarEntry dir(std::string name, mode_t perm) { return {std::move(name), AE_IFDIR, "", "", perm}; }
TarEntry symlink(std::string name, std::string target) {
  return {std::move(name), AE_IFLNK, std::move(target), "", 0777};
}
TarEntry hardlink(std::string name, std::string target) {
  return {std::move(name), AE_IFREG, "", std::move(target), 0644};
}
TarEntry node(std::string name, unsigned type) { return {std::move(name), type, "", "", 0666}; }

namespace {
la_ssize_t appendTo(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}
}  // namespace

std::string makeTar(const std::vector<TarEntry>& entries, Compression compression) {
  std::string out;
  std::unique_ptr<archive, int (*)(archive*)> a(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  if (compression == Compression::kGzip) archive_write_add_filter_gzip(a.get());
  if (compression == Compression::kZstd) archive_write_add_filter_zstd(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, appendTo, nullptr) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a.get()));
  }
  for (const auto& e : entries) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                   archive_entry_free);
    archive_entry_set_pathname(entry.get(), e.name.c_str());
    archive_entry_set_filetype(entry.get(), e.type);
    archive_entry_set_perm(entry.get(), e.perm);
    archive_entry_set_uid(entry.get(), e.uid);
    archive_entry_set_gid(entry.get(), e.gid);
    archive_entry_set_mtime(entry.get(), 1'700'000'000, 0);
    if (!e.hardlink.empty()) archive_entry_set_hardlink(entry.get(), e.hardlink.c_str());
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry.get(), e.data.c_str());
    if (e.type == AE_IFCHR || e.type == AE_IFBLK) {
      archive_entry_set_rdev(entry.get(), makedev(1, 3));
    }
    const bool has_data = e.type == AE_IFREG && e.hardlink.empty();
    archive_entry_set_size(entry.get(), has_data ? static_cast<la_int64_t>(e.data.size()) : 0);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_string(a.get()));
    }
    if (has_data && !e.data.empty()) archive_write_data(a.get(), e.data.data(), e.data.size());
  }
  archive_write_close(a.get());
  return out;
}

void writeFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

Descriptor addBlob(const std::string& dir, const std::string& media_type,
                   const std::string& bytes) {
  Descriptor d{media_type, "sha256:" + sha256Hex(bytes), bytes.size()};
  (void)os::makeDirs(dir + "/blobs/sha256");
  writeFile(dir + "/blobs/sha256/" + d.digest.substr(7), bytes);
  return d;
}

namespace {
nlohmann::json toJson(const Descriptor& d) {
  return {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
}
}  // namespace

Descriptor writeOciLayout(const std::string& dir, const std::vector<Layer>& layers,
                          const nlohmann::json& config, const std::vector<std::string>& diff_ids) {
  nlohmann::json config_doc = {
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config", config},
      {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}}};
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"}};
  manifest["layers"] = nlohmann::json::array();
  for (const auto& layer : layers) {
    config_doc["rootfs"]["diff_ids"].push_back("sha256:" +
                                               sha256Hex(makeTar(layer, Compression::kNone)));
    const std::string blob = makeTar(layer, Compression::kGzip);
    manifest["layers"].push_back(
        toJson(addBlob(dir, "application/vnd.oci.image.layer.v1.tar+gzip", blob)));
  }
  if (!diff_ids.empty()) config_doc["rootfs"]["diff_ids"] = diff_ids;
  manifest["config"] =
      toJson(addBlob(dir, "application/vnd.oci.image.config.v1+json", config_doc.dump()));
  const Descriptor m = addBlob(dir, "application/vnd.oci.image.manifest.v1+json", manifest.dump());
  writeFile(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  writeFile(dir + "/index.json",
            nlohmann::json{{"schemaVersion", 2}, {"manifests", {toJson(m)}}}.dump());
  return m;
}

}  // namespace berth::image::oci_test
