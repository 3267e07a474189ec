// The node's HTTP routes: blocks, mining, peers, status, transactions, addresses, the pool
// and the wallet (docs/API.md lists each with an example). Reads and submitting a
// transaction are open to anyone who can reach the port; mining and adding peers need a
// loopback client or the cookie token; the wallet's routes need the token always (see
// auth.hpp).
#pragma once

#include "api/node_api.hpp"
#include "api/router.hpp"

namespace peerchain::api {

inline constexpr std::uint32_t kMaxBlocksPerAnswer = 1000;

// Registers every route on `router`. `node` must outlive the router.
void register_routes(Router& router, NodeApi& node);

// The routes of one area each (transaction_routes.cpp, wallet_routes.cpp); register_routes
// calls them.
void add_transaction_routes(Router& router, NodeApi& node);
void add_wallet_routes(Router& router, NodeApi& node);

}  // namespace peerchain::api
