#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <ostream>

#include "cli/bundle.h"
#include "cli/context.h"
#include "cli/image_import.h"
#include "cli/resource_commands.h"

namespace berth::cli {

namespace {
std::string imagesPath(const ResourceArgs& args) { return projectObjectPath("images", args); }

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// An OCI layout directory is sent as a tar of itself (what skopeo calls an oci-archive); an
// archive file as it is; a registry reference is fetched by berthd.
Result<std::string> uploadSource(client::ApiClient& api, Context& ctx, const std::string& project, const std::string& source) {
  if (source.rfind("docker://", 0) == 0) return source;
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) {
    return invalidArgument("'" + source + "' is neither a file, a directory nor docker://REF");
  }
  std::string bytes;
  if (S_ISDIR(st.st_mode)) {
    BERTH_ASSIGN_OR_RETURN(bytes, packDirectory(source));
  } else {
    std::ifstream in(source, std::ios::binary);
    if (!in) return invalidArgument("cannot read '" + source + "'");
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (!ctx.json) ctx.err() << "Uploading " << source << " (" << mib(bytes.size()) << ")\n";
  BERTH_ASSIGN_OR_RETURN(client::ApiResponse r, api.postBytes("/v1/projects/" + client::urlEncode(project) + "/blobs",
                                                      "application/x-tar", bytes));
  return r.body.value("digest", "");
}

void printProgress(Context& ctx, const nlohmann::json& p) {
  const std::string phase = p.value("phase", "");
  if (phase == "unpack") {
    ctx.err() << "  unpack layer " << p.value("layer", 0) << "/" << p.value("layers", 0) << " ("
              << mib(p.value("bytes", std::uint64_t{0})) << " of " << mib(p.value("total_bytes", std::uint64_t{0}))
              << ")\n";
  } else if (phase != "done") {
    ctx.err() << "  " << phase << "\n";
  }
}
}  // namespace

Result<nlohmann::json> importWithProgress(Context& ctx, client::ApiClient& api, const std::string& project, const std::string& source) {
  BERTH_ASSIGN_OR_RETURN(std::string uploaded, uploadSource(api, ctx, project, source));
  client::StreamRequest request{"POST", imagesPath({.project = project}), nlohmann::json{{"source", uploaded}}, ""};
  std::optional<nlohmann::json> done;
  Status failed = Status::ok();
  BERTH_RETURN_IF_ERROR(api.stream(request, [&](const client::SseEvent& e) {
    auto data = nlohmann::json::parse(e.data, nullptr, false);
    if (data.is_discarded()) return true;
    if (e.event == "progress" && !ctx.json) printProgress(ctx, data);
    if (e.event == "done") done = data;
    if (e.event == "error") {
      failed = client::apiError(422, data);
      return false;
    }
    return e.event != "done";
  }));
  BERTH_RETURN_IF_ERROR(failed);
  if (!done) return unavailable("the import ended without a result; see `berth image ls`");
  return *done;
}

void addImageCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* image = app.add_subcommand("image", "Import and list OCI images");
  image->require_subcommand(1);
  struct Options {
    std::string project, source;
  };
  auto o = std::make_shared<Options>();

  auto* import = image->add_subcommand("import", "Import an image: converted once, cached by its manifest digest");
  import->add_option("source", o->source, "An OCI layout directory, an OCI or docker archive, or docker://REF")
      ->required();
  addProjectOption(import, o->project);
  import->footer("EXAMPLES:\n  berth image import ./my-image-oci --project demo      # skopeo copy … oci:./my-image-oci\n"
                 "  docker save app:1 > app.tar && berth image import app.tar --project demo\n"
                 "  berth image import docker://docker.io/library/nginx:1.25 --project demo");
  import->callback([&, o] {
    action = [&, o]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto client, ctx.client());
      BERTH_ASSIGN_OR_RETURN(auto imported, importWithProgress(ctx, *client, o->project, o->source));
      ctx.print(imported, [&] {
        ctx.out() << (imported.value("cached", false) ? "Already imported (cached, no work): " : "Imported ")
                  << str(imported["digest"]) << "\n  root file system " << str(imported["rootfs_digest"]) << " ("
                  << mib(imported.value("rootfs_size", std::uint64_t{0})) << ")\n";
      });
      return Status::ok();
    };
  });

  ResourceCommands images(image, ctx, action, {.in_project = true, .path = imagesPath});
  images.list({"List a project's images", "EXAMPLES:\n  berth image ls --project demo"},
              {"DIGEST", "SOURCE", "ROOTFS", "IMPORTED"},
              [](const nlohmann::json& i) -> Result<Row> {
                return Row{str(i["digest"]).substr(0, 19), str(i["source"]).substr(0, 40),
                           mib(i.value("rootfs_size", std::uint64_t{0})), shortTime(i["created_at"])};
              },
              {.paged = false});
}

}  // namespace berth::cli
