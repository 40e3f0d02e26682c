#pragma once
// Images of a project. Importing needs a deployer; the work (which may take minutes) runs in
// the caller's thread through the ImageImporter (image_importer.h) and reports its steps to
// `progress`. Importing an image the project already has, or one berthd converted for another
// project, does no conversion (`cached`). A container app may run only an imported image.
//
// Thread-safe once configured: all state lives in the Store; give the importer
// (useImporter) before the first call.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "controlplane/service/image_importer.h"
#include "controlplane/service/service_context.h"
#include "model/app_spec.h"

namespace berth::controlplane {

class ImageService {
 public:
  // `context` must outlive this.
  explicit ImageService(const ServiceContext& context) : ctx_(context) {}

  // What imports images. Without one, imports answer Unavailable. Not owned; must outlive this.
  void useImporter(ImageImporter* importer) { importer_ = importer; }

  // Checked before an import starts streaming, so a refusal is a plain 4xx.
  Status authorizeImport(const Principal& who, const std::string& project);
  // The image and whether it was cached.
  Result<std::pair<store::Image, bool>> import(const Principal& who, const std::string& project,
                                               const std::string& source, const std::string& source_label,
                                               const std::function<void(const ImportStep&)>& progress);
  Result<std::vector<store::Image>> list(const Principal& who, const std::string& project);

 private:
  const ServiceContext& ctx_;
  ImageImporter* importer_ = nullptr;
};

// A container app's image must have been imported into its project (InvalidArgument saying how
// to import it otherwise), checked in the caller's transaction.
Status checkImageImported(store::Tx& tx, const std::string& project, const model::AppSpec& spec);

}  // namespace berth::controlplane
