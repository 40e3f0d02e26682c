#pragma once
// Requests on a guest channel in their typed form (common/guest_messages.h): the request is
// encoded as its body, and the reply's result is decoded into the reply struct.

#include <chrono>
#include <string>

#include "agent/guest_channel/guest_channel.h"
#include "common/guest_messages.h"
#include "common/result.h"

namespace berth::agent {

// Sends `request` and decodes its reply as Reply. A result that does not decode (a guest that
// answers out of protocol) is an InvalidArgument naming the field, like any failed call.
template <typename Reply, typename Request>
Result<Reply> callGuest(GuestChannel& channel, const Request& request, std::chrono::milliseconds timeout) {
  BERTH_ASSIGN_OR_RETURN(nlohmann::json result, channel.call(std::string(Request::kType), request.encode(), timeout));
  return Reply::decode(result);
}

}  // namespace berth::agent
