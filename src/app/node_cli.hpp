// The client commands over a running node's HTTP API, as bitcoin-cli is for bitcoind. They
// find the node as `peerchain wallet` does (app/wallet_cli.hpp: node.json for the port,
// .cookie for the token), send one request and print a table, or with --json the API's
// JSON as it is:
//
//   status               GET  /status
//   peers                GET  /peers
//   block HEIGHT|HASH    GET  /blocks/{id}
//   tx TXID              GET  /transactions/{txid}
//   mempool              GET  /mempool
//   mine [N] [--to ADDR] POST /mineBlock {"count": N, "to"?}
//   addpeer URL          POST /addPeer {"peer": URL}
//
// `peerchain events` follows GET /events (app/events_cli.hpp).
//
// A node that is not running, or an answer that is an error, gives one line on stderr and
// exit code 1.
//
// Thread-safety: pure functions, and run_node_command(), which does one blocking request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/client/http_client.hpp"
#include "app/wallet_cli.hpp"
#include "util/result.hpp"

namespace peerchain::app {

struct NodeCommand {
    enum class Kind { kStatus, kPeers, kBlock, kTx, kMempool, kMine, kAddPeer };
    Kind kind = Kind::kStatus;
    std::string id;           // kBlock: a height or hash; kTx: a txid; kAddPeer: a URL
    std::uint32_t count = 1;  // kMine
    std::string to;           // kMine: empty for the node's wallet
};

// The request for `command`; kInvalidArgument with a message for an argument that cannot
// be right whatever the node holds (a block id that is neither a height nor 64 hex digits,
// a txid that is not 64 hex digits, a count of 0).
util::Result<api::client::HttpRequest> make_node_request(const NodeCommand& command);

// The table for a 2xx answer with `body`, ending in a newline; the body itself when it does
// not have the expected shape.
std::string format_node_answer(const NodeCommand& command, std::string_view body);

// "2026-12-04 20:46:30 UTC" for Unix seconds.
std::string format_time(std::int64_t unix_seconds);

// Finds the node, sends the request and formats the answer or the error.
CliOutcome run_node_command(const NodeCommand& command, const WalletCliOptions& options);

}  // namespace peerchain::app
