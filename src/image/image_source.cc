#include "image/image_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>

#include "os/run_command.h"
#include "os/file_util.h"

namespace berth::image {
namespace {

constexpr std::string_view kRegistryPrefix = "docker://";

std::string archiveMessage(archive* a) {
  const char* message = archive_error_string(a);
  return message ? message : "unknown error";
}

std::string topLevelName(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  return name;
}

Result<SourceKind> detectArchive(const std::string& path) {
  std::unique_ptr<archive, int (*)(archive*)> in(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_none(in.get());
  if (archive_zlib_version() != nullptr) archive_read_support_filter_gzip(in.get());
  if (archive_read_open_filename(in.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return invalidArgument("'" + path + "' is not a tar archive: " + archiveMessage(in.get()));
  }
  bool docker = false;
  archive_entry* entry = nullptr;
  int r;
  // Headers only: libarchive skips (seeks over) the data of a plain tar.
  while ((r = archive_read_next_header(in.get(), &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    const std::string name =
        topLevelName(archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "");
    if (name == "oci-layout" || name == "index.json") return SourceKind::kOciArchive;
    docker = docker || name == "manifest.json";
  }
  if (r != ARCHIVE_EOF) {
    return invalidArgument("'" + path +
                           "' is not a readable tar archive: " + archiveMessage(in.get()));
  }
  if (docker) return SourceKind::kDockerArchive;
  return invalidArgument("'" + path +
                         "' is neither an OCI archive nor a docker archive (no oci-layout, "
                         "index.json or manifest.json at its top)");
}

}  // namespace

Result<SourceKind> detectSource(const std::string& source) {
  if (source.starts_with(kRegistryPrefix)) {
    if (source.size() == kRegistryPrefix.size()) {
      return invalidArgument("'docker://' names no image");
    }
    return SourceKind::kRegistry;
  }
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) {
    return notFound("image source '" + source + "' does not exist");
  }
  if (S_ISDIR(st.st_mode)) {
    if (!os::pathExists(source + "/oci-layout") || !os::pathExists(source + "/index.json")) {
      return invalidArgument("directory '" + source +
                             "' is not an OCI layout (no oci-layout or index.json)");
    }
    return SourceKind::kOciLayout;
  }
  if (!S_ISREG(st.st_mode)) {
    return invalidArgument("image source '" + source + "' is neither a file nor a directory");
  }
  return detectArchive(source);
}

Result<std::string> ociLayoutFor(const std::string& source, const std::string& scratch,
                                 const std::string& skopeo) {
  BERTH_ASSIGN_OR_RETURN(SourceKind kind, detectSource(source));
  std::string from;
  switch (kind) {
    case SourceKind::kOciLayout:
      return source;
    case SourceKind::kRegistry:
      from = source;
      break;
    case SourceKind::kOciArchive:
      from = "oci-archive:" + source;
      break;
    case SourceKind::kDockerArchive:
      from = "docker-archive:" + source;
      break;
  }
  // skopeo splits "transport:path:reference" at the first colon after the transport.
  const std::string layout = scratch + "/layout";
  for (const std::string& path : {kind == SourceKind::kRegistry ? std::string() : source, layout}) {
    if (path.find(':') != std::string::npos) {
      return invalidArgument("skopeo cannot take a path with ':' in it: '" + path + "'");
    }
  }
  // --tmpdir: an archive is extracted there first, and `scratch` is on the cache's file system and
  // removed with it.
  std::vector<std::string> argv = {skopeo, "--insecure-policy", "--tmpdir", scratch, "--override-os", "linux",
                                   "--override-arch", "amd64", "copy", "--quiet"};
  // An OCI archive is already in the layout's format: its manifest digest, the image's identity
  // people know it by, is kept. Docker archives and registry manifests are converted, which
  // gives a new manifest and digest.
  if (kind == SourceKind::kOciArchive) argv.push_back("--preserve-digests");
  argv.push_back(from);
  argv.push_back("oci:" + layout);
  BERTH_RETURN_IF_ERROR(os::runCommand(argv).withContext("cannot convert '" + source + "' into an OCI layout"));
  return layout;
}

}  // namespace berth::image
