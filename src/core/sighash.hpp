// The message a transaction input's signature signs.
//
//   sighash(tx, i) := tagged_hash("peerchain/sighash",
//       magic:4 version:u32
//       n_in:compact_size (prev_txid:32 prev_index:u32 spent_amount:u64 spent_recipient:32)*
//       n_out:compact_size (amount:u64 recipient:32)*
//       lock_time:u32 data:compact_size(len) byte*
//       input_index:u32)
//
// It commits to the network (no replay across networks), to every input's outpoint and
// the amount and key it spends (so a signer knows the fee it pays), to every output, to
// lock_time and to the data payload, and to which input is signing. Signatures themselves
// are left out, so the inputs of one transaction can be signed in any order.
#pragma once

#include <cstddef>
#include <span>

#include "core/params.hpp"
#include "core/transaction.hpp"
#include "crypto/sha256.hpp"

namespace peerchain::core {

// Hashes the parts shared by every input once; for_input() then costs one hash block.
class SignatureHasher {
  public:
    // `spent` holds the output each input spends, in input order (same length as inputs).
    SignatureHasher(const Transaction& tx, std::span<const TxOut> spent, const Params& p);
    crypto::Digest for_input(std::size_t input_index) const;

  private:
    crypto::Sha256 prefix_;
};

// True when input `input_index` carries a valid signature by the key of the output it
// spends. False on any mismatch (wrong sizes included).
bool verify_input(const Transaction& tx, std::size_t input_index, std::span<const TxOut> spent,
                  const Params& p);

// The same with the shared part hashed once per transaction (`hasher` built from tx and
// spent): validation checks every input this way, so a transaction with many inputs costs
// one hash of itself, not one per input.
bool verify_input(const SignatureHasher& hasher, const Transaction& tx, std::size_t input_index,
                  std::span<const TxOut> spent);

}  // namespace peerchain::core
