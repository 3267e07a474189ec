// libFuzzer target: core::decode_transaction on arbitrary bytes. A transaction that decodes
// must encode back to exactly the input (one encoding per transaction) and report that
// size; the context-free checks, the txid and the signature message must not crash on it.
// Seeds: fuzz/corpus/transaction_decode/.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/check.hpp"
#include "core/params.hpp"
#include "core/sighash.hpp"
#include "core/transaction.hpp"
#include "util/assert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace peerchain;
    const core::Params& params = core::params(core::Network::kRegtest);
    const util::ByteSpan input(data, size);
    auto tx = core::decode_transaction(input);
    if (!tx) return 0;
    const util::Bytes again = tx->encode();
    NODE_ASSERT(again.size() == size);
    NODE_ASSERT(std::equal(again.begin(), again.end(), input.begin()));
    NODE_ASSERT(tx->serialized_size() == size);
    (void)core::check_transaction(*tx, params);
    (void)tx->txid();
    (void)tx->leaf_hash();
    if (!tx->inputs.empty()) {
        // Pretend each input spends an output of the transaction itself: any key, valid or
        // not, must give a plain false rather than a crash.
        std::vector<core::TxOut> spent(tx->inputs.size());
        for (std::size_t i = 0; i < spent.size() && !tx->outputs.empty(); ++i) {
            spent[i] = tx->outputs[i % tx->outputs.size()];
        }
        const core::SignatureHasher hasher(*tx, spent, params);
        (void)core::verify_input(hasher, *tx, 0, spent);
    }
    return 0;
}
