#pragma once
// Object names are DNS labels so they can become hostnames, paths and nft set keys unescaped.

#include <string_view>

#include "common/status.h"

namespace berth {

// [a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?  `what` names the field in the error ("project name").
Status validateDnsLabel(std::string_view name, std::string_view what);

}  // namespace berth
