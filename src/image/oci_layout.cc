#include "image/oci_layout.h"

#include <sys/stat.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "os/file_util.h"

namespace berth::image {
namespace {

using nlohmann::json;

// The image spec lets registries refuse manifests over 4 MiB; configs are of the same order.
constexpr std::uint64_t kMaxJsonBlob = 4 << 20;

constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

bool isIndex(const std::string& media_type) {
  return media_type == kOciIndex || media_type == kDockerList;
}

bool isLayer(const std::string& media_type) {
  return media_type.starts_with("application/vnd.oci.image.layer.") ||
         media_type.starts_with("application/vnd.docker.image.rootfs.");
}

// Throws nlohmann's exceptions on a descriptor of the wrong shape (parseJson catches them).
Result<Descriptor> descriptorFrom(const json& j) {
  Descriptor d{j.value("mediaType", std::string()), j.at("digest").get<std::string>(),
               j.at("size").get<std::uint64_t>()};
  if (!isSha256Digest(d.digest)) return invalidArgument("unsupported digest '" + d.digest + "'");
  return d;
}

std::vector<std::string> stringList(const json& obj, const char* key) {
  if (!obj.contains(key) || obj.at(key).is_null()) return {};
  return obj.at(key).get<std::vector<std::string>>();
}

// Parses `text` with `parse`, whose errors, and every JSON or shape error, are InvalidArgument
// about `what`.
template <typename T, typename Fn>
Result<T> parseJson(const std::string& text, const std::string& what, Fn parse) {
  try {
    Result<T> parsed = parse(json::parse(text));
    if (!parsed.isOk()) return parsed.status().withContext(what);
    return parsed;
  } catch (const json::exception& e) {
    return invalidArgument(what + " is malformed: " + e.what());
  }
}

struct Candidate {
  Descriptor descriptor;
  std::string platform;  // "os/architecture", empty when the index does not say
};

// Picks the image to import among an index's manifests.
Result<Descriptor> pickManifest(const std::vector<Candidate>& candidates) {
  if (candidates.empty()) return invalidArgument("it lists no image");
  if (candidates.size() == 1) return candidates[0].descriptor;
  std::vector<Descriptor> amd64;
  std::string listed;
  for (const auto& c : candidates) {
    if (c.platform == "linux/amd64") amd64.push_back(c.descriptor);
    listed +=
        (listed.empty() ? "" : ", ") + (c.platform.empty() ? std::string("unknown") : c.platform);
  }
  if (amd64.size() == 1) return amd64[0];
  return invalidArgument("it lists " + std::to_string(candidates.size()) + " images (" + listed +
                         ") and " + std::to_string(amd64.size()) +
                         " of them for linux/amd64; exactly one is needed");
}

Result<Descriptor> manifestFromIndex(const std::string& text, const std::string& what) {
  return parseJson<Descriptor>(text, what, [&](const json& index) -> Result<Descriptor> {
    std::vector<Candidate> candidates;
    for (const auto& m : index.at("manifests")) {
      BERTH_ASSIGN_OR_RETURN(Descriptor descriptor, descriptorFrom(m));
      Candidate c{std::move(descriptor), ""};
      if (m.contains("platform")) {
        c.platform = m["platform"].value("os", "") + "/" + m["platform"].value("architecture", "");
      }
      candidates.push_back(std::move(c));
    }
    return pickManifest(candidates);
  });
}

struct ManifestContent {
  Descriptor config;
  std::vector<Descriptor> layers;
};

Result<ManifestContent> parseManifest(const std::string& text, const std::string& what) {
  return parseJson<ManifestContent>(text, what, [&](const json& m) -> Result<ManifestContent> {
    ManifestContent content;
    BERTH_ASSIGN_OR_RETURN(content.config, descriptorFrom(m.at("config")));
    for (const auto& layer_json : m.at("layers")) {
      BERTH_ASSIGN_OR_RETURN(Descriptor layer, descriptorFrom(layer_json));
      if (!isLayer(layer.media_type)) {
        return invalidArgument("a layer has the unsupported media type '" + layer.media_type + "'");
      }
      content.layers.push_back(std::move(layer));
    }
    return content;
  });
}

Result<ImageConfig> parseConfig(const std::string& text, const std::string& what) {
  return parseJson<ImageConfig>(text, what, [&](const json& doc) -> Result<ImageConfig> {
    const std::string os = doc.value("os", "linux");
    const std::string arch = doc.value("architecture", "amd64");
    if (os != "linux" || arch != "amd64") {
      return invalidArgument("the image is built for " + os + "/" + arch +
                             "; only linux/amd64 runs here");
    }
    ImageConfig config;
    if (!doc.contains("config") || doc["config"].is_null()) return config;
    const json& c = doc["config"];
    config.entrypoint = stringList(c, "Entrypoint");
    config.cmd = stringList(c, "Cmd");
    config.env = stringList(c, "Env");
    if (c.contains("WorkingDir")) config.working_dir = c["WorkingDir"].get<std::string>();
    if (c.contains("User")) config.user = c["User"].get<std::string>();
    if (c.contains("ExposedPorts") && c["ExposedPorts"].is_object()) {
      for (const auto& [port, ignored] : c["ExposedPorts"].items()) {
        config.exposed_ports.push_back(port);
      }
    }
    std::sort(config.exposed_ports.begin(), config.exposed_ports.end());
    return config;
  });
}

Result<std::vector<std::string>> parseDiffIds(const std::string& text, std::size_t layers, const std::string& digest) {
  const json doc = json::parse(text, nullptr, false);
  std::vector<std::string> ids;
  if (!doc.is_object() || !doc.contains("rootfs") || !doc["rootfs"].is_object()) return ids;
  const json list = doc["rootfs"].value("diff_ids", json::array());
  for (const json& id : list) {
    if (!id.is_string() || !isSha256Digest(id.get<std::string>())) {
      return invalidArgument("config " + digest + " lists a malformed diff_id");
    }
    ids.push_back(id.get<std::string>());
  }
  if (ids.size() != layers) {
    return invalidArgument("config " + digest + " lists " + std::to_string(ids.size()) + " diff_ids for " +
                           std::to_string(layers) + " layers");
  }
  return ids;
}

Result<std::string> readBlob(const OciImage& image, const Descriptor& blob) {
  return readSmallBlob(image.blobPath(blob), blob, kMaxJsonBlob);
}

}  // namespace

std::string OciImage::blobPath(const Descriptor& blob) const {
  return layout_dir + "/blobs/sha256/" + blob.digest.substr(std::string_view("sha256:").size());
}

Result<OciImage> readOciLayout(const std::string& dir) {
  OciImage image;
  image.layout_dir = dir;
  const std::string index_path = dir + "/index.json";
  struct stat st {};
  if (::stat(index_path.c_str(), &st) == 0 &&
      static_cast<std::uint64_t>(st.st_size) > kMaxJsonBlob) {
    return invalidArgument("index.json is larger than " + std::to_string(kMaxJsonBlob) + " bytes");
  }
  BERTH_ASSIGN_OR_RETURN(std::string index, os::readFile(index_path));
  BERTH_ASSIGN_OR_RETURN(image.manifest, manifestFromIndex(index, "index.json"));
  if (isIndex(image.manifest.media_type)) {
    const std::string what = "image index " + image.manifest.digest;
    BERTH_ASSIGN_OR_RETURN(std::string nested, readBlob(image, image.manifest));
    BERTH_ASSIGN_OR_RETURN(image.manifest, manifestFromIndex(nested, what));
  }
  if (image.manifest.media_type != kOciManifest && image.manifest.media_type != kDockerManifest) {
    return invalidArgument("unsupported manifest media type '" + image.manifest.media_type + "'");
  }
  BERTH_ASSIGN_OR_RETURN(std::string manifest, readBlob(image, image.manifest));
  BERTH_ASSIGN_OR_RETURN(ManifestContent content,
                         parseManifest(manifest, "manifest " + image.manifest.digest));
  image.config_blob = std::move(content.config);
  image.layers = std::move(content.layers);
  BERTH_ASSIGN_OR_RETURN(std::string config, readBlob(image, image.config_blob));
  BERTH_ASSIGN_OR_RETURN(image.config, parseConfig(config, "config " + image.config_blob.digest));
  BERTH_ASSIGN_OR_RETURN(image.diff_ids, parseDiffIds(config, image.layers.size(), image.config_blob.digest));
  return image;
}

}  // namespace berth::image
