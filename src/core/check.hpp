// Consensus checks that need no chain state: a header's proof of work, a transaction's and
// a block's own structure. And the contextual checks, given the few facts about the chain
// they need (height, median time past, expected bits, the clock reading) as values, so
// that core stays pure.
#pragma once

#include <cstdint>
#include <vector>

#include "core/block.hpp"
#include "core/params.hpp"
#include "core/validation.hpp"

namespace peerchain::core {

// bad-diffbits (bits do not decode or are easier than the limit), high-hash.
ValidationResult check_header_pow(const BlockHeader& header, const Params& p);

// The only header and transaction versions that are valid (PROTOCOL.md 1.1, 1.2).
inline constexpr std::uint32_t kHeaderVersion = 1;
inline constexpr std::uint32_t kTxVersion = 1;

// bad-txns-version, bad-txns-locktime (lock_time must be 0), bad-txns-vin-empty,
// bad-txns-vout-empty, bad-txns-oversize, bad-txns-data-oversize, bad-txns-vout-negative,
// bad-txns-vout-toolarge, bad-txns-txouttotal-toolarge, bad-txns-inputs-duplicate,
// bad-txns-prevout-null.
ValidationResult check_transaction(const Transaction& tx, const Params& p);

// check_header_pow, then bad-blk-length, bad-cb-missing, bad-cb-multiple, the
// transaction checks, bad-txns-duplicate, bad-merkle-root.
ValidationResult check_block(const Block& block, const Params& p);

// check_block's verdict with what it hashed on the way, for the chain to reuse. It needs
// no chain state, so a node runs it on the thread that decoded the block, before the
// block reaches the chain thread (issue 10), and the chain does not hash again.
struct CheckedBlock {
    BlockPtr block;
    Uint256 hash;                // block->hash()
    std::vector<Uint256> txids;  // of block->txs in order; complete when result is ok
    ValidationResult result;     // check_block(*block)
};
CheckedBlock check_block_alone(BlockPtr block, const Params& p);

struct HeaderContext {
    std::uint32_t height;           // of the header being checked
    std::int64_t median_time_past;  // of its parent: median time of the last 11 blocks
    std::uint32_t expected_bits;    // next_work_required() after the parent
    std::int64_t now;               // the node's clock
};

// bad-version, bad-diffbits (not the expected bits), time-too-old, time-too-new (kTimeFuture).
ValidationResult check_header_context(const BlockHeader& header, const HeaderContext& ctx,
                                      const Params& p);

// bad-cb-height: the coinbase must commit to the block's height.
ValidationResult check_block_context(const Block& block, std::uint32_t height);

// bad-cb-amount: the coinbase may pay at most the subsidy at `height` plus `fees` (the
// inputs minus the outputs of the block's other transactions, already checked to be in
// range).
ValidationResult check_coinbase_value(const Block& block, std::uint32_t height, Amount fees,
                                      const Params& p);

}  // namespace peerchain::core
