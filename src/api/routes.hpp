// The node's HTTP routes: blocks, mining, peers and the address book, bans, status,
// transactions, addresses, the pool and the wallet (docs/API.md lists each with an
// example). Reads and submitting a transaction are open to anyone who can reach the port;
// mining and adding or removing peers need a loopback client or the cookie token; the
// ban and wallet routes need the token always (see auth.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/node_api.hpp"
#include "api/response.hpp"
#include "api/router.hpp"

namespace peerchain::api {

inline constexpr std::uint32_t kMaxBlocksPerAnswer = 1000;
// POST /mineBlock {"count": N}: at most this many blocks in one request.
inline constexpr std::uint32_t kMaxMineCount = 1000;
// GET /peers/known?limit=: the default, and the most (the whole book of a default node:
// (256 new + 64 tried buckets) x 64 slots).
inline constexpr std::size_t kDefaultKnownAddresses = 1000;
inline constexpr std::size_t kMaxKnownAddresses = 20480;
// The longest peer URL, host:port or ban address a client may send (a peer URL's own
// bound: a 253-byte DNS name with its scheme, port and path fits).
inline constexpr std::size_t kMaxPeerAddressLength = 512;
// The longest ban, in seconds: ten years of 365 days, the ban list's own bound.
inline constexpr std::int64_t kMaxBanSeconds = 10LL * 365 * 24 * 60 * 60;

// 503 index-disabled: the node runs with --no-index (Chainstate::has_indexes() is false)
// and the route needs an index; `message` says which and why.
Response index_disabled(std::string_view message);

// Registers every route on `router`. `node` must outlive the router.
void register_routes(Router& router, NodeApi& node);

// The routes of one area each (peer_routes.cpp, transaction_routes.cpp, wallet_routes.cpp,
// event_routes.cpp);
// register_routes calls them.
void add_peer_routes(Router& router, NodeApi& node);
void add_transaction_routes(Router& router, NodeApi& node);
void add_wallet_routes(Router& router, NodeApi& node);
// GET /events (event_stream.cpp).
void add_event_routes(Router& router, NodeApi& node);

}  // namespace peerchain::api
