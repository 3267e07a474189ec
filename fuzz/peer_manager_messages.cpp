// libFuzzer target: net::peer_manager::PeerManager handling what up to three peers send. A
// real PeerManager runs over a real Chainstate (regtest, LevelDB in a temporary directory)
// and a real Mempool, with a manual clock; a recording PeerSender stands in for the
// transport and reports each disconnect back after the call that asked for it, as node/
// does. The input is a script:
//
//   input := flags:u8 step*                      (at most kMaxSteps steps are run)
//   flags := bit 0: peer 1 is outbound; bit 1: peer 1 completes a valid handshake first;
//            bit 2: peer 2 connects (inbound) and completes a valid handshake first;
//            bits 3-7: the best height peers announce in those handshakes
//   step  := op:u8 ...
//     peer := ((op >> 3) & 3) % 3 + 1
//     op & 7 in 0..3   message: len:u16le byte[len] from peer
//     op & 7 == 4      tick: the clock moves (op >> 3) * 4 seconds, then on_tick
//     op & 7 == 5      peer connects; we dialed it when op & 0x80
//     op & 7 == 6      peer disconnects
//     op & 7 == 7      peer sends a valid version and verack
//
// Checked: nothing crashes, throws or hangs; everything the node sends decodes as a known
// message of our network, its first message to a peer is its version, and it sends only to
// connected peers; once every peer has gone, no transaction is in flight or announced and
// no orphan is left. Each run starts with a new PeerManager and Mempool, the same clock
// time, and the chain as it was built at start: when a run changed it (regtest proof of
// work is cheap, so headers and blocks do get through), the chain is reopened from a clean
// copy. The PeerManager's generator (version and ping nonces, orphan eviction) gets a fixed
// seed, so an input replays exactly. Seeds: fuzz/corpus/peer_manager_messages/.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "chain/chain_observer.hpp"
#include "chain/chainstate.hpp"
#include "chain/event_bus.hpp"
#include "core/block.hpp"
#include "core/merkle.hpp"
#include "core/params.hpp"
#include "core/pow.hpp"
#include "mempool/mempool.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "net/peer_manager/peer_sender.hpp"
#include "net/wire/message.hpp"
#include "store/leveldb_database.hpp"
#include "util/assert.hpp"
#include "util/bytes.hpp"
#include "util/clock.hpp"

namespace {

using namespace peerchain;
using net::peer_manager::ConnectionInfo;
using net::peer_manager::Direction;
using net::peer_manager::PeerId;

constexpr std::size_t kMaxSteps = 64;
constexpr PeerId kPeers = 3;
// Blocks on top of genesis in the chain every run starts from.
constexpr std::uint32_t kChainBlocks = 6;

// Where the temporary database goes: memory when the system offers it, since reopening the
// chain syncs to disk and a run must stay fast.
std::filesystem::path scratch_root() {
    std::error_code ec;
    if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
        return "/dev/shm";
    }
    return std::filesystem::temp_directory_path();
}

const core::Params& regtest() { return core::params(core::Network::kRegtest); }

// The time of the block at `height` in the prebuilt chain, and the clock at the start of
// every run (a little after the tip, so that a next block is not from the future).
std::int64_t block_time(std::uint32_t height) {
    return regtest().genesis.header.time + static_cast<std::int64_t>(height) * 10;
}
const std::int64_t kStartTime = block_time(kChainBlocks) + 60;

// A mined block on `parent`, the same in every process.
core::Block next_block(const core::Uint256& parent, std::uint32_t height) {
    core::Block block;
    block.header.prev_hash = parent;
    block.header.time = static_cast<std::uint32_t>(block_time(height));
    block.header.bits = regtest().pow_limit_bits;
    core::XOnlyKey miner{};
    miner[0] = 0x42;
    block.txs.push_back(core::make_coinbase(height, core::block_subsidy(height, regtest()), miner,
                                            util::Bytes{'f', 'u', 'z', 'z'}));
    block.header.merkle_root = core::block_merkle_root(block);
    while (!core::check_proof_of_work(block.hash(), block.header.bits, regtest())) {
        ++block.header.nonce;
    }
    return block;
}

// Records what the peer manager sends and which links it closes; checks every message.
class Recorder final : public net::peer_manager::PeerSender {
  public:
    void reset() {
        connected_.clear();
        version_sent_.clear();
        closing_.clear();
    }
    void connected(PeerId peer) { connected_.insert(peer); }
    void gone(PeerId peer) {
        connected_.erase(peer);
        version_sent_.erase(peer);
    }
    bool is_connected(PeerId peer) const { return connected_.contains(peer); }
    // The links closed since the last call, to report back.
    std::vector<PeerId> take_closing() { return std::exchange(closing_, {}); }

    void send(PeerId peer, std::shared_ptr<const util::Bytes> message) override {
        NODE_ASSERT(message != nullptr);
        NODE_ASSERT(connected_.contains(peer));
        auto decoded = net::wire::decode_message(*message, limits_);
        NODE_ASSERT(decoded.has_value());
        NODE_ASSERT(!std::holds_alternative<net::wire::UnknownMessage>(*decoded));
        if (!version_sent_.contains(peer)) {
            const auto* v = std::get_if<net::wire::VersionMessage>(&*decoded);
            NODE_ASSERT(v != nullptr);
            NODE_ASSERT(v->magic == regtest().magic);
            version_sent_.insert(peer);
        }
    }
    void disconnect(PeerId peer, std::string reason) override {
        NODE_ASSERT(!reason.empty());
        if (connected_.contains(peer)) closing_.push_back(peer);
    }

  private:
    const net::wire::DecodeLimits limits_ = net::wire::DecodeLimits::from(regtest());
    std::set<PeerId> connected_;
    std::set<PeerId> version_sent_;
    std::vector<PeerId> closing_;
};

// What identifies the chain's state: a run that changed any of it leaves a dirty chain.
struct Fingerprint {
    std::size_t headers = 0;
    core::Uint256 tip;
    core::Uint256 best_header;
    std::vector<std::uint32_t> statuses;

    friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};

class World {
  public:
    World() {
        spdlog::set_level(spdlog::level::off);
        std::string pattern = (scratch_root() / "peerchain-fuzz-p2p-XXXXXX").string();
        NODE_ASSERT(::mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        build_clean_copy();
        open();
        clean_ = fingerprint();
    }
    ~World() {
        close();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    void run(const std::uint8_t* data, std::size_t size);

  private:
    // One run over a new pool and peer manager.
    void play(const std::uint8_t* data, std::size_t size);

    std::filesystem::path clean_dir() const { return dir_ / "clean"; }
    std::filesystem::path work_dir() const { return dir_ / "work"; }

    static store::Options db_options() {
        store::Options o;
        o.cache_bytes = 1 << 20;
        o.write_buffer_bytes = 1 << 20;
        return o;
    }

    // Writes genesis and kChainBlocks blocks into clean_dir(), then closes it.
    void build_clean_copy() {
        auto db = store::open_leveldb(clean_dir(), db_options());
        NODE_ASSERT(db.has_value());
        auto c =
            chain::Chainstate::open(**db, regtest(), clock_, nullptr, chain_options(clean_dir()));
        NODE_ASSERT(c.has_value());
        auto& chain = **c;
        for (std::uint32_t h = 1; h <= kChainBlocks; ++h) {
            hashes_.push_back(chain.tip()->hash);
            auto block = std::make_shared<const core::Block>(next_block(chain.tip()->hash, h));
            NODE_ASSERT(chain.process_block(block).is_ok());
        }
        hashes_.push_back(chain.tip()->hash);
        NODE_ASSERT(chain.flush().has_value());
    }

    // The block files go inside the store's directory, so that copying it copies them.
    static chain::ChainstateOptions chain_options(const std::filesystem::path& db_dir) {
        chain::ChainstateOptions o;
        o.script_threads = 1;
        o.blocks_dir = db_dir / "blocks";
        return o;
    }

    void open() {
        std::filesystem::remove_all(work_dir());
        std::filesystem::copy(clean_dir(), work_dir(), std::filesystem::copy_options::recursive);
        auto db = store::open_leveldb(work_dir(), db_options());
        NODE_ASSERT(db.has_value());
        db_ = std::move(*db);
        auto c = chain::Chainstate::open(*db_, regtest(), clock_, &bus_, chain_options(work_dir()));
        NODE_ASSERT(c.has_value());
        chain_ = std::move(*c);
        NODE_ASSERT(chain_->tip()->height == kChainBlocks);
    }
    void close() {
        chain_.reset();
        db_.reset();
    }

    Fingerprint fingerprint() const {
        Fingerprint f;
        const auto stats = chain_->stats();
        f.headers = stats.headers;
        f.tip = stats.tip_hash;
        f.best_header = chain_->best_header()->hash;
        for (const auto& hash : hashes_) f.statuses.push_back(chain_->status(chain_->lookup(hash)));
        return f;
    }

    ConnectionInfo info(PeerId peer, bool outbound) const {
        ConnectionInfo i;
        i.direction = outbound ? Direction::kOutbound : Direction::kInbound;
        // Peer 3 is on this machine: loopback peers are told apart by their listen port.
        i.address = peer == 3 ? "127.0.0.1:40003" : "10.0.0." + std::to_string(peer) + ":8333";
        if (outbound) i.url = "ws://" + i.address;
        return i;
    }

    util::Bytes version_bytes(PeerId peer, std::uint32_t best_height) const {
        net::wire::VersionMessage v;
        v.magic = regtest().magic;
        v.best_height = best_height;
        v.nonce = 0x70656572000000ULL + peer;
        v.listen_port = static_cast<std::uint16_t>(18440 + peer);
        v.user_agent = "/fuzz:" + std::to_string(peer) + "/";
        v.time = clock_.now_seconds();
        return net::wire::encode_message(v);
    }

    void connect(net::peer_manager::PeerManager& pm, PeerId peer, bool outbound) {
        if (!recorder_.is_connected(peer)) recorder_.connected(peer);
        pm.on_peer_connected(peer, info(peer, outbound));
    }
    void handshake(net::peer_manager::PeerManager& pm, PeerId peer, std::uint32_t best_height) {
        pm.on_message(peer, version_bytes(peer, best_height));
        pm.on_message(peer, net::wire::encode_message(net::wire::VerackMessage{}));
    }
    void disconnect(net::peer_manager::PeerManager& pm, PeerId peer) {
        pm.on_peer_disconnected(peer, "fuzz");
        recorder_.gone(peer);
    }
    // Reports the links the peer manager closed, as the transport would once they are gone.
    void settle(net::peer_manager::PeerManager& pm) {
        for (PeerId peer : recorder_.take_closing()) {
            if (recorder_.is_connected(peer)) disconnect(pm, peer);
        }
    }

    std::filesystem::path dir_;
    util::ManualClock clock_{kStartTime};
    // The chain's events reach the pool and then the peer manager of the current run, as
    // in node/.
    chain::EventBus bus_;
    Recorder recorder_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<chain::Chainstate> chain_;
    // Genesis and the prebuilt blocks, in height order.
    std::vector<core::Uint256> hashes_;
    Fingerprint clean_;
};

void World::run(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    play(data, size);
    // After the pool and the peer manager of the run are gone: they hold the chain.
    if (fingerprint() != clean_) {
        close();
        open();
        NODE_ASSERT(fingerprint() == clean_);
    }
}

void World::play(const std::uint8_t* data, std::size_t size) {
    clock_.set(kStartTime);
    recorder_.reset();
    mempool::Mempool pool(*chain_, clock_);
    // A fixed seed: the same input gives the same nonces, so every run repeats.
    net::peer_manager::Config config;
    config.rng_seed = 1;
    net::addrman::AddrManConfig book_config;
    book_config.key.fill(1);
    book_config.rng_seed = 1;
    net::addrman::AddrMan book(book_config, clock_);
    net::addrman::BanMan bans(net::addrman::BanManConfig{}, clock_);
    net::peer_manager::PeerManager pm(*chain_, pool, recorder_, book, bans, clock_, config);
    bus_.subscribe(chain::EventBus::Slot::kMempool, &pool);
    bus_.subscribe(chain::EventBus::Slot::kPeers, &pm);

    const std::uint8_t flags = data[0];
    const std::uint32_t best_height = flags >> 3;
    connect(pm, 1, (flags & 1) != 0);
    if ((flags & 2) != 0) handshake(pm, 1, best_height);
    if ((flags & 4) != 0) {
        connect(pm, 2, false);
        handshake(pm, 2, best_height);
    }
    settle(pm);

    std::size_t pos = 1;
    for (std::size_t step = 0; step < kMaxSteps && pos < size; ++step) {
        const std::uint8_t op = data[pos++];
        const PeerId peer = ((op >> 3) & 3) % kPeers + 1;
        switch (op & 7) {
            case 4:
                clock_.advance((op >> 3) * 4);
                pm.on_tick();
                break;
            case 5:
                connect(pm, peer, (op & 0x80) != 0);
                break;
            case 6:
                if (recorder_.is_connected(peer)) disconnect(pm, peer);
                break;
            case 7:
                handshake(pm, peer, best_height);
                break;
            default: {
                std::size_t len = 0;
                if (pos < size) len = data[pos++];
                if (pos < size) len |= static_cast<std::size_t>(data[pos++]) << 8;
                len = std::min(len, size - pos);
                pm.on_message(peer, util::ByteSpan(data + pos, len));
                pos += len;
                break;
            }
        }
        settle(pm);
        NODE_ASSERT(pm.peer_count() <= kPeers);
    }

    for (PeerId peer = 1; peer <= kPeers; ++peer) {
        if (recorder_.is_connected(peer)) disconnect(pm, peer);
    }
    NODE_ASSERT(pm.peer_count() == 0);
    const auto relay = pm.relay_info();
    NODE_ASSERT(relay.txs_in_flight == 0);
    NODE_ASSERT(relay.tx_announcements == 0);
    NODE_ASSERT(relay.orphans == 0);

    bus_.subscribe(chain::EventBus::Slot::kMempool, nullptr);
    bus_.subscribe(chain::EventBus::Slot::kPeers, nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    world.run(data, size);
    return 0;
}
