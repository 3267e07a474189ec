// SignedChainBuilder: regtest blocks full of valid signed transactions, for benchmarks and
// for peerchain-make-chain (tests/integration/make_chain.cpp), which writes such a chain
// into a node's data directory for the sync scenario (bench/sync_scenario.py).
//
// Every output is paid to one of a fixed set of keys derived from a fixed seed, so the same
// arguments give the same chain byte for byte (signatures use a zero auxiliary random
// value, which BIP340 allows). Each transaction spends up to `inputs_per_tx` of the oldest
// confirmed coins (first in, first out) and splits their value, less a small fee, over
// `outputs_per_tx` outputs, so the coin set fans out: it grows by outputs - inputs a
// transaction. Coinbases join the spendable coins once they are mature; until then, and
// while the coin set is still small, blocks carry fewer transactions than asked for.
//
// Usage: for each height, make_block() (the caller fills in prev_hash, time and bits, and
// the block comes back with its merkle root and a nonce that meets `bits`), then, once the
// block is accepted (or at once, when pre-building), confirmed().
//
// Thread-safety: none; one builder per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/amount.hpp"
#include "core/block.hpp"
#include "core/merkle.hpp"
#include "core/params.hpp"
#include "core/pow.hpp"
#include "core/sighash.hpp"
#include "crypto/schnorr.hpp"
#include "crypto/sha256.hpp"
#include "util/assert.hpp"

namespace peerchain::bench {

struct SignedChainShape {
    std::size_t txs_per_block = 100;  // at most; fewer while coins are scarce
    std::size_t inputs_per_tx = 2;    // at most; fewer while coins are scarce
    std::size_t outputs_per_tx = 3;   // fewer when the value would not cover them
    std::size_t keys = 64;            // distinct recipients, round robin
};

// The `index`-th key of the fixed set: its secret is SHA256("peerchain bench key" || index).
inline crypto::SecretKey bench_secret_key(std::uint32_t index) {
    const std::string seed = "peerchain bench key" + std::to_string(index);
    const crypto::Digest d = crypto::sha256(
        util::ByteSpan(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()));
    auto key = crypto::SecretKey::from_bytes(d);
    NODE_ASSERT(key.has_value());  // a hash is a valid secret with overwhelming odds
    return *key;
}

class SignedChainBuilder {
  public:
    SignedChainBuilder(const core::Params& params, SignedChainShape shape)
        : params_(params), shape_(shape) {
        NODE_ASSERT(shape_.keys > 0 && shape_.inputs_per_tx > 0 && shape_.outputs_per_tx > 0);
        for (std::uint32_t i = 0; i < shape_.keys; ++i) {
            keys_.push_back(bench_secret_key(i));
            pubs_.push_back(keys_.back().public_key());
        }
    }

    // A block at `height` on `prev_hash`: a coinbase paying the subsidy and the fees, then
    // at most min(txs_per_block, max_txs) transactions spending coins confirmed before it.
    core::Block make_block(std::uint32_t height, const core::Uint256& prev_hash, std::uint32_t time,
                           std::uint32_t bits, std::size_t max_txs) {
        while (!immature_.empty() &&
               height - immature_.front().first >= params_.coinbase_maturity) {
            spendable_.push_back(immature_.front().second);
            immature_.pop_front();
        }
        core::Block b;
        b.header.prev_hash = prev_hash;
        b.header.time = time;
        b.header.bits = bits;
        b.txs.emplace_back();  // the coinbase, once the fees are known
        core::Amount fees = 0;
        const std::size_t want = std::min(shape_.txs_per_block, max_txs);
        // Room for the header, the transaction count and the coinbase, then whole
        // transactions of the largest size this shape makes, while they fit.
        std::size_t size = core::kHeaderSize + 9 + 200;
        const std::size_t largest = 4 + 9 + shape_.inputs_per_tx * core::kTxInSize + 9 +
                                    shape_.outputs_per_tx * core::kTxOutSize + 4 + 1;
        while (b.txs.size() - 1 < want && !spendable_.empty() &&
               size + largest <= params_.max_block_size) {
            b.txs.push_back(make_transaction(&fees));
            size += b.txs.back().serialized_size();
        }
        b.txs[0] = core::make_coinbase(height, core::block_subsidy(height, params_) + fees,
                                       pubs_[next_key()], {});
        b.header.merkle_root = core::block_merkle_root(b);
        while (!core::check_proof_of_work(b.hash(), b.header.bits, params_)) ++b.header.nonce;
        return b;
    }

    // Records the outputs of `block`, accepted at `height`, as coins to spend later.
    void confirmed(const core::Block& block, std::uint32_t height) {
        for (std::size_t t = 0; t < block.txs.size(); ++t) {
            const core::Transaction& tx = block.txs[t];
            const core::Uint256 txid = tx.txid();
            for (std::size_t k = 0; k < tx.outputs.size(); ++k) {
                Spendable s{{txid, static_cast<std::uint32_t>(k)},
                            tx.outputs[k],
                            key_of(tx.outputs[k].recipient)};
                if (t == 0) {
                    immature_.emplace_back(height, s);
                } else {
                    spendable_.push_back(s);
                }
            }
        }
    }

    std::size_t spendable_coins() const { return spendable_.size(); }

  private:
    struct Spendable {
        core::OutPoint outpoint;
        core::TxOut out;
        std::size_t key;
    };

    static constexpr core::Amount kFee = 1000;

    std::size_t next_key() { return key_cursor_++ % keys_.size(); }

    std::size_t key_of(const core::XOnlyKey& pub) const {
        for (std::size_t i = 0; i < pubs_.size(); ++i) {
            if (pubs_[i] == pub) return i;
        }
        NODE_ASSERT(false && "an output to a key outside the set");
        return 0;
    }

    core::Transaction make_transaction(core::Amount* fees) {
        core::Transaction tx;
        std::vector<core::TxOut> spent;
        std::vector<std::size_t> signers;
        core::Amount in = 0;
        while (tx.inputs.size() < shape_.inputs_per_tx && !spendable_.empty()) {
            const Spendable s = spendable_.front();
            spendable_.pop_front();
            tx.inputs.push_back(core::TxIn{s.outpoint, {}});
            spent.push_back(s.out);
            signers.push_back(s.key);
            in += s.out.amount;
        }
        const core::Amount fee = in > 100 * kFee ? kFee : 0;
        const core::Amount value = in - fee;
        // Each output gets at least one base unit.
        const auto n = static_cast<core::Amount>(std::max<core::Amount>(
            1, std::min<core::Amount>(static_cast<core::Amount>(shape_.outputs_per_tx), value)));
        for (core::Amount k = 0; k < n; ++k) {
            const core::Amount share = value / n + (k == 0 ? value % n : 0);
            tx.outputs.push_back(core::TxOut{share, pubs_[next_key()]});
        }
        const core::SignatureHasher hasher(tx, spent, params_);
        static constexpr std::array<std::uint8_t, 32> kAux{};
        for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
            tx.inputs[i].signature = keys_[signers[i]].sign(hasher.for_input(i), kAux);
        }
        *fees += fee;
        return tx;
    }

    const core::Params& params_;
    SignedChainShape shape_;
    std::vector<crypto::SecretKey> keys_;
    std::vector<core::XOnlyKey> pubs_;
    std::size_t key_cursor_ = 0;
    std::deque<Spendable> spendable_;
    std::deque<std::pair<std::uint32_t, Spendable>> immature_;
};

}  // namespace peerchain::bench
