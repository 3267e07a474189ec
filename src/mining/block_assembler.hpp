// BlockAssembler: builds the block a miner works on, on the parent the chain names.
//
// A template is a complete block except for its nonce: the coinbase (height, reward, the
// reward key, the requested data and an extra nonce), the previous block's hash, the
// merkle root, the bits the chain expects, and time = max(clock now, parent's median time
// past + 1). The miner then searches nonces, bumps the extra nonce with set_extra_nonce()
// when a nonce range runs out, and refreshes the time field as the clock moves.
//
// Transactions: after the coinbase, what Mempool::select() picks for the room the block
// size limit leaves (by ancestor fee rate, parents before children); the coinbase pays the
// subsidy plus their fees. Without a pool the block carries the coinbase alone. The pool's
// transactions were checked against the chain tip the template builds on, as long as the
// node updates the pool for a new block before it tells the miner about it.
//
// Thread-safety: create() is const and may run on several threads at once; templates are
// plain values.
#pragma once

#include <array>
#include <cstdint>

#include "chain/chainstate.hpp"
#include "core/amount.hpp"
#include "core/block.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"
#include "mempool/mempool.hpp"
#include "util/bytes.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace peerchain::mining {

// Who a block pays and what its coinbase records.
struct CoinbaseSpec {
    core::XOnlyKey reward_key{};
    util::Bytes data;  // at most Params::max_data_size bytes
};

struct BlockTemplate {
    core::Block block;  // nonce 0; txs[0] is the coinbase
    std::uint32_t height = 0;
    core::Amount fees = 0;  // of the transactions after the coinbase
    // Mempool::generation() when the transactions were selected (0 without a pool).
    std::uint64_t pool_generation = 0;
    core::Amount reward = 0;  // what the coinbase pays: subsidy + fees
    std::int64_t min_time = 0;
    std::uint64_t extra_nonce = 0;
    // The target `block.header.bits` encodes, little-endian, as crypto::HeaderScanner
    // takes it.
    std::array<std::uint8_t, 32> target_le{};
};

// kInvalidArgument when `spec.data` is longer than params.max_data_size.
util::Result<void> check_coinbase_spec(const CoinbaseSpec& spec, const core::Params& params);

class BlockAssembler {
  public:
    // `params` and `clock` must outlive the assembler.
    BlockAssembler(const core::Params& params, const util::Clock& clock) noexcept
        : params_(params), clock_(clock) {}

    // A template on `context.parent` (which must not be null), as given by
    // Chainstate::next_block_context(). Fails with kInvalidArgument when the data is too
    // long (check_coinbase_spec) or the bits do not decode to a target, and with
    // kUnavailable when the parent's time floor lies further ahead of the clock than
    // max_time_ahead() (a peer whose clock is a little behind ours would refuse the block
    // as time-too-new; it becomes possible as the clock catches up). `pool` (null: the coinbase
    // alone) gives the transactions; its queries are safe from any thread.
    util::Result<BlockTemplate> create(const chain::Chainstate::NextBlockContext& context,
                                       const CoinbaseSpec& spec,
                                       const mempool::Mempool* pool = nullptr,
                                       std::uint64_t extra_nonce = 0) const;

    // How far ahead of our clock a template's time may be: half of max_future_drift, so
    // that a peer whose clock is up to that much behind ours still takes our blocks
    // (PROTOCOL.md 1.7). A block stamped right at our own limit would be refused by every
    // peer whose clock is a second slow.
    static constexpr std::int64_t max_time_ahead(const core::Params& params) noexcept {
        return params.max_future_drift / 2;
    }

    // The header time for a template: max(clock now, min_time), or nullopt when that does
    // not fit the header's u32 field.
    std::optional<std::uint32_t> block_time(std::int64_t min_time) const noexcept;

    // Rebuilds the coinbase of `tmpl` with another extra nonce, and so the merkle root.
    static void set_extra_nonce(BlockTemplate& tmpl, std::uint64_t extra_nonce);

  private:
    const core::Params& params_;
    const util::Clock& clock_;
};

}  // namespace peerchain::mining
