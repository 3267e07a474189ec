// The JSON spelling of the format vectors (README.md), shared by the generator that writes
// them and the test that reads them back, so that both agree on one schema:
//
//   bytes            lower-case hex of the bytes in order ("hex", "signature", "data", keys)
//   hash             a 32-byte id (block id, txid, leaf, merkle node, prev_hash, prev_txid)
//                    in display order: the bytes reversed, as docs/PROTOCOL.md writes them
//   bits             the compact target as 8 hex digits ("1f00ffff")
//   target, work     a 256-bit number as 64 hex digits, most significant first
//   amount, time     JSON integers
//
// The readers NODE_ASSERT on a malformed file: the files are ours, committed beside the
// code, and a broken one is a bug to fix, not an input to survive.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "core/arith_uint256.hpp"
#include "core/block.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"
#include "core/uint256.hpp"
#include "util/bytes.hpp"

namespace peerchain::conformance {

namespace json = boost::json;

std::string bits_hex(std::uint32_t bits);
std::string number_hex(const core::ArithUint256& v);

// Header and transaction fields, in the order of their serialization.
json::object header_fields(const core::BlockHeader& header);
json::object tx_fields(const core::Transaction& tx);

// The bytes the txid hashes, written from the text of docs/PROTOCOL.md 1.2 (the
// transaction without the 64-byte signature of each input) rather than by the code's
// serializer, so that the test shows the two agree.
util::Bytes txid_preimage(const core::Transaction& tx);

// Readers of the same spellings.
const json::value& at(const json::value& v, std::string_view key);
std::string str(const json::value& v, std::string_view key);
util::Bytes bytes(const json::value& v, std::string_view key);
core::Uint256 hash(const json::value& v, std::string_view key);
std::array<std::uint8_t, 32> key32(const json::value& v, std::string_view key);
std::uint32_t bits(const json::value& v, std::string_view key);
core::ArithUint256 number(const json::value& v, std::string_view key);
std::int64_t int64(const json::value& v, std::string_view key);
std::uint64_t uint64(const json::value& v, std::string_view key);

core::BlockHeader header_from(const json::value& fields);
core::Transaction tx_from(const json::value& fields);

// The parsed file `name` of the directory `dir`; NODE_ASSERT when it is missing or not JSON.
json::value read_vectors(const std::string& dir, const std::string& name);

// The parameters of the network `v["network"]` names; NODE_ASSERT when it names none.
const core::Params& network_of(const json::value& v);

}  // namespace peerchain::conformance

namespace peerchain::core {

// So that a failing comparison prints hex (display order) rather than a list of bytes.
inline void PrintTo(const Uint256& v, std::ostream* os) { *os << v.to_hex(); }
inline void PrintTo(const ArithUint256& v, std::ostream* os) { *os << v.to_hex(); }

}  // namespace peerchain::core
