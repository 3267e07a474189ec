// The builders of each vector file of tests/conformance, for the generator
// (generate_formats.cpp). Each returns the whole file's JSON, computed by the node's code
// from fixed inputs: keys and aux randomness are SHA-256 of fixed names, times are fixed.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "crypto/schnorr.hpp"
#include "tests/conformance/formats_json.hpp"

namespace peerchain::conformance {

// SHA-256 of `name`: a fixed 32-byte value (prev_txid, aux randomness) that reads as what
// it is for. formats_blocks.cpp.
core::Uint256 named_hash(const std::string& name);
// The secret key SHA-256("peerchain conformance key " + name), and its public key.
crypto::SecretKey named_secret(const std::string& name);
core::XOnlyKey named_key(const std::string& name);

json::value genesis_vectors();        // formats_blocks.cpp
json::value serialization_vectors();  // formats_blocks.cpp
json::value merkle_vectors();         // formats_blocks.cpp
json::value pow_vectors();            // formats_pow.cpp
json::value asert_vectors();          // formats_pow.cpp
json::value sighash_vectors();        // formats_keys.cpp
json::value address_vectors();        // formats_keys.cpp

}  // namespace peerchain::conformance
