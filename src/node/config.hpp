// NodeConfig: everything `peerchain node` can be told, after flags, environment and
// defaults were merged (flag > environment > default; see app/main.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/params.hpp"
#include "core/uint256.hpp"
#include "util/result.hpp"

namespace peerchain::node {

struct NodeConfig {
    core::Network network = core::Network::kDev;
    std::filesystem::path data_dir;  // empty: default_data_dir(network)

    std::string http_bind = "127.0.0.1";
    std::uint16_t http_port = 3001;  // 0: any free port (written to <data-dir>/node.json)
    std::string p2p_bind = "0.0.0.0";
    std::uint16_t p2p_port = 6001;
    // Manual peers (ws://host:port or tcp://host:port): kept and redialed forever, with
    // those added through the API, and saved in <data-dir>/manual-peers.
    std::vector<std::string> peers;
    // The transports the P2P port accepts and the node dials: "ws", "tcp" or both.
    std::vector<std::string> transports{"ws", "tcp"};
    // Automatic outbound peers dialed from the address book, and the inbound caps.
    unsigned max_outbound = 8;
    unsigned max_inbound = 64;
    unsigned max_inbound_per_group = 8;
    // --max-receive-buffer: KiB of one peer's messages waiting to be handled before we
    // stop reading from it, as Bitcoin Core's -maxreceivebuffer (connman's ReceiveQueue).
    std::size_t receive_buffer_kib = 16 * 1024;
    // The host advertised to peers as ours; empty: our end of each peer's link.
    std::string external_address;

    bool mine = false;  // mine continuously
    // An address of this network that mined coins are paid to instead of the node's
    // wallet; empty: the wallet's receive address.
    std::string mine_to;
    unsigned miner_threads = 0;  // 0: one per core
    unsigned io_threads = 2;     // network and HTTP threads
    // Events GET /events holds for clients that resume (Last-Event-ID).
    std::size_t event_buffer = 10'000;
    std::string log_level = "info";
    // --assume-valid (issue 10): a block hash in display hex, whose buried ancestors skip
    // signature checks (chain/assume_valid.hpp); empty or "0": off, every signature checked.
    std::string assume_valid;
    // Keep no transaction or address index (issue 10): less work per block and less disk,
    // but the routes that need one answer 503 index-disabled, the wallet's among them.
    bool no_index = false;
    // --coins-cache: MiB of coins (and index entries) held in memory between flushes, as
    // Bitcoin Core's -dbcache; more makes a long sync touch the store less.
    std::size_t coins_cache_mib = 256;
};

// $HOME/.peerchain/<network> (./.peerchain/<network> without HOME).
std::filesystem::path default_data_dir(core::Network network);

// Where things live in a data directory:
//   chaindata/   the LevelDB store (block index, undo data, coins, indexes)
//   blocks/      the block bodies, blk00000.dat ... (docs/STORAGE.md)
//   .cookie      the API token, mode 0600, while the node runs
//   node.json    {"pid", "network", "httpPort", "p2pPort", ...} while the node runs
//   miner.key    the key earlier versions paid mined coins to; a new wallet imports it
//   wallet.json  the wallet's keys, mode 0600 (wallet/wallet.hpp)
//   mempool.dat  the pool's transactions, written at a clean stop (mempool/mempool.hpp)
//   peers.dat    the address book (net/addrman/addr_man.hpp)
//   banlist.dat  the manual bans (net/addrman/ban_man.hpp)
//   manual-peers the peers to keep, one URL per line (net/connman/connman.hpp)
std::filesystem::path chain_db_dir(const std::filesystem::path& data_dir);
std::filesystem::path blocks_dir(const std::filesystem::path& data_dir);
std::filesystem::path node_info_file(const std::filesystem::path& data_dir);
std::filesystem::path miner_key_file(const std::filesystem::path& data_dir);
std::filesystem::path mempool_file(const std::filesystem::path& data_dir);

// Checks what the parser cannot: bind addresses are IP literals, peer URLs parse, thread
// counts are sane, mine_to is an address of the configured network, assume_valid is "0" or
// a block hash. kInvalidArgument with a message fit for the user.
util::Result<void> validate(const NodeConfig& config);

// The block --assume-valid names, or nullopt when it is off (empty or "0"). Assumes
// validate() passed.
std::optional<core::Uint256> assume_valid_block(const NodeConfig& config);

}  // namespace peerchain::node
