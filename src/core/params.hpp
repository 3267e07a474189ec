// Consensus parameters of each network, in one table. Everything a node must agree on with
// its peers lives here.
//
// Thread-safety: the tables are immutable after static initialisation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/amount.hpp"
#include "core/arith_uint256.hpp"
#include "core/block.hpp"

namespace peerchain::core {

enum class Network { kDev, kRegtest };

struct Params {
    Network network;
    std::string name;
    // First bytes of the version message; peers on another network are refused.
    std::array<std::uint8_t, 4> magic;

    // Easiest allowed target, as compact bits and as a number.
    std::uint32_t pow_limit_bits;
    ArithUint256 pow_limit;
    // regtest: every block uses pow_limit_bits (a block is found in a couple of hashes).
    bool pow_no_retargeting;
    // ASERT (aserti3-2d) anchored at the parent: the target doubles or halves for every
    // half_life the chain runs late or early against target_spacing per block.
    std::int64_t target_spacing;
    std::int64_t asert_half_life;

    Amount initial_subsidy;
    std::uint32_t halving_interval;
    std::uint32_t coinbase_maturity;

    // A header's time may be at most this far ahead of the node's clock.
    std::int64_t max_future_drift;
    // A header's time must be at least the median of the last 11 times plus this: 1 (above
    // the median, as Bitcoin) on dev; 0 on regtest, where blocks come faster than one a
    // second and a strict rule would push the chain's time ahead of the clock by a second
    // for every six blocks until max_future_drift stops the miner.
    std::int64_t min_time_above_median;
    std::size_t max_block_size;  // serialized bytes
    std::size_t max_tx_size;     // serialized bytes
    std::size_t max_data_size;   // a transaction's data payload

    // Not consensus: how deep under the best header a block must be, in blocks of the best
    // header's difficulty, before --assume-valid lets it skip signature checks
    // (chain/assume_valid.hpp). Bitcoin Core asks for two weeks of work.
    std::uint32_t assume_valid_burial;

    std::string address_hrp;  // bech32m prefix
    std::uint16_t default_p2p_port;
    std::uint16_t default_http_port;

    Block genesis;
    Uint256 genesis_hash;
};

const Params& params(Network network) noexcept;
// "dev" or "regtest"; kInvalidArgument otherwise.
util::Result<Network> parse_network(std::string_view name);

// The coinbase output value allowed at `height` before fees.
Amount block_subsidy(std::uint32_t height, const Params& p) noexcept;

}  // namespace peerchain::core
