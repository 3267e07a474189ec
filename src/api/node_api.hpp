// NodeApi: what the HTTP routes need from the running node, declared here so that api/
// depends only on the modules below it; node/ implements it.
//
// Thread-safety: every member may be called from the HTTP server's threads concurrently.
// Callbacks may run on any thread (the chain executor, a miner thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/event_stream.hpp"
#include "chain/chainstate.hpp"
#include "chain/coin_stats.hpp"
#include "core/amount.hpp"
#include "core/block.hpp"
#include "core/transaction.hpp"
#include "core/validation.hpp"
#include "mempool/mempool.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::api {

struct PeerView {
    std::uint64_t id = 0;
    std::string address;    // "host:port" of the remote end
    std::string direction;  // "inbound" or "outbound"
    std::string url;        // the URL dialed (outbound), else empty
    std::string user_agent;
    bool handshake_done = false;
    std::uint32_t start_height = 0;    // the height the peer announced in its version
    std::int64_t synced_height = -1;   // the best block we know the peer has; -1: none
    std::int64_t connected_since = 0;  // unix seconds
    std::int64_t ping_ms = -1;         // last round trip; -1 before the first pong
    std::string transport;             // "ws" or "tcp"
    bool manual = false;               // a peer from --peers or /addPeer, redialed when it goes
};

// One entry of the address book.
struct KnownAddressView {
    std::string address;                  // "host:port" ("[v6]:port")
    std::vector<std::string> transports;  // "ws", "tcp"
    std::string url;                      // a URL to dial it, e.g. "ws://1.2.3.4:6001"
    // Where we learned it, e.g. "manual", "addr from 1.2.3.4:6001", "inbound", "self".
    std::string source;
    std::int64_t last_seen = 0;     // unix seconds
    std::int64_t last_tried = 0;    // 0: never
    std::int64_t last_success = 0;  // 0: never
    int attempts = 0;               // failed attempts since the last success
    bool tried = false;             // in the tried table (we connected to it), else new
};

// A peer the node keeps dialing (--peers, PEERS, /addPeer).
struct ManualPeerView {
    std::string url;
    bool connected = false;
    std::int64_t next_attempt = 0;  // unix s, 0 when connected
    int failures = 0;
};

struct BookView {
    std::vector<KnownAddressView> addresses;
    std::size_t new_count = 0, tried_count = 0, capacity = 0;
    std::vector<ManualPeerView> manual;
};

// A manual ban or a discouraged host.
struct BanView {
    std::string address;
    std::string kind;  // "banned" | "discouraged"
    std::int64_t created = 0;
    std::int64_t until = 0;
};

struct MiningView {
    bool continuous = false;  // --mine
    unsigned threads = 0;
    double hashes_per_second = 0;
    std::uint64_t blocks_found = 0;
    std::size_t queued_requests = 0;
};

// The node wallet's balance in base units. confirmed: mature coins of the active chain not
// spent by a pool transaction; pending: outputs of pool transactions that pay the wallet and
// are not spent in the pool (incoming payments and our own change); immature: coinbase
// outputs younger than the maturity.
struct WalletBalance {
    core::Amount confirmed = 0;
    core::Amount pending = 0;
    core::Amount immature = 0;
};

// One coin of the wallet, confirmed or in the pool.
struct WalletCoinView {
    core::OutPoint outpoint;
    core::TxOut out;
    std::int64_t height = -1;  // of the block that made it; -1 while unconfirmed
    bool coinbase = false;
    bool mature = true;  // spendable now (coinbase maturity reached)
    bool spent_in_pool = false;
};

struct SendRequest {
    std::string to;  // an address of this network
    core::Amount amount = 0;
    util::Bytes data;                      // optional payload, at most Params::max_data_size
    std::optional<core::Amount> fee_rate;  // base units per byte; the wallet's default if unset
    // When not empty: the wallet's coins to spend, and no others (wallet/spend.hpp).
    std::vector<core::OutPoint> coins;
};

// A payment the wallet made and the pool took.
struct SentPayment {
    core::Uint256 txid;
    core::Amount fee = 0;
};

class NodeApi {
  public:
    virtual ~NodeApi() = default;

    virtual const chain::Chainstate& chain() const = 0;
    virtual std::vector<PeerView> peers() const = 0;
    virtual MiningView mining() const = 0;
    virtual std::string user_agent() const = 0;
    // Every metric of the node in the Prometheus text format (util/metrics.hpp).
    virtual std::string metrics_text() const = 0;
    // The event stream's ring (GET /events); nullptr when the node has none (the route
    // answers 503).
    virtual std::shared_ptr<EventHub> event_hub() { return nullptr; }

    // The digest of the coins set at the tip (GET /chain/coins, chain/coin_stats.hpp).
    // Starts it and returns true; `done` is called later, from any thread, with the stats
    // or why not (kUnavailable while the node stops, kIo or kCorruption from the store).
    // One at a time, as each walks the whole set: returns false at once, without calling
    // `done`, while one runs. The default answers kUnavailable.
    using CoinStatsCallback = std::function<void(util::Result<chain::CoinStats>)>;
    virtual bool coin_stats(CoinStatsCallback done) {
        done(util::Unexpected(util::Errc::kUnavailable, "no coins digest on this node"));
        return true;
    }

    // --- Peers, the address book and bans ------------------------------------------------

    // Makes `url` ("ws://host:port" or "tcp://host:port") a manual peer and starts dialing
    // it: the node keeps it, redials it whenever it is not connected (backoff from 1 s to
    // 5 minutes) and persists it across restarts. Ok also when the peer is already known.
    // Fails at once with kInvalidArgument for a bad URL or kUnavailable when the node
    // cannot take it now; a connection that fails later shows in the log, in the absence
    // from peers() and in address_book().manual.
    virtual util::Result<void> add_peer(const std::string& url) = 0;

    // The address book's counts and at most `limit` of its addresses, and every manual
    // peer with its dialing state.
    virtual BookView address_book(std::size_t limit) const = 0;
    // Forgets a manual peer (stops redialing it) and disconnects every peer at that address.
    // `address` is a peer URL ("ws://h:p", "tcp://h:p") or "host:port". kInvalidArgument for
    // text that is neither, kNotFound when it is neither a manual peer nor connected.
    virtual util::Result<void> remove_peer(const std::string& address) = 0;
    // Manual bans, then discouraged hosts; expired ones left out.
    virtual std::vector<BanView> bans() const = 0;
    // Bans `address` ("host" or "host:port") for `seconds`; disconnects matching peers at
    // once. kInvalidArgument with a message for a bad address or duration (or a full ban
    // list); kIo when the ban is in effect but could not be saved.
    virtual util::Result<BanView> ban(const std::string& address, std::int64_t seconds) = 0;
    // Lifts the manual ban on `address`. kNotFound when there is no such ban;
    // kInvalidArgument for an address that does not parse.
    virtual util::Result<void> unban(const std::string& address) = 0;

    // Mines one block whose coinbase carries `data` and pays `to` (the node's reward
    // address when unset), connects and announces it, then calls `done` with the block, or
    // with the reason it failed (kUnavailable when the miner's queue is full or the node is
    // stopping).
    using MinedCallback = std::function<void(util::Result<core::BlockPtr>)>;
    virtual void mine_block(util::Bytes data, std::optional<core::XOnlyKey> to,
                            MinedCallback done) = 0;

    // --- Transactions and the pool -----------------------------------------------------------

    // Read-only; queries are safe from any thread.
    virtual const mempool::Mempool& mempool() const = 0;
    // The lowest fee rate (base units per byte) the pool accepts now. The default is the
    // pool's default minimum; node/ overrides it with the configured one.
    virtual core::Amount min_fee_rate() const { return mempool::Options().min_fee_rate; }

    // Called with ok and the txid when the transaction entered the pool (and was relayed),
    // else with why it was refused: the pool's reasons (mempool/mempool.hpp), the wallet's
    // (insufficient-funds, bad-address, ...: docs/API.md), or kInternal "shutting-down".
    using TxCallback = std::function<void(core::ValidationResult, core::Uint256 txid)>;
    // Checks `tx` on the chain executor, adds it to the pool and announces it to peers.
    virtual void submit_transaction(core::Transaction tx, TxCallback done) = 0;

    // --- The node's wallet ---------------------------------------------------------------

    // The address the wallet receives on (the same until new_address is asked for);
    // `fresh` makes a new key first and saves it.
    virtual util::Result<std::string> wallet_address(bool fresh) = 0;
    virtual util::Result<WalletBalance> wallet_balance() const = 0;
    virtual util::Result<std::vector<WalletCoinView>> wallet_coins() const = 0;
    // Builds, signs and submits a payment (coin selection, change back to the wallet), then
    // calls `done` with ok, the txid and the fee, or with why it was refused (as TxCallback).
    using SendCallback = std::function<void(core::ValidationResult, SentPayment)>;
    virtual void wallet_send(SendRequest request, SendCallback done) = 0;
};

}  // namespace peerchain::api
