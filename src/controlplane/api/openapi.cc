#include "controlplane/api/openapi.h"

#include "controlplane/api/openapi_text.h"

namespace berth::controlplane {

const nlohmann::json& openApiDocument() {
  // Parsed once; the build checked it is valid JSON (a malformed file fails the unit tests).
  static const nlohmann::json kDocument = nlohmann::json::parse(kOpenApiText, nullptr, false);
  return kDocument;
}

}  // namespace berth::controlplane
