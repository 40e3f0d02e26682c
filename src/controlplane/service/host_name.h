#pragma once
// The one check of a host name berthd is given: a project's domain (DomainService) and the
// operator's --base-domain. Names are compared in one form, so "Shop.Example.com." and
// "shop.example.com" are the same name.

#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::controlplane {

// `text` lowercased and without its trailing dot, if it is a host name berthd can route: labels
// of 1-63 characters of [a-z0-9-] that neither start nor end with '-', at least two of them, 253
// characters in all; not a wildcard, not an IP address, not under ".internal" (the project
// networks' own names). InvalidArgument saying what is wrong with it, naming it as `what`
// ("domain 'x'", "--base-domain 'x'").
Result<std::string> normalizeHostName(std::string_view text, const std::string& what);

// Whether `name` is `domain` itself or a name under it ("a.b.example.com" is under "example.com",
// "badexample.com" is not). Both in normalized form.
bool isWithinDomain(std::string_view name, std::string_view domain);

}  // namespace berth::controlplane
