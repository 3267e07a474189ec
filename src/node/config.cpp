#include "node/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <cstdlib>

#include "core/address.hpp"
#include "net/transport/peer_url.hpp"

namespace peerchain::node {

std::filesystem::path default_data_dir(core::Network network) {
    const char* home = std::getenv("HOME");
    const std::filesystem::path base = (home != nullptr && *home != '\0')
                                           ? std::filesystem::path(home)
                                           : std::filesystem::current_path();
    return base / ".peerchain" / core::params(network).name;
}

std::filesystem::path chain_db_dir(const std::filesystem::path& data_dir) {
    return data_dir / "chaindata";
}
std::filesystem::path blocks_dir(const std::filesystem::path& data_dir) {
    return data_dir / "blocks";
}
std::filesystem::path node_info_file(const std::filesystem::path& data_dir) {
    return data_dir / "node.json";
}
std::filesystem::path miner_key_file(const std::filesystem::path& data_dir) {
    return data_dir / "miner.key";
}

std::filesystem::path mempool_file(const std::filesystem::path& data_dir) {
    return data_dir / "mempool.dat";
}

util::Result<void> validate(const NodeConfig& config) {
    auto bad = [](std::string message) {
        return util::Unexpected(util::Errc::kInvalidArgument, std::move(message));
    };
    boost::system::error_code ec;
    boost::asio::ip::make_address(config.http_bind, ec);
    if (ec) return bad("--http-bind '" + config.http_bind + "' is not an IP address");
    boost::asio::ip::make_address(config.p2p_bind, ec);
    if (ec) return bad("--p2p-bind '" + config.p2p_bind + "' is not an IP address");
    bool ws = false;
    bool tcp = false;
    for (const auto& t : config.transports) {
        if (t == "ws") {
            ws = true;
        } else if (t == "tcp") {
            tcp = true;
        } else {
            return bad("--transports '" + t + "': expected ws, tcp or both (ws,tcp)");
        }
    }
    if (!ws && !tcp) return bad("--transports: at least one of ws and tcp");
    for (const auto& peer : config.peers) {
        if (peer.empty()) continue;
        auto url = net::transport::parse_peer_url(peer);
        if (!url) return bad("peer '" + peer + "': " + url.error().message);
        const bool is_tcp = url->scheme == net::transport::Scheme::kTcp;
        if ((is_tcp && !tcp) || (!is_tcp && !ws)) {
            return bad("peer '" + peer + "': its transport is not in --transports");
        }
    }
    if (config.max_outbound > 64) return bad("--max-outbound is at most 64");
    if (config.max_inbound > 1024) return bad("--max-inbound is at most 1024");
    if (config.max_inbound_per_group == 0 || config.max_inbound_per_group > 1024) {
        return bad("--max-inbound-per-group: 1 to 1024");
    }
    if (!config.external_address.empty()) {
        boost::asio::ip::make_address(config.external_address, ec);
        if (ec) return bad("--external-address '" + config.external_address + "' is not an IP");
    }
    if (!config.mine_to.empty()) {
        if (auto key = core::decode_address(config.mine_to, core::params(config.network)); !key) {
            return bad("--mine-to '" + config.mine_to + "': " + key.error().message);
        }
    }
    if (config.miner_threads > 256) return bad("--miner-threads is at most 256");
    if (config.event_buffer == 0 || config.event_buffer > 1'000'000) {
        return bad("--event-buffer: 1 to 1000000");
    }
    if (config.io_threads == 0 || config.io_threads > 64) return bad("io threads: 1 to 64");
    if (!config.assume_valid.empty() && config.assume_valid != "0" &&
        !core::Uint256::from_hex(config.assume_valid)) {
        return bad("--assume-valid '" + config.assume_valid +
                   "': expected a block hash (64 hex digits) or 0");
    }
    if (config.data_dir.empty()) return bad("no data directory");
    return {};
}

std::optional<core::Uint256> assume_valid_block(const NodeConfig& config) {
    if (config.assume_valid.empty() || config.assume_valid == "0") return std::nullopt;
    auto hash = core::Uint256::from_hex(config.assume_valid);
    if (!hash) return std::nullopt;
    return *hash;
}

}  // namespace peerchain::node
