// peerchain-make-chain: writes a valid regtest chain straight into a node's data directory,
// as fast as the chain accepts it, with the earliest timestamps the median-time-past rule
// allows (so the chain is valid now). For tests and benchmarks that need a long chain to
// sync from.
//
//   peerchain-make-chain --data-dir DIR [--blocks N] [--txs N [--txs-per-block K]
//                        [--inputs-per-tx I] [--outputs-per-tx O]] [--network regtest]
//                        [--tag TEXT]
//
// Without --txs the blocks hold only a coinbase. With --txs, once the first coinbases are
// mature (block 101 on regtest), blocks carry up to K signed transactions (default 100)
// until N are in, each spending up to I earlier outputs (default 2) into O new ones
// (default 3), so the coin set fans out (bench/signed_chain.hpp). The chain ends when it
// has at least --blocks blocks and exactly --txs transactions besides the coinbases. The
// keys come from a fixed seed: the same arguments write the same chain. --tag puts TEXT in
// every coinbase's data, so that two data directories given different tags get two
// different chains of the same shape from genesis (a reorg test needs a rival chain).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/signed_chain.hpp"
#include "chain/chainstate.hpp"
#include "core/merkle.hpp"
#include "core/pow.hpp"
#include "node/config.hpp"
#include "store/leveldb_database.hpp"

using namespace peerchain;

namespace {

const char kUsage[] =
    "usage: peerchain-make-chain --data-dir DIR [--blocks N] [--txs N [--txs-per-block K]\n"
    "                            [--inputs-per-tx I] [--outputs-per-tx O]] [--network regtest]\n"
    "                            [--tag TEXT]\n";

// A positive count, or -1.
long parse_count(const char* text) {
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    return end != text && *end == '\0' && v > 0 ? v : -1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string data_dir;
    long blocks = 0;
    long txs = 0;
    bench::SignedChainShape shape;
    std::string network = "regtest";
    std::string tag;
    bool ok = argc % 2 == 1;
    for (int i = 1; ok && i + 1 < argc; i += 2) {
        const char* name = argv[i];
        const char* value = argv[i + 1];
        if (std::strcmp(name, "--data-dir") == 0) {
            data_dir = value;
        } else if (std::strcmp(name, "--network") == 0) {
            network = value;
        } else if (std::strcmp(name, "--tag") == 0) {
            tag = value;
        } else {
            const long n = parse_count(value);
            ok = n > 0;
            if (std::strcmp(name, "--blocks") == 0) {
                blocks = n;
            } else if (std::strcmp(name, "--txs") == 0) {
                txs = n;
            } else if (std::strcmp(name, "--txs-per-block") == 0) {
                shape.txs_per_block = static_cast<std::size_t>(n);
            } else if (std::strcmp(name, "--inputs-per-tx") == 0) {
                shape.inputs_per_tx = static_cast<std::size_t>(n);
            } else if (std::strcmp(name, "--outputs-per-tx") == 0) {
                shape.outputs_per_tx = static_cast<std::size_t>(n);
            } else {
                ok = false;
            }
        }
    }
    auto net = core::parse_network(network);
    if (!ok || data_dir.empty() || (blocks <= 0 && txs <= 0) || !net ||
        tag.size() > core::params(*net).max_data_size) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const core::Params& params = core::params(*net);
    auto db = store::open_leveldb(node::chain_db_dir(data_dir), store::Options{});
    if (!db) {
        std::fprintf(stderr, "%s\n", db.error().to_string().c_str());
        return 1;
    }
    chain::ChainstateOptions options;
    options.blocks_dir = node::blocks_dir(data_dir);
    auto chain =
        chain::Chainstate::open(**db, params, util::SystemClock::instance(), nullptr, options);
    if (!chain) {
        std::fprintf(stderr, "%s\n", chain.error().to_string().c_str());
        return 1;
    }
    bench::SignedChainBuilder builder(params, shape);
    const auto start = std::chrono::steady_clock::now();
    long made_blocks = 0;
    long made_txs = 0;
    long inputs = 0;
    while (made_blocks < blocks || made_txs < txs) {
        const auto ctx = (*chain)->next_block_context();
        core::Block made = builder.make_block(ctx.height, ctx.parent->hash,
                                              static_cast<std::uint32_t>(ctx.min_time), ctx.bits,
                                              static_cast<std::size_t>(txs - made_txs));
        if (!tag.empty()) {
            made.txs[0].data.assign(tag.begin(), tag.end());
            made.header.merkle_root = core::block_merkle_root(made);
            made.header.nonce = 0;
            while (!core::check_proof_of_work(made.hash(), made.header.bits, params)) {
                ++made.header.nonce;
            }
        }
        auto block = std::make_shared<core::Block>(std::move(made));
        const auto r = (*chain)->process_block(block);
        if (!r) {
            std::fprintf(stderr, "block %u refused: %s\n", ctx.height, r.to_string().c_str());
            return 1;
        }
        builder.confirmed(*block, ctx.height);
        ++made_blocks;
        made_txs += static_cast<long>(block->txs.size()) - 1;
        for (std::size_t t = 1; t < block->txs.size(); ++t) {
            inputs += static_cast<long>(block->txs[t].inputs.size());
        }
    }
    if (auto f = (*chain)->flush(); !f) {
        std::fprintf(stderr, "%s\n", f.error().to_string().c_str());
        return 1;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "%ld blocks, %ld transactions (%ld inputs), %zu spendable coins, tip %s at "
        "height %u, %.1f s\n",
        made_blocks, made_txs, inputs, builder.spendable_coins(),
        (*chain)->tip()->hash.to_hex().c_str(), (*chain)->tip()->height, secs);
    return 0;
}
