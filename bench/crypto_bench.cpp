// Signature verification, from libsecp256k1 alone up to a block's inputs spread over the
// chain's worker pool: the yardstick for validation (docs/BENCHMARKS.md).
//
// Every benchmark checks the same batch of 4,000 distinct valid signatures per iteration:
// 2,000 transactions of two inputs and three outputs, each input signed by its own key
// over its core::SignatureHasher message. The `verifications` counter is signatures checked
// per second of wall-clock time, summed over threads.
//
// - BM_Secp256k1Verify: secp256k1_schnorrsig_verify on keys parsed beforehand, one context:
//   the library's own speed, the yardstick. On 2 threads each thread checks the whole
//   batch, which shows what the two cores give when nothing is shared.
// - BM_Secp256k1ParseVerify: the same plus secp256k1_xonly_pubkey_parse (a square root) per
//   signature, which any verifier pays that reads the key as 32 bytes from an output.
// - BM_SchnorrVerify: crypto::schnorr_verify, which does exactly that.
// - BM_VerifyInput: core::verify_input with one core::SignatureHasher built per transaction,
//   as check_tx_signatures does.
// - BM_ScriptCheckPool/threads: the block path: chain::ScriptCheckPool::run over the batch
//   with the hashers built beforehand, as Chainstate builds them in its pass over the coins.
#include <benchmark/benchmark.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "bench/signed_chain.hpp"
#include "chain/script_check_pool.hpp"
#include "core/params.hpp"
#include "core/sighash.hpp"
#include "core/transaction.hpp"
#include "crypto/schnorr.hpp"
#include "crypto/sha256.hpp"

namespace {

namespace bench = peerchain::bench;
namespace chain = peerchain::chain;
namespace core = peerchain::core;
namespace crypto = peerchain::crypto;
namespace util = peerchain::util;

constexpr std::size_t kTxs = 2000;
constexpr std::size_t kInputsPerTx = 2;
constexpr std::size_t kOutputsPerTx = 3;

const core::Params& regtest() { return core::params(core::Network::kRegtest); }

// The batch: transactions, the outputs they spend, and each input's message, key and
// signature flattened in input order.
struct Batch {
    std::vector<core::Transaction> txs;
    std::vector<std::vector<core::TxOut>> spent;
    std::vector<std::optional<core::SignatureHasher>> hashers;
    struct Job {
        std::uint32_t tx;
        std::uint32_t input;
    };
    std::vector<Job> jobs;
    std::vector<crypto::XOnlyPublicKey> pubkeys;
    std::vector<crypto::Digest> messages;
    std::vector<crypto::SchnorrSignature> signatures;

    std::size_t size() const { return jobs.size(); }
};

core::Uint256 fake_txid(std::uint32_t i) {
    std::array<std::uint8_t, 4> bytes{static_cast<std::uint8_t>(i),
                                      static_cast<std::uint8_t>(i >> 8),
                                      static_cast<std::uint8_t>(i >> 16), 0xb7};
    const crypto::Digest d = crypto::sha256(util::ByteSpan(bytes.data(), bytes.size()));
    return core::Uint256::from_bytes(util::ByteSpan(d.data(), d.size()));
}

const Batch& batch() {
    static const Batch b = [] {
        Batch out;
        const core::Params& p = regtest();
        std::uint32_t key_index = 0;
        for (std::uint32_t t = 0; t < kTxs; ++t) {
            core::Transaction tx;
            std::vector<core::TxOut> spent;
            std::vector<crypto::SecretKey> signers;
            for (std::uint32_t k = 0; k < kInputsPerTx; ++k) {
                signers.push_back(bench::bench_secret_key(key_index++));
                tx.inputs.push_back(core::TxIn{{fake_txid(t * kInputsPerTx + k), k}, {}});
                spent.push_back(core::TxOut{50 * core::kCoin, signers.back().public_key()});
            }
            for (std::uint32_t k = 0; k < kOutputsPerTx; ++k) {
                tx.outputs.push_back(
                    core::TxOut{30 * core::kCoin, bench::bench_secret_key(k).public_key()});
            }
            const core::SignatureHasher hasher(tx, spent, p);
            for (std::uint32_t k = 0; k < kInputsPerTx; ++k) {
                const crypto::Digest msg = hasher.for_input(k);
                tx.inputs[k].signature = signers[k].sign(msg);
                out.jobs.push_back({t, k});
                out.pubkeys.push_back(spent[k].recipient);
                out.messages.push_back(msg);
                out.signatures.push_back(tx.inputs[k].signature);
            }
            out.txs.push_back(std::move(tx));
            out.spent.push_back(std::move(spent));
        }
        for (std::size_t t = 0; t < out.txs.size(); ++t) {
            out.hashers.emplace_back(std::in_place, out.txs[t], out.spent[t], p);
        }
        return out;
    }();
    return b;
}

void set_rate(benchmark::State& state, std::size_t per_iteration) {
    state.counters["verifications"] = benchmark::Counter(
        static_cast<double>(state.iterations() * per_iteration), benchmark::Counter::kIsRate);
}

secp256k1_context* secp_context() {
    static secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    return ctx;
}

void BM_Secp256k1Verify(benchmark::State& state) {
    const Batch& b = batch();
    const secp256k1_context* ctx = secp_context();
    std::vector<secp256k1_xonly_pubkey> keys(b.size());
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (secp256k1_xonly_pubkey_parse(ctx, &keys[i], b.pubkeys[i].data()) != 1) {
            state.SkipWithError("key does not parse");
            return;
        }
    }
    for (auto _ : state) {
        for (std::size_t i = 0; i < b.size(); ++i) {
            if (secp256k1_schnorrsig_verify(ctx, b.signatures[i].data(), b.messages[i].data(), 32,
                                            &keys[i]) != 1) {
                state.SkipWithError("signature refused");
                return;
            }
        }
    }
    set_rate(state, b.size());
}
BENCHMARK(BM_Secp256k1Verify)->Threads(1)->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Secp256k1ParseVerify(benchmark::State& state) {
    const Batch& b = batch();
    const secp256k1_context* ctx = secp_context();
    for (auto _ : state) {
        for (std::size_t i = 0; i < b.size(); ++i) {
            secp256k1_xonly_pubkey key;
            if (secp256k1_xonly_pubkey_parse(ctx, &key, b.pubkeys[i].data()) != 1 ||
                secp256k1_schnorrsig_verify(ctx, b.signatures[i].data(), b.messages[i].data(), 32,
                                            &key) != 1) {
                state.SkipWithError("signature refused");
                return;
            }
        }
    }
    set_rate(state, b.size());
}
BENCHMARK(BM_Secp256k1ParseVerify)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_SchnorrVerify(benchmark::State& state) {
    const Batch& b = batch();
    for (auto _ : state) {
        for (std::size_t i = 0; i < b.size(); ++i) {
            if (!crypto::schnorr_verify(b.pubkeys[i], b.messages[i], b.signatures[i])) {
                state.SkipWithError("signature refused");
                return;
            }
        }
    }
    set_rate(state, b.size());
}
BENCHMARK(BM_SchnorrVerify)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_VerifyInput(benchmark::State& state) {
    const Batch& b = batch();
    const core::Params& p = regtest();
    for (auto _ : state) {
        for (std::size_t t = 0; t < b.txs.size(); ++t) {
            const core::SignatureHasher hasher(b.txs[t], b.spent[t], p);
            for (std::size_t k = 0; k < b.txs[t].inputs.size(); ++k) {
                if (!core::verify_input(hasher, b.txs[t], k, b.spent[t])) {
                    state.SkipWithError("signature refused");
                    return;
                }
            }
        }
    }
    set_rate(state, b.size());
}
BENCHMARK(BM_VerifyInput)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ScriptCheckPool(benchmark::State& state) {
    const Batch& b = batch();
    chain::ScriptCheckPool pool(static_cast<unsigned>(state.range(0)));
    const std::function<bool(std::size_t)> check = [&b](std::size_t j) {
        const Batch::Job& job = b.jobs[j];
        return core::verify_input(*b.hashers[job.tx], b.txs[job.tx], job.input, b.spent[job.tx]);
    };
    for (auto _ : state) {
        if (pool.run(b.size(), check)) {
            state.SkipWithError("signature refused");
            return;
        }
    }
    set_rate(state, b.size());
}
BENCHMARK(BM_ScriptCheckPool)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
