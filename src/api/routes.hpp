// The node's HTTP routes: blocks, mining, peers and status (docs/API.md lists each with an
// example). Reads are open to anyone who can reach the port; mining and adding peers need
// a loopback client or the cookie token (see auth.hpp).
#pragma once

#include "api/node_api.hpp"
#include "api/router.hpp"

namespace peerchain::api {

inline constexpr std::uint32_t kMaxBlocksPerAnswer = 1000;

// Registers every route on `router`. `node` must outlive the router.
void register_routes(Router& router, NodeApi& node);

}  // namespace peerchain::api
