#include "controlplane/service/image_service.h"

namespace berth::controlplane {

Status checkImageImported(store::Tx& tx, const std::string& project, const model::AppSpec& spec) {
  if (spec.kind != "container") return Status::ok();
  auto image = tx.getImage(project, spec.image);
  if (image.isOk() || image.status().code() != StatusCode::kNotFound) return image.status();
  return invalidArgument("image '" + spec.image + "' was not imported into project '" + project +
                         "'; import it first: berth image import SOURCE");
}

Status ImageService::authorizeImport(const Principal& who, const std::string& project) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kDeploy, "project '" + project + "'"));
  if (!importer_) return unavailable("this berthd cannot import images");
  return ctx_.store.read([&](store::Tx& tx) { return tx.getProject(project).status(); });
}

Result<std::pair<store::Image, bool>> ImageService::import(const Principal& who, const std::string& project,
                                                          const std::string& source, const std::string& source_label,
                                                          const std::function<void(const ImportStep&)>& progress) {
  BERTH_RETURN_IF_ERROR(authorizeImport(who, project));
  BERTH_ASSIGN_OR_RETURN(ImportResult imported, importer_->import(source, progress));
  store::Image image{project,           imported.digest,       imported.config_json, imported.rootfs_digest,
                     imported.rootfs_size, source_label,       ctx_.clock.wallMillis(),  who.token_id};
  bool known = false;
  BERTH_RETURN_IF_ERROR(ctx_.store.write([&](store::Tx& tx) {
    auto existing = tx.getImage(project, image.digest);
    if (existing.isOk()) {
      image = std::move(existing).value();
      known = true;
      return Status::ok();
    }
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
    BERTH_RETURN_IF_ERROR(tx.insertImage(image));
    return tx.appendEvent(ctx_.event(who, "image.import", project, "projects/" + project + "/images/" + image.digest,
                                     {{"source", source_label}, {"cached", imported.cached}}))
        .status();
  }));
  return std::make_pair(image, imported.cached || known);
}

Result<std::vector<store::Image>> ImageService::list(const Principal& who, const std::string& project) {
  BERTH_RETURN_IF_ERROR(authorize(who, project, Access::kRead, "project '" + project + "'"));
  return ctx_.listInProject(project, [&](store::Tx& tx) { return tx.listImages(project); });
}

}  // namespace berth::controlplane
