#include "chain/storage_format.hpp"

#include <cstring>
#include <string>
#include <string_view>

#include "chain/block_index.hpp"
#include "core/amount.hpp"
#include "core/serialize.hpp"

namespace peerchain::chain::storage {

namespace {

util::Unexpected corrupt(std::string what) {
    return util::Unexpected(util::Errc::kCorruption, std::move(what));
}

util::Bytes meta_key(std::string_view name) {
    util::Bytes key(1 + name.size());
    key[0] = kMetaPrefix;
    std::memcpy(key.data() + 1, name.data(), name.size());
    return key;
}

using util::get_u32;
using util::put_u32;

void put_u32be(std::uint8_t* at, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * (3 - i)));
}

std::uint32_t get_u32be(const std::uint8_t* at) noexcept {
    return (std::uint32_t{at[0]} << 24) | (std::uint32_t{at[1]} << 16) |
           (std::uint32_t{at[2]} << 8) | std::uint32_t{at[3]};
}

void put_u64(std::uint8_t* at, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t get_u64(const std::uint8_t* at) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | at[i];
    return v;
}

void put_hash(std::uint8_t* at, util::ByteSpan hash) noexcept {
    std::memcpy(at, hash.data(), hash.size());
}

}  // namespace

HashKey hash_key(std::uint8_t prefix, const core::Uint256& hash) noexcept {
    HashKey key;
    key[0] = prefix;
    std::memcpy(key.data() + 1, hash.data(), core::Uint256::kSize);
    return key;
}

IndexKey index_key(std::uint32_t height, const core::Uint256& hash) noexcept {
    IndexKey key;
    key[0] = kIndexPrefix;
    put_u32be(key.data() + 1, height);
    std::memcpy(key.data() + 5, hash.data(), core::Uint256::kSize);
    return key;
}

CoinKey coin_key(const core::OutPoint& outpoint) noexcept {
    CoinKey key;
    key[0] = kCoinPrefix;
    std::memcpy(key.data() + 1, outpoint.txid.data(), core::Uint256::kSize);
    // Big-endian, so that the outputs of one transaction sort together and in order.
    put_u32be(key.data() + 33, outpoint.index);
    return key;
}

util::Result<core::OutPoint> decode_coin_key(util::ByteSpan key) {
    if (key.size() != std::tuple_size_v<CoinKey> || key[0] != kCoinPrefix) {
        return corrupt("coin key of " + std::to_string(key.size()) + " bytes");
    }
    core::OutPoint out;
    out.txid = core::Uint256::from_bytes(key.subspan(1, 32));
    out.index = get_u32be(key.data() + 33);
    return out;
}

util::Bytes coins_tip_key() { return meta_key("coins_tip"); }
util::Bytes version_key() { return meta_key("version"); }
util::Bytes history_tip_key() { return meta_key("history_tip"); }

EncodedIndex encode_index(const core::BlockHeader& header, std::uint32_t height,
                          std::uint32_t status, store::FlatPos pos) noexcept {
    EncodedIndex out;
    const auto h = header.encode();
    std::memcpy(out.bytes.data(), h.data(), h.size());
    put_u32(out.bytes.data() + core::kHeaderSize, height);
    put_u32(out.bytes.data() + core::kHeaderSize + 4, status);
    out.size = kIndexRecordSize;
    if (!pos.null()) {
        put_u32(out.bytes.data() + kIndexRecordSize, pos.file);
        put_u32(out.bytes.data() + kIndexRecordSize + 4, pos.offset);
        put_u32(out.bytes.data() + kIndexRecordSize + 8, pos.size);
        out.size = kIndexRecordWithPosSize;
    }
    return out;
}

util::Result<IndexRecord> decode_index(util::ByteSpan bytes) {
    if (bytes.size() != kIndexRecordSize && bytes.size() != kIndexRecordWithPosSize) {
        return corrupt("index record of " + std::to_string(bytes.size()) + " bytes");
    }
    auto header = core::decode_header(bytes.first(core::kHeaderSize));
    if (!header) return corrupt("index record: " + header.error().message);
    IndexRecord record;
    record.header = *header;
    record.height = get_u32(bytes.data() + core::kHeaderSize);
    record.status = get_u32(bytes.data() + core::kHeaderSize + 4);
    if (bytes.size() == kIndexRecordWithPosSize) {
        record.pos.file = get_u32(bytes.data() + kIndexRecordSize);
        record.pos.offset = get_u32(bytes.data() + kIndexRecordSize + 4);
        record.pos.size = get_u32(bytes.data() + kIndexRecordSize + 8);
        if (record.pos.null() || (record.status & kHaveData) == 0) {
            return corrupt("index record: a block position without the block");
        }
    }
    return record;
}

std::array<std::uint8_t, kCoinSize> encode_coin(const Coin& coin) noexcept {
    std::array<std::uint8_t, kCoinSize> out;
    const auto amount = static_cast<std::uint64_t>(coin.out.amount);
    for (int i = 0; i < 8; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(amount >> (8 * i));
    std::memcpy(out.data() + 8, coin.out.recipient.data(), 32);
    put_u32(out.data() + 40, coin.height);
    out[44] = coin.coinbase ? 1 : 0;
    return out;
}

namespace {

bool read_coin(core::Reader& r, Coin& coin) {
    std::uint64_t amount = 0;
    std::uint8_t coinbase = 0;
    if (!r.u64(amount) || !r.array(coin.out.recipient) || !r.u32(coin.height) || !r.u8(coinbase)) {
        return false;
    }
    coin.out.amount = static_cast<core::Amount>(amount);
    coin.coinbase = coinbase == 1;
    return core::money_range(coin.out.amount) && coinbase <= 1;
}

}  // namespace

util::Result<Coin> decode_coin(util::ByteSpan bytes) {
    core::Reader r(bytes);
    Coin coin;
    if (!read_coin(r, coin) || !r.at_end()) {
        return corrupt("coin record of " + std::to_string(bytes.size()) + " bytes");
    }
    return coin;
}

util::Bytes encode_undo(const std::vector<Coin>& coins) {
    util::Bytes out;
    out.reserve(core::compact_size_length(coins.size()) + coins.size() * kCoinSize);
    core::Writer w(out);
    w.compact_size(coins.size());
    for (const Coin& coin : coins) w.bytes(encode_coin(coin));
    return out;
}

util::Result<std::vector<Coin>> decode_undo(util::ByteSpan bytes) {
    core::Reader r(bytes);
    std::uint64_t n = 0;
    if (!r.compact_size(n, r.remaining() / kCoinSize)) return corrupt("undo record: bad count");
    std::vector<Coin> coins(static_cast<std::size_t>(n));
    for (Coin& coin : coins) {
        if (!read_coin(r, coin)) return corrupt("undo record: bad coin");
    }
    if (!r.at_end()) return corrupt("undo record: trailing bytes");
    return coins;
}

util::Result<std::vector<Coin>> decode_undo_range(util::ByteSpan bytes, std::size_t first,
                                                  std::size_t count) {
    core::Reader r(bytes);
    std::uint64_t n = 0;
    if (!r.compact_size(n, r.remaining() / kCoinSize)) return corrupt("undo record: bad count");
    if (r.remaining() != n * kCoinSize) return corrupt("undo record: bad length");
    if (first > n || count > n - first) {
        return corrupt("undo record holds " + std::to_string(n) + " coins, not " +
                       std::to_string(first + count));
    }
    if (!r.skip(first * kCoinSize)) return corrupt("undo record: short");
    std::vector<Coin> coins(count);
    for (Coin& coin : coins) {
        if (!read_coin(r, coin)) return corrupt("undo record: bad coin");
    }
    return coins;
}

TxKey tx_key(const core::Uint256& txid, const core::Uint256& block_hash) noexcept {
    TxKey key;
    key[0] = kTxIndexPrefix;
    put_hash(key.data() + 1, txid.span());
    put_hash(key.data() + 33, block_hash.span());
    return key;
}

util::Result<core::Uint256> decode_tx_key(util::ByteSpan key) {
    if (key.size() != std::tuple_size_v<TxKey> || key[0] != kTxIndexPrefix) {
        return corrupt("transaction index key of " + std::to_string(key.size()) + " bytes");
    }
    return core::Uint256::from_bytes(key.subspan(33, 32));
}

std::array<std::uint8_t, kTxLocationSize> encode_tx_location(const TxLocationRecord& r) noexcept {
    std::array<std::uint8_t, kTxLocationSize> out;
    put_u32(out.data(), r.position);
    put_u32(out.data() + 4, r.offset);
    put_u32(out.data() + 8, r.size);
    put_u32(out.data() + 12, r.undo_first);
    return out;
}

util::Result<TxLocationRecord> decode_tx_location(util::ByteSpan bytes) {
    if (bytes.size() != kTxLocationSize) {
        return corrupt("transaction location of " + std::to_string(bytes.size()) + " bytes");
    }
    TxLocationRecord r;
    r.position = get_u32(bytes.data());
    r.offset = get_u32(bytes.data() + 4);
    r.size = get_u32(bytes.data() + 8);
    r.undo_first = get_u32(bytes.data() + 12);
    return r;
}

AddressTxKey address_tx_key(const core::XOnlyKey& key, std::uint32_t height,
                            const core::Uint256& block_hash, std::uint32_t position) noexcept {
    AddressTxKey out;
    out[0] = kAddressTxPrefix;
    put_hash(out.data() + 1, key);
    put_u32be(out.data() + 33, 0xffffffffu - height);
    put_hash(out.data() + 37, block_hash.span());
    put_u32be(out.data() + 69, 0xffffffffu - position);
    return out;
}

util::Result<AddressTxKeyParts> decode_address_tx_key(util::ByteSpan key) {
    if (key.size() != std::tuple_size_v<AddressTxKey> || key[0] != kAddressTxPrefix) {
        return corrupt("address history key of " + std::to_string(key.size()) + " bytes");
    }
    AddressTxKeyParts parts;
    parts.height = 0xffffffffu - get_u32be(key.data() + 33);
    parts.block_hash = core::Uint256::from_bytes(key.subspan(37, 32));
    parts.position = 0xffffffffu - get_u32be(key.data() + 69);
    return parts;
}

std::array<std::uint8_t, kAddressTxSize> encode_address_tx(const AddressTxRecord& r) noexcept {
    std::array<std::uint8_t, kAddressTxSize> out;
    put_hash(out.data(), r.txid.span());
    put_u64(out.data() + 32, static_cast<std::uint64_t>(r.received));
    put_u64(out.data() + 40, static_cast<std::uint64_t>(r.sent));
    return out;
}

util::Result<AddressTxRecord> decode_address_tx(util::ByteSpan bytes) {
    if (bytes.size() != kAddressTxSize) {
        return corrupt("address history record of " + std::to_string(bytes.size()) + " bytes");
    }
    const std::uint64_t received = get_u64(bytes.data() + 32);
    const std::uint64_t sent = get_u64(bytes.data() + 40);
    // Checked before the cast: a damaged high bit must not turn into a negative amount.
    if (received > static_cast<std::uint64_t>(core::kMaxMoney) ||
        sent > static_cast<std::uint64_t>(core::kMaxMoney)) {
        return corrupt("address history record: amount out of range");
    }
    AddressTxRecord r;
    r.txid = core::Uint256::from_bytes(bytes.first(32));
    r.received = static_cast<core::Amount>(received);
    r.sent = static_cast<core::Amount>(sent);
    return r;
}

AddressCoinKey address_coin_key(const core::XOnlyKey& key,
                                const core::OutPoint& outpoint) noexcept {
    AddressCoinKey out;
    out[0] = kAddressCoinPrefix;
    put_hash(out.data() + 1, key);
    put_hash(out.data() + 33, outpoint.txid.span());
    put_u32be(out.data() + 65, outpoint.index);
    return out;
}

util::Result<core::OutPoint> decode_address_coin_key(util::ByteSpan key) {
    if (key.size() != std::tuple_size_v<AddressCoinKey> || key[0] != kAddressCoinPrefix) {
        return corrupt("address coin key of " + std::to_string(key.size()) + " bytes");
    }
    core::OutPoint out;
    out.txid = core::Uint256::from_bytes(key.subspan(33, 32));
    out.index = get_u32be(key.data() + 65);
    return out;
}

util::Bytes prefixed(std::uint8_t prefix, util::ByteSpan bytes) {
    util::Bytes out(1 + bytes.size());
    out[0] = prefix;
    std::memcpy(out.data() + 1, bytes.data(), bytes.size());
    return out;
}

util::Bytes encode_u32(std::uint32_t v) {
    util::Bytes out(4);
    put_u32(out.data(), v);
    return out;
}

util::Result<std::uint32_t> decode_u32(util::ByteSpan bytes) {
    if (bytes.size() != 4) return corrupt("u32 of " + std::to_string(bytes.size()) + " bytes");
    return get_u32(bytes.data());
}

}  // namespace peerchain::chain::storage
