#include "wallet/spend.hpp"

#include <algorithm>
#include <string>

#include "core/check.hpp"
#include "core/sighash.hpp"
#include "util/assert.hpp"
#include "wallet/amount_text.hpp"

namespace peerchain::wallet {

namespace {

core::ValidationResult refuse(std::string reason, std::string detail) {
    return core::ValidationResult::fail(core::ValidationCode::kPolicy, std::move(reason),
                                        std::move(detail));
}

bool spendable(const WalletCoin& c, const KeyMap& keys) {
    if (c.spent_in_pool || !c.mature || !core::money_range(c.out.amount) || c.out.amount == 0) {
        return false;
    }
    if (!c.confirmed() && !c.from_self) return false;
    return keys.contains(c.out.recipient);
}

// Confirmed before unconfirmed, then largest first, then by outpoint so that equal coins
// still come in one order.
bool selection_order(const WalletCoin* a, const WalletCoin* b) {
    if (a->confirmed() != b->confirmed()) return a->confirmed();
    if (a->out.amount != b->out.amount) return a->out.amount > b->out.amount;
    return a->outpoint < b->outpoint;
}

}  // namespace

std::size_t tx_size(std::size_t inputs, std::size_t outputs, std::size_t data_size) noexcept {
    return 4 + core::compact_size_length(inputs) + inputs * core::kTxInSize +
           core::compact_size_length(outputs) + outputs * core::kTxOutSize + 4 +
           core::compact_size_length(data_size) + data_size;
}

core::Amount dust_threshold(core::Amount fee_rate) noexcept {
    return fee_rate * static_cast<core::Amount>(core::kTxInSize + core::kTxOutSize);
}

core::ValidationResult build_payment(std::span<const WalletCoin> coins,
                                     const PaymentRequest& request,
                                     const core::XOnlyKey& change_key, const KeyMap& keys,
                                     const core::Params& params, Payment* out) {
    NODE_ASSERT(out != nullptr);
    NODE_ASSERT(keys.contains(change_key));
    if (request.amount <= 0 || request.amount > core::kMaxMoney) {
        return refuse("amount-out-of-range",
                      "the amount must be above 0 and at most " + format_coins(core::kMaxMoney));
    }
    if (request.fee_rate < kMinFeeRate || request.fee_rate > kMaxFeeRate) {
        return refuse("fee-rate-out-of-range",
                      "the fee rate must be " + std::to_string(kMinFeeRate) + " to " +
                          std::to_string(kMaxFeeRate) + " base units per byte");
    }
    if (request.data.size() > params.max_data_size) {
        return refuse("data-too-large", std::to_string(request.data.size()) +
                                            " bytes of data, at most " +
                                            std::to_string(params.max_data_size));
    }
    if (!crypto::is_valid_xonly_key(request.to)) {
        return refuse("bad-address", "the recipient key is not a point on the curve");
    }

    std::vector<const WalletCoin*> candidates;
    if (request.coins.empty()) {
        for (const WalletCoin& c : coins) {
            if (spendable(c, keys)) candidates.push_back(&c);
        }
    }
    for (const core::OutPoint& named : request.coins) {
        const auto it = std::find_if(coins.begin(), coins.end(),
                                     [&named](const WalletCoin& c) { return c.outpoint == named; });
        const std::string name = named.txid.to_hex() + ":" + std::to_string(named.index);
        if (it == coins.end()) return refuse("unknown-coin", "the wallet has no coin " + name);
        WalletCoin unspent = *it;
        unspent.spent_in_pool = false;
        if (!spendable(unspent, keys)) {
            std::string why = " is an unconfirmed payment from someone else";
            if (!it->mature) why = " is immature";
            if (!keys.contains(it->out.recipient)) why = " is not of this wallet's keys";
            return refuse("coin-not-spendable", name + why);
        }
        if (std::find(candidates.begin(), candidates.end(), &*it) == candidates.end()) {
            candidates.push_back(&*it);
        }
    }
    std::sort(candidates.begin(), candidates.end(), selection_order);

    const core::Amount rate = request.fee_rate;
    const std::size_t data_size = request.data.size();
    std::vector<const WalletCoin*> selected;
    core::Amount total = 0;
    core::Amount fee = 0;
    core::Amount change = 0;
    bool covered = false;
    bool too_large = false;
    for (const WalletCoin* c : candidates) {
        selected.push_back(c);
        total += c->out.amount;
        const std::size_t size_one = tx_size(selected.size(), 1, data_size);
        if (size_one > params.max_tx_size) {
            too_large = true;
            break;
        }
        const core::Amount fee_one = rate * static_cast<core::Amount>(size_one);
        if (total < request.amount + fee_one) continue;
        const std::size_t size_two = tx_size(selected.size(), 2, data_size);
        const core::Amount fee_two = rate * static_cast<core::Amount>(size_two);
        const core::Amount left = total - request.amount - fee_two;
        if (left >= dust_threshold(rate)) {
            if (size_two > params.max_tx_size) {
                too_large = true;
                break;
            }
            fee = fee_two;
            change = left;
        } else {
            // Dust change would cost more to spend than it is worth: it pays the fee.
            fee = total - request.amount;
        }
        covered = true;
        break;
    }

    if (!covered) {
        if (too_large) {
            return refuse("tx-too-large", "paying " + format_coins(request.amount) + " needs " +
                                              "more than the " +
                                              std::to_string(selected.size() - 1) +
                                              " inputs a transaction can hold; "
                                              "send a smaller amount first");
        }
        core::Amount spendable_total = 0;
        for (const WalletCoin* c : candidates) {
            spendable_total = std::min(core::kMaxMoney, spendable_total + c->out.amount);
        }
        const Balance b = balance(coins);
        const std::size_t inputs = std::max<std::size_t>(candidates.size(), 1);
        const core::Amount needed =
            request.amount + rate * static_cast<core::Amount>(tx_size(inputs, 1, data_size));
        std::string detail = "spendable " + format_coins(spendable_total) + ", needed " +
                             format_coins(needed) + " (amount plus fee)";
        if (b.immature > 0 || b.pending > 0) {
            detail += "; not yet spendable: " + format_coins(b.immature) + " immature, " +
                      format_coins(b.pending) + " pending";
        }
        return refuse("insufficient-funds", std::move(detail));
    }

    std::sort(selected.begin(), selected.end(),
              [](const WalletCoin* a, const WalletCoin* b) { return a->outpoint < b->outpoint; });
    Payment payment;
    payment.tx.data = request.data;
    std::vector<core::TxOut> spent_outs;
    for (const WalletCoin* c : selected) {
        payment.tx.inputs.push_back(core::TxIn{c->outpoint, {}});
        payment.spent.push_back(*c);
        spent_outs.push_back(c->out);
    }
    payment.tx.outputs.push_back(core::TxOut{request.amount, request.to});
    if (change > 0) payment.tx.outputs.push_back(core::TxOut{change, change_key});
    std::sort(payment.tx.outputs.begin(), payment.tx.outputs.end(),
              [](const core::TxOut& a, const core::TxOut& b) {
                  if (a.amount != b.amount) return a.amount < b.amount;
                  return a.recipient < b.recipient;
              });
    payment.fee = fee;
    payment.change = change;

    const core::SignatureHasher hasher(payment.tx, spent_outs, params);
    for (std::size_t i = 0; i < payment.tx.inputs.size(); ++i) {
        const crypto::SecretKey& key = keys.at(spent_outs[i].recipient);
        payment.tx.inputs[i].signature = key.sign(hasher.for_input(i));
    }

    // Our own construction; a failure here is a bug in this file, which the node must not
    // turn into a transaction it offers its peers.
    if (auto r = core::check_transaction(payment.tx, params); !r) {
        return core::ValidationResult::fail(core::ValidationCode::kInternal, r.reason, r.detail);
    }
    *out = std::move(payment);
    return core::ValidationResult::ok();
}

}  // namespace peerchain::wallet
