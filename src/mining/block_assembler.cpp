#include "mining/block_assembler.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "core/merkle.hpp"
#include "core/pow.hpp"
#include "util/assert.hpp"

namespace peerchain::mining {

namespace {

// The transaction count is a compact_size: at most 9 bytes.
constexpr std::size_t kMaxTxCountSize = 9;

}  // namespace

util::Result<void> check_coinbase_spec(const CoinbaseSpec& spec, const core::Params& params) {
    if (spec.data.size() > params.max_data_size) {
        return util::Unexpected(util::Errc::kInvalidArgument,
                                "data is " + std::to_string(spec.data.size()) + " bytes, at most " +
                                    std::to_string(params.max_data_size) + " allowed");
    }
    return {};
}

std::optional<std::uint32_t> BlockAssembler::block_time(std::int64_t min_time) const noexcept {
    const std::int64_t time = std::max(clock_.now_seconds(), min_time);
    if (time < 0 || time > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
    return static_cast<std::uint32_t>(time);
}

util::Result<BlockTemplate> BlockAssembler::create(
    const chain::Chainstate::NextBlockContext& context, const CoinbaseSpec& spec,
    const mempool::Mempool* pool, std::uint64_t extra_nonce) const {
    NODE_ASSERT(context.parent != nullptr);
    if (auto ok = check_coinbase_spec(spec, params_); !ok) return util::Unexpected(ok.error());
    const auto target = core::decode_target(context.bits, params_);
    if (!target) {
        return util::Unexpected(util::Errc::kInvalidArgument,
                                "bits " + std::to_string(context.bits) + " do not decode");
    }
    const std::int64_t now = clock_.now_seconds();
    if (context.min_time > now + max_time_ahead(params_)) {
        return util::Unexpected(util::Errc::kUnavailable,
                                "the chain's time floor " + std::to_string(context.min_time) +
                                    " is more than " + std::to_string(max_time_ahead(params_)) +
                                    "s ahead of the clock");
    }
    const auto time = block_time(context.min_time);
    if (!time) return util::Unexpected(util::Errc::kInvalidArgument, "time out of range");

    BlockTemplate tmpl;
    tmpl.height = context.height;
    tmpl.min_time = context.min_time;
    tmpl.extra_nonce = extra_nonce;
    tmpl.target_le = target->to_le().bytes();
    tmpl.block.header.prev_hash = context.parent->hash;
    tmpl.block.header.time = *time;
    tmpl.block.header.bits = context.bits;

    // The coinbase's size does not depend on its amount or extra nonce (fixed-width
    // fields), so the room left for transactions is known before they are picked.
    const std::size_t coinbase_size =
        core::make_coinbase(tmpl.height, 0, spec.reward_key, spec.data, extra_nonce)
            .serialized_size();
    const std::size_t overhead = core::kHeaderSize + kMaxTxCountSize + coinbase_size;
    mempool::Selection selection;
    if (pool != nullptr && params_.max_block_size > overhead) {
        tmpl.pool_generation = pool->generation();
        selection = pool->select(params_.max_block_size - overhead);
    }
    tmpl.fees = selection.fees;
    tmpl.reward = core::block_subsidy(context.height, params_) + tmpl.fees;
    tmpl.block.txs.reserve(1 + selection.txs.size());
    tmpl.block.txs.push_back(
        core::make_coinbase(tmpl.height, tmpl.reward, spec.reward_key, spec.data, extra_nonce));
    for (const auto& tx : selection.txs) tmpl.block.txs.push_back(*tx);
    tmpl.block.header.merkle_root = core::block_merkle_root(tmpl.block);
    NODE_ASSERT(tmpl.block.serialized_size() <= params_.max_block_size);
    return tmpl;
}

void BlockAssembler::set_extra_nonce(BlockTemplate& tmpl, std::uint64_t extra_nonce) {
    NODE_ASSERT(!tmpl.block.txs.empty() && tmpl.block.txs[0].is_coinbase());
    core::Transaction& coinbase = tmpl.block.txs[0];
    const core::XOnlyKey reward_key = coinbase.outputs.at(0).recipient;
    coinbase = core::make_coinbase(tmpl.height, tmpl.reward, reward_key, std::move(coinbase.data),
                                   extra_nonce);
    tmpl.extra_nonce = extra_nonce;
    tmpl.block.header.merkle_root = core::block_merkle_root(tmpl.block);
}

}  // namespace peerchain::mining
