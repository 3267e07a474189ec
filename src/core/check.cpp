#include "core/check.hpp"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "core/merkle.hpp"
#include "core/pow.hpp"

namespace peerchain::core {

ValidationResult check_header_pow(const BlockHeader& header, const Params& p) {
    if (!decode_target(header.bits, p)) {
        return ValidationResult::invalid("bad-diffbits", "bits do not encode a valid target");
    }
    if (!check_proof_of_work(header.hash(), header.bits, p)) {
        return ValidationResult::invalid("high-hash", "proof of work does not meet its target");
    }
    return ValidationResult::ok();
}

ValidationResult check_transaction(const Transaction& tx, const Params& p) {
    // Only the values the formats define are valid until a documented upgrade gives others
    // a meaning (PROTOCOL.md 1.2): a peer cannot put anything in fields nobody reads.
    if (tx.version != kTxVersion) {
        return ValidationResult::invalid("bad-txns-version",
                                         "version " + std::to_string(tx.version));
    }
    if (tx.lock_time != 0) {
        return ValidationResult::invalid("bad-txns-locktime",
                                         "lock_time " + std::to_string(tx.lock_time));
    }
    if (tx.inputs.empty()) return ValidationResult::invalid("bad-txns-vin-empty");
    if (tx.outputs.empty()) return ValidationResult::invalid("bad-txns-vout-empty");
    if (tx.serialized_size() > p.max_tx_size) {
        return ValidationResult::invalid("bad-txns-oversize",
                                         std::to_string(tx.serialized_size()) + " bytes");
    }
    if (tx.data.size() > p.max_data_size) {
        return ValidationResult::invalid("bad-txns-data-oversize",
                                         std::to_string(tx.data.size()) + " bytes of data");
    }
    Amount total = 0;
    for (const auto& out : tx.outputs) {
        if (out.amount < 0) return ValidationResult::invalid("bad-txns-vout-negative");
        if (out.amount > kMaxMoney) return ValidationResult::invalid("bad-txns-vout-toolarge");
        total += out.amount;  // both terms <= kMaxMoney: cannot overflow
        if (!money_range(total)) return ValidationResult::invalid("bad-txns-txouttotal-toolarge");
    }
    if (tx.is_coinbase()) return ValidationResult::ok();
    if (tx.inputs.size() > 1) {
        std::vector<OutPoint> seen;
        seen.reserve(tx.inputs.size());
        for (const auto& in : tx.inputs) seen.push_back(in.prevout);
        std::sort(seen.begin(), seen.end());
        if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
            return ValidationResult::invalid("bad-txns-inputs-duplicate");
        }
    }
    for (const auto& in : tx.inputs) {
        if (in.prevout.txid.is_zero()) return ValidationResult::invalid("bad-txns-prevout-null");
    }
    return ValidationResult::ok();
}

namespace {

// check_block, leaving the txids of the transactions it got through in `txids`.
ValidationResult check_block_into(const Block& block, const Params& p,
                                  std::vector<Uint256>& txids) {
    if (auto r = check_header_pow(block.header, p); !r) return r;
    if (block.serialized_size() > p.max_block_size) {
        return ValidationResult::invalid("bad-blk-length",
                                         std::to_string(block.serialized_size()) + " bytes");
    }
    if (block.txs.empty() || !block.txs[0].is_coinbase()) {
        return ValidationResult::invalid("bad-cb-missing", "first transaction is not a coinbase");
    }
    for (std::size_t i = 1; i < block.txs.size(); ++i) {
        if (block.txs[i].is_coinbase()) {
            return ValidationResult::invalid("bad-cb-multiple",
                                             "transaction " + std::to_string(i) + " is a coinbase");
        }
    }
    txids.reserve(block.txs.size());
    for (const auto& tx : block.txs) {
        const Uint256& txid = txids.emplace_back(tx.txid());
        if (auto r = check_transaction(tx, p); !r) {
            r.detail = "tx " + txid.to_hex() + (r.detail.empty() ? "" : ": " + r.detail);
            return r;
        }
    }
    std::vector<Uint256> sorted = txids;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
        return ValidationResult::invalid("bad-txns-duplicate", "a transaction appears twice");
    }
    if (block_merkle_root(block) != block.header.merkle_root) {
        return ValidationResult::invalid("bad-merkle-root");
    }
    return ValidationResult::ok();
}

}  // namespace

ValidationResult check_block(const Block& block, const Params& p) {
    std::vector<Uint256> txids;
    return check_block_into(block, p, txids);
}

CheckedBlock check_block_alone(BlockPtr block, const Params& p) {
    CheckedBlock out;
    out.hash = block->hash();
    out.result = check_block_into(*block, p, out.txids);
    out.block = std::move(block);
    return out;
}

ValidationResult check_header_context(const BlockHeader& header, const HeaderContext& ctx,
                                      const Params& p) {
    // Contextual, so that an upgrade can give another version a meaning from a height on.
    if (header.version != kHeaderVersion) {
        return ValidationResult::invalid("bad-version",
                                         "header version " + std::to_string(header.version));
    }
    if (header.bits != ctx.expected_bits) {
        return ValidationResult::invalid("bad-diffbits", "incorrect proof of work target");
    }
    if (static_cast<std::int64_t>(header.time) < ctx.median_time_past + p.min_time_above_median) {
        return ValidationResult::invalid("time-too-old",
                                         "block time is too early against the median of "
                                         "the last 11 blocks");
    }
    if (static_cast<std::int64_t>(header.time) > ctx.now + p.max_future_drift) {
        return ValidationResult::fail(ValidationCode::kTimeFuture, "time-too-new",
                                      "block time is too far in the future");
    }
    return ValidationResult::ok();
}

ValidationResult check_block_context(const Block& block, std::uint32_t height) {
    if (block.txs.empty() || block.txs[0].inputs.empty() ||
        block.txs[0].inputs[0].prevout.index != height) {
        return ValidationResult::invalid(
            "bad-cb-height", "coinbase does not commit to height " + std::to_string(height));
    }
    return ValidationResult::ok();
}

ValidationResult check_coinbase_value(const Block& block, std::uint32_t height, Amount fees,
                                      const Params& p) {
    Amount paid = 0;
    for (const auto& out : block.txs.at(0).outputs) paid += out.amount;  // checked in range
    const Amount allowed = block_subsidy(height, p) + fees;
    if (paid > allowed) {
        return ValidationResult::invalid(
            "bad-cb-amount",
            "coinbase pays " + std::to_string(paid) + ", allowed " + std::to_string(allowed));
    }
    return ValidationResult::ok();
}

}  // namespace peerchain::core
