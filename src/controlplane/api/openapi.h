#pragma once
// The OpenAPI 3 document of the v1 API (src/controlplane/openapi.json, compiled in).

#include <nlohmann/json.hpp>

namespace berth::controlplane {

const nlohmann::json& openApiDocument();

}  // namespace berth::controlplane
