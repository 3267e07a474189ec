// The HTTP API's views of the node's network (api/node_api.hpp), built from the connection
// manager and the peer manager: the peers, the address book and manual peers, the bans.
// Kept apart from node.cpp, which only wires.
//
// Thread-safety: as the ConnMan and PeerManager queries they call (any thread).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "api/node_api.hpp"
#include "net/connman/connman.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "util/result.hpp"

namespace peerchain::node {

std::vector<api::PeerView> peer_views(const net::peer_manager::PeerManager& peers,
                                      const net::connman::ConnMan& connman);

// At most `limit` addresses of the book (tried ones first), its counts, the manual peers.
api::BookView book_view(net::connman::ConnMan& connman, std::size_t limit);

std::vector<api::BanView> ban_views(net::connman::ConnMan& connman);

// ConnMan::ban, as the API shows it.
util::Result<api::BanView> ban(net::connman::ConnMan& connman, const std::string& address,
                               std::int64_t seconds);

// ConnMan::unban: kNotFound when there was no such ban.
util::Result<void> unban(net::connman::ConnMan& connman, const std::string& address);

}  // namespace peerchain::node
