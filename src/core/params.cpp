#include "core/params.hpp"

#include "core/merkle.hpp"

namespace peerchain::core {

namespace {

Block make_genesis(std::string_view message, std::uint32_t time, std::uint32_t bits,
                   std::uint32_t nonce) {
    Block genesis;
    // The genesis coinbase pays nothing to nobody: its output is never spendable.
    genesis.txs.push_back(
        make_coinbase(0, 0, XOnlyKey{}, util::Bytes(message.begin(), message.end())));
    genesis.header.version = 1;
    genesis.header.merkle_root = block_merkle_root(genesis);
    genesis.header.time = time;
    genesis.header.bits = bits;
    genesis.header.nonce = nonce;
    return genesis;
}

Params make_params(Network network) {
    Params p;
    p.network = network;
    p.initial_subsidy = 50 * kCoin;
    p.coinbase_maturity = 100;
    p.target_spacing = 10;
    p.asert_half_life = 600;
    // Bitcoin allows two hours, but with 10-second blocks and a 10-minute half-life a
    // miner could then claim a 2^12 easier target; two minutes caps that at about 15%.
    p.max_future_drift = 120;
    p.min_time_above_median = network == Network::kRegtest ? 0 : 1;
    p.max_block_size = 1'000'000;
    p.max_tx_size = 100'000;
    p.max_data_size = 65'536;
    p.default_p2p_port = 6001;
    p.default_http_port = 3001;
    // Far enough in the past that test chains can be built with past timestamps (a block
    // needs a time above the median of the last 11, so at most about 5 blocks a second).
    constexpr std::uint32_t kGenesisTime = 1735689600;  // 2025-01-01 00:00:00 UTC
    if (network == Network::kDev) {
        p.name = "dev";
        p.magic = {0x70, 0x63, 0x64, 0x76};  // "pcdv"
        p.pow_limit_bits = 0x1f00ffff;       // about 2^16 hashes a block
        p.pow_no_retargeting = false;
        p.halving_interval = 210'000;
        p.address_hrp = "pc";
        p.genesis = make_genesis("peerchain dev genesis", kGenesisTime, p.pow_limit_bits, 87365);
        p.assume_valid_burial = 8'640;  // a day of 10 s blocks
    } else {
        p.name = "regtest";
        p.magic = {0x70, 0x63, 0x72, 0x74};  // "pcrt"
        p.pow_limit_bits = 0x207fffff;       // half of all hashes meet it
        p.pow_no_retargeting = true;
        p.halving_interval = 150;
        p.address_hrp = "pcrt";
        p.genesis = make_genesis("peerchain regtest genesis", kGenesisTime, p.pow_limit_bits, 2);
        // Blocks cost nothing here: a test chain is a few hundred blocks long.
        p.assume_valid_burial = 100;
    }
    p.pow_limit = *ArithUint256::from_compact(p.pow_limit_bits);
    p.genesis_hash = p.genesis.hash();
    return p;
}

}  // namespace

const Params& params(Network network) noexcept {
    static const Params kDev = make_params(Network::kDev);
    static const Params kRegtest = make_params(Network::kRegtest);
    return network == Network::kDev ? kDev : kRegtest;
}

util::Result<Network> parse_network(std::string_view name) {
    if (name == "dev") return Network::kDev;
    if (name == "regtest") return Network::kRegtest;
    return util::Unexpected(util::Errc::kInvalidArgument,
                            "unknown network '" + std::string(name) + "' (dev or regtest)");
}

Amount block_subsidy(std::uint32_t height, const Params& p) noexcept {
    const std::uint32_t halvings = height / p.halving_interval;
    if (halvings >= 63) return 0;
    return p.initial_subsidy >> halvings;
}

}  // namespace peerchain::core
