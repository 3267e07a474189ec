#include "chain/coin_stats.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "chain/storage_format.hpp"

namespace peerchain::chain {

namespace {

constexpr std::size_t kRecordSize = 32 + 4 + 8 + 32 + 4 + 1;
// How often the walk looks at `stop`: often enough that a node stops within a few
// milliseconds, rarely enough to cost nothing.
constexpr std::uint64_t kStopCheckEvery = 4096;

void put_le(std::uint8_t* out, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::array<std::uint8_t, kRecordSize> coin_record(const core::OutPoint& outpoint,
                                                  const Coin& coin) {
    std::array<std::uint8_t, kRecordSize> r{};
    std::memcpy(r.data(), outpoint.txid.data(), 32);
    put_le(r.data() + 32, outpoint.index, 4);
    put_le(r.data() + 36, static_cast<std::uint64_t>(coin.out.amount), 8);
    std::memcpy(r.data() + 44, coin.out.recipient.data(), 32);
    put_le(r.data() + 76, coin.height, 4);
    r[80] = coin.coinbase ? 1 : 0;
    return r;
}

}  // namespace

util::Result<CoinStats> compute_coin_stats(store::Iterator& snapshot, const Chainstate& chain,
                                           const std::atomic<bool>* stop) {
    CoinStats stats;
    // The tip first, from the same snapshot as the coins: they were flushed together.
    const util::Bytes tip_key = storage::coins_tip_key();
    snapshot.seek(tip_key);
    if (!snapshot.valid() || !std::ranges::equal(snapshot.key(), tip_key)) {
        if (auto s = snapshot.status(); !s) return util::Unexpected(s.error());
        return util::Unexpected(util::Errc::kCorruption, "the store has no coins tip");
    }
    if (snapshot.value().size() != core::Uint256::kSize) {
        return util::Unexpected(util::Errc::kCorruption, "damaged coins tip record");
    }
    stats.tip = core::Uint256::from_bytes(snapshot.value());
    const BlockIndex* tip = chain.lookup(stats.tip);
    if (tip == nullptr) {
        return util::Unexpected(util::Errc::kCorruption,
                                "coins tip " + stats.tip.to_hex() + " is not a known block");
    }
    stats.height = tip->height;

    crypto::Sha256 hasher;
    const std::array<std::uint8_t, 1> coin_prefix{storage::kCoinPrefix};
    for (snapshot.seek(coin_prefix);
         snapshot.valid() && !snapshot.key().empty() && snapshot.key()[0] == storage::kCoinPrefix;
         snapshot.next()) {
        if (stop != nullptr && stats.coins % kStopCheckEvery == 0 &&
            stop->load(std::memory_order_relaxed)) {
            return util::Unexpected(util::Errc::kUnavailable, "stopped");
        }
        auto outpoint = storage::decode_coin_key(snapshot.key());
        if (!outpoint) return util::Unexpected(outpoint.error());
        auto coin = storage::decode_coin(snapshot.value());
        if (!coin) return util::Unexpected(coin.error());
        // decode_coin keeps each amount within the money supply and the sum is checked at
        // every step, so it stays below twice the supply: no overflow.
        stats.amount += coin->out.amount;
        if (stats.amount > core::kMaxMoney) {
            return util::Unexpected(util::Errc::kCorruption, "coins sum beyond the money supply");
        }
        ++stats.coins;
        const auto record = coin_record(*outpoint, *coin);
        hasher.write(record);
    }
    if (auto s = snapshot.status(); !s) return util::Unexpected(s.error());
    stats.digest = hasher.finalize();
    return stats;
}

}  // namespace peerchain::chain
