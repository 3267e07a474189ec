// peerchain-make-chain: writes a regtest chain of N coinbase-only blocks straight into a
// node's data directory, as fast as the chain accepts them, with the earliest timestamps
// the median-time-past rule allows (so the chain is valid now). For tests and benchmarks
// that need a long chain to sync from.
//
//   peerchain-make-chain --data-dir DIR --blocks N [--network regtest]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "chain/chainstate.hpp"
#include "core/merkle.hpp"
#include "core/pow.hpp"
#include "node/config.hpp"
#include "store/leveldb_database.hpp"

using namespace peerchain;

int main(int argc, char** argv) {
    std::string data_dir;
    long blocks = 0;
    std::string network = "regtest";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--data-dir") == 0) data_dir = argv[i + 1];
        if (std::strcmp(argv[i], "--blocks") == 0) blocks = std::strtol(argv[i + 1], nullptr, 10);
        if (std::strcmp(argv[i], "--network") == 0) network = argv[i + 1];
    }
    auto net = core::parse_network(network);
    if (data_dir.empty() || blocks <= 0 || !net) {
        std::fprintf(stderr,
                     "usage: peerchain-make-chain --data-dir DIR --blocks N [--network regtest]\n");
        return 2;
    }
    const core::Params& params = core::params(*net);
    auto db = store::open_leveldb(node::chain_db_dir(data_dir), store::Options{});
    if (!db) {
        std::fprintf(stderr, "%s\n", db.error().to_string().c_str());
        return 1;
    }
    auto chain = chain::Chainstate::open(**db, params, util::SystemClock::instance(), nullptr);
    if (!chain) {
        std::fprintf(stderr, "%s\n", chain.error().to_string().c_str());
        return 1;
    }
    core::XOnlyKey miner{};
    miner[0] = 0x4d;
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < blocks; ++i) {
        const auto ctx = (*chain)->next_block_context();
        auto block = std::make_shared<core::Block>();
        block->header.prev_hash = ctx.parent->hash;
        block->header.bits = ctx.bits;
        block->header.time = static_cast<std::uint32_t>(ctx.min_time);
        block->txs.push_back(
            core::make_coinbase(ctx.height, core::block_subsidy(ctx.height, params), miner, {}));
        block->header.merkle_root = core::block_merkle_root(*block);
        while (!core::check_proof_of_work(block->hash(), block->header.bits, params)) {
            ++block->header.nonce;
        }
        const auto r = (*chain)->process_block(block);
        if (!r) {
            std::fprintf(stderr, "block %u refused: %s\n", ctx.height, r.to_string().c_str());
            return 1;
        }
    }
    if (auto f = (*chain)->flush(); !f) {
        std::fprintf(stderr, "%s\n", f.error().to_string().c_str());
        return 1;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%ld blocks, tip %s at height %u, %.1f s\n", blocks,
                (*chain)->tip()->hash.to_hex().c_str(), (*chain)->tip()->height, secs);
    return 0;
}
