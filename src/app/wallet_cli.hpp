// `peerchain wallet ...`: the client side of the node wallet's HTTP routes, as bitcoin-cli
// is for bitcoind. It finds the running node through its data directory (node.json for the
// port, .cookie for the token), sends one request and prints the answer.
//
//   address            GET  /wallet/address          -> {"address"}
//   newaddress         POST /wallet/address          -> {"address"}
//   balance            GET  /wallet/balance          -> {"confirmed", "pending", "immature"}
//   utxos              GET  /wallet/utxos            -> [{"txid", "index", "amount", ...}]
//   send TO AMOUNT     POST /wallet/send {"to", "amount", "data"?, "feeRate"?, "coins"?}
//                      -> {"txid", "fee"}: the txid alone on stdout, the fee on stderr
//
// Amounts on the wire are integers of base units; on the command line they are whole
// coins with up to 8 decimals, parsed exactly (wallet/amount_text.hpp).
//
// Thread-safety: pure functions, and run_wallet(), which does one blocking request.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/client/http_client.hpp"
#include "core/params.hpp"
#include "util/result.hpp"

namespace peerchain::app {

struct WalletCommand {
    enum class Kind { kAddress, kNewAddress, kBalance, kUtxos, kSend };
    Kind kind = Kind::kAddress;
    // kSend only.
    std::string to;
    std::string amount;  // as typed: whole coins, e.g. "10" or "0.5"
    std::optional<std::string> data;
    std::optional<std::int64_t> fee_rate;  // base units per byte
    std::vector<std::string> coins;        // --coin TXID:INDEX, as typed
};

struct WalletCliOptions {
    std::filesystem::path data_dir;          // the node's
    std::optional<std::uint16_t> http_port;  // --http-port: wins over node.json
    std::optional<std::uint16_t> env_port;   // HTTP_PORT: used when node.json is absent
    bool json = false;                       // print the raw answer
    std::chrono::milliseconds timeout{60'000};
};

// What the client needs from <data-dir>/node.json.
struct NodeInfo {
    std::string network;
    std::string http_bind;  // empty when absent
    std::uint16_t http_port = 0;
};

// Parses node.json. kDecode when it is not a JSON object with an integer httpPort in
// 1..65535.
util::Result<NodeInfo> parse_node_info(std::string_view text);

// The host to connect to for a node that binds `bind`: loopback for the wildcard
// addresses (and when unknown), else the address itself.
std::string connect_host(std::string_view bind);

// The request for `command`. kInvalidArgument with a message for the user when the amount
// does not parse or is zero.
util::Result<api::client::HttpRequest> make_request(const WalletCommand& command);

// What to print for a 2xx answer with `body`, ending in a newline. Falls back to the body
// itself when it does not have the expected shape.
std::string format_answer(const WalletCommand& command, std::string_view body);

// For a payment: the line for stderr beside the txid on stdout ("fee 0.00000280\n"), or
// empty when the answer has no fee.
std::string format_send_note(std::string_view body);

struct CliOutcome {
    int exit_code = 0;  // 0 ok, 1 the node refused or could not be reached, 2 bad usage
    std::string out;    // for stdout
    std::string err;    // for stderr: an error
    std::string note;   // for stderr: not an error (a payment's fee)
};

// The node a client command talks to: its address (port from --http-port, else node.json,
// else HTTP_PORT, else 3001), where the port came from (for messages) and the cookie token.
struct NodeEndpoint {
    api::client::HttpClientOptions client;
    std::string port_source;
    std::optional<std::string> token;
};
NodeEndpoint find_node(const WalletCliOptions& options);

// The one line (ending in a newline) that says why the node could not be reached.
std::string unreachable_message(const util::Error& error, const NodeEndpoint& node,
                                const WalletCliOptions& options);

// Sends `request` (with the token) to the node. The 2xx answer; otherwise nullopt with
// outcome's exit code 1 and err set to one line (and, with options.json, out to the
// error body).
std::optional<api::client::HttpResponse> call_node(api::client::HttpRequest request,
                                                   const WalletCliOptions& options,
                                                   CliOutcome& outcome);

// Finds the node, sends the request and formats the answer or the error.
CliOutcome run_wallet(const WalletCommand& command, const WalletCliOptions& options);

}  // namespace peerchain::app
