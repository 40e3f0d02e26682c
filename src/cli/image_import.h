#pragma once
// `berth image import`'s work, shared with `berth deploy --image`: uploads a local source if it
// is one, has berthd import it and shows the progress on stderr.

#include <nlohmann/json.hpp>
#include <string>

#include "client/api_client.h"
#include "cli/context.h"

namespace berth::cli {

// The imported image as berthd describes it (`digest`, `cached`, …). `source` is an OCI layout
// directory, an OCI or docker archive, or docker://REF.
Result<nlohmann::json> importWithProgress(Context& ctx, client::ApiClient& api, const std::string& project, const std::string& source);

}  // namespace berth::cli
