#pragma once
// Where an image comes from. Only an OCI layout directory is read directly; everything else is
// converted into one by `skopeo copy` (containers/image does the formats and the registry
// protocol; we read one format).

#include <string>

#include "common/result.h"

namespace berth::image {

enum class SourceKind {
  kOciLayout,      // a directory with oci-layout and index.json
  kOciArchive,     // a tar of such a directory
  kDockerArchive,  // `docker save` output: manifest.json at the top
  kRegistry,       // "docker://REF"
};

// Tells what `source` is: "docker://…" is a registry reference; a directory must be an OCI
// layout; a file is looked into (its top-level names, not its file name): one with oci-layout or
// index.json is an OCI archive (Docker 25's `docker save` writes both, and OCI is preferred),
// else one with manifest.json a docker archive. Anything else is InvalidArgument.
Result<SourceKind> detectSource(const std::string& source);

// An OCI layout directory holding `source`'s image: `source` itself for a layout directory, else
// `scratch`/layout (`scratch` must exist; the caller removes it), written by `skopeo copy
// --insecure-policy` run as `skopeo` — a registry is only contacted for a docker:// source.
// Trust is not skopeo's business here: every blob is verified when it is read.
Result<std::string> ociLayoutFor(const std::string& source, const std::string& scratch,
                                 const std::string& skopeo);

}  // namespace berth::image
