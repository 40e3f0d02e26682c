#pragma once
// How people reach an app, as the API shows it and `berth app show` and `berth deploy` print it:
// the host names the nodes' ingress routes to it, https://<name> for each (with the ingress's
// port where that is not 443), and http://<node>:<host_port> for each TCP port it publishes.

#include <string>
#include <vector>

#include "common/result.h"
#include "store/store.h"

namespace berth::controlplane {

// Fills `app.domains` and `app.urls` in the caller's transaction. `nodes` are the fleet's (read
// once for a page of apps). The HTTPS port is that of the ingress of a node the app runs on, else
// of any node with an ingress, else 443. Published ports are shown on each node the app runs on,
// by the node's registered address, or 127.0.0.1 where it gave none.
Status fillAppUrls(store::Tx& tx, const std::string& base_domain,
                   const std::vector<store::Node>& nodes, store::App& app);

}  // namespace berth::controlplane
