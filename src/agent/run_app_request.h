#pragma once
// The run_app request for one instance of an app (docs/guest-protocol.md): its command and
// environment, its secrets, the image it runs from, a container's image config and limits, the
// port it listens on ($PORT, by slot) and its health check.

#include <optional>

#include "agent/image_delivery.h"
#include "agent/instance.h"
#include "common/guest_messages.h"
#include "common/result.h"
#include "model/node_protocol.h"

namespace berth::agent {

// `image` is what was offered to the VM for the app (none for a process app that runs what its
// VM has). `replace`: init stops the app's other instances first. InvalidArgument for an app
// that cannot be run as assigned (a malformed secret, no command, a health check that needs a
// port it has not).
Result<guest::RunAppRequest> runAppRequest(const model::AppAssignment& app, const Instance& instance, bool replace,
                                           const std::optional<OfferedImage>& image);

}  // namespace berth::agent
