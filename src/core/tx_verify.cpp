#include "core/tx_verify.hpp"

#include <string>
#include <vector>

#include "core/sighash.hpp"
#include "util/assert.hpp"

namespace peerchain::core {

namespace {

std::string tx_detail(const Transaction& tx, const std::string& what) {
    return "tx " + tx.txid().to_hex() + ": " + what;
}

}  // namespace

ValidationResult check_tx_inputs(const Transaction& tx, std::span<const Coin> spent,
                                 std::uint32_t spend_height, const Params& p, Amount* fee) {
    NODE_ASSERT(spent.size() == tx.inputs.size());
    Amount value_in = 0;
    for (const Coin& c : spent) {
        if (c.coinbase && spend_height - c.height < p.coinbase_maturity) {
            return ValidationResult::invalid(
                "bad-txns-premature-spend-of-coinbase",
                tx_detail(tx, "spends a coinbase of depth " +
                                  std::to_string(spend_height - c.height) + ", needs " +
                                  std::to_string(p.coinbase_maturity)));
        }
        if (!money_range(c.out.amount) || !money_range(value_in + c.out.amount)) {
            return ValidationResult::invalid("bad-txns-inputvalues-outofrange",
                                             tx_detail(tx, "input values out of range"));
        }
        value_in += c.out.amount;
    }
    Amount value_out = 0;
    for (const auto& out : tx.outputs) value_out += out.amount;  // in range: check_transaction
    if (value_in < value_out) {
        return ValidationResult::invalid(
            "bad-txns-in-belowout", tx_detail(tx, "value in " + std::to_string(value_in) +
                                                      " < value out " + std::to_string(value_out)));
    }
    if (fee != nullptr) *fee = value_in - value_out;
    return ValidationResult::ok();
}

ValidationResult check_tx_signatures(const Transaction& tx, std::span<const Coin> spent,
                                     const Params& p) {
    NODE_ASSERT(spent.size() == tx.inputs.size());
    std::vector<TxOut> outs;
    outs.reserve(spent.size());
    for (const Coin& c : spent) outs.push_back(c.out);
    const SignatureHasher hasher(tx, outs, p);
    for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
        if (!verify_input(hasher, tx, i, outs)) {
            return ValidationResult::invalid(
                "bad-txns-signature",
                tx_detail(tx, "input " + std::to_string(i) + " has an invalid signature"));
        }
    }
    return ValidationResult::ok();
}

}  // namespace peerchain::core
