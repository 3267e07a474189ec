// The fixture of the PeerManager tests that play scripted peers on the test thread (which
// stands in for the chain executor): a real Chainstate on LevelDB, a real Mempool, address
// book and ban list, and a sender that records what the PeerManager sends. Test code only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "chain/event_bus.hpp"
#include "core/params.hpp"
#include "core/pow.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "net/peer_manager/test_network.hpp"
#include "net/wire/message.hpp"
#include "store/leveldb_database.hpp"
#include "tests/util/block_builder.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::net::peer_manager::fixture {

using testing::regtest;

class RecordingSender final : public PeerSender {
  public:
    void send(PeerId peer, std::shared_ptr<const util::Bytes> message) override {
        sent[peer].push_back(*message);
    }
    void disconnect(PeerId peer, std::string reason) override { disconnected[peer] = reason; }
    std::size_t queued_bytes(PeerId peer) const override {
        auto it = backlog.find(peer);
        return it == backlog.end() ? 0 : it->second;
    }

    std::map<PeerId, std::deque<util::Bytes>> sent;
    std::map<PeerId, std::string> disconnected;
    // What each peer's link holds unread, as the test says.
    std::map<PeerId, std::size_t> backlog;
    // The last drain wish for each peer (notify_when_drained's `below`).
    std::map<PeerId, std::size_t> drain_wished;
    void notify_when_drained(PeerId peer, std::size_t below) override {
        drain_wished[peer] = below;
    }
    // Peers whose reading the test says is paused.
    std::set<PeerId> paused;
    bool reading_paused(PeerId peer) const override { return paused.contains(peer); }
};

// Blocks built outside any Chainstate: a chain of `n` on `parent` (at `parent_height`).
inline std::vector<core::Block> build_chain(const core::BlockHeader& parent,
                                            std::uint32_t parent_height, int n,
                                            const std::string& tag) {
    const auto& p = regtest();
    std::vector<core::Block> out;
    core::BlockHeader prev = parent;
    for (int i = 0; i < n; ++i) {
        const std::uint32_t height = parent_height + 1 + static_cast<std::uint32_t>(i);
        core::Block b = testutil::make_block(p, prev.hash(), height, prev.time + 10,
                                             tag + std::to_string(height));
        testutil::mine(b, p);
        prev = b.header;
        out.push_back(std::move(b));
    }
    return out;
}

inline std::vector<core::BlockHeader> headers_of(const std::vector<core::Block>& blocks) {
    std::vector<core::BlockHeader> out;
    for (const auto& b : blocks) out.push_back(b.header);
    return out;
}

class PeerManagerTest : public ::testing::Test {
  protected:
    PeerManagerTest() : clock_(regtest().genesis.header.time + 1'000'000) {
        auto db = store::open_leveldb(dir_.path() / "db", store::Options{});
        NODE_ASSERT(db.has_value());
        db_ = std::move(*db);
        chain::ChainstateOptions options;
        options.script_threads = 1;
        options.blocks_dir = dir_.path() / "db" / "blocks";
        auto chain = chain::Chainstate::open(*db_, regtest(), clock_, &bus_, options);
        NODE_ASSERT(chain.has_value());
        chain_ = std::move(*chain);
        mempool_ = std::make_unique<mempool::Mempool>(*chain_, clock_);
        bus_.subscribe(chain::EventBus::Slot::kMempool, mempool_.get());
        make_manager({});
    }
    ~PeerManagerTest() override {
        bus_.subscribe(chain::EventBus::Slot::kPeers, nullptr);
        bus_.subscribe(chain::EventBus::Slot::kMempool, nullptr);
    }

    void make_manager(Config config) {
        if (config.listen_port == 0) config.listen_port = 6001;
        bus_.subscribe(chain::EventBus::Slot::kPeers, nullptr);
        pm_.reset();
        pm_ = std::make_unique<PeerManager>(*chain_, *mempool_, sender_, book_, bans_, clock_,
                                            std::move(config));
        // The chain's events reach the pool first, then the peer manager, as in node/.
        bus_.subscribe(chain::EventBus::Slot::kPeers, pm_.get());
    }

    void mine(int n, const std::string& tag = "local") {
        for (int i = 0; i < n; ++i) {
            auto block =
                std::make_shared<const core::Block>(testing::make_next_block(chain_->tip(), tag));
            ASSERT_TRUE(chain_->process_block(block).is_ok());
        }
    }

    // Each peer on its own host unless told otherwise: a misbehaving one gets its host
    // discouraged, which must not refuse the next test peer.
    PeerId connect(Direction direction, std::string address = {}) {
        const PeerId id = ++last_id_;
        if (address.empty()) address = "10.0.0." + std::to_string(id) + ":40000";
        pm_->on_peer_connected(id, {direction, std::move(address), "", "10.0.0.254:6001", 1});
        return id;
    }

    void feed(PeerId id, const wire::Message& m) { pm_->on_message(id, wire::encode_message(m)); }
    void feed_raw(PeerId id, const util::Bytes& bytes) { pm_->on_message(id, bytes); }

    wire::VersionMessage version(std::uint32_t height = 0, std::uint16_t listen_port = 0) {
        wire::VersionMessage v;
        v.magic = regtest().magic;
        v.best_height = height;
        v.nonce = ++last_nonce_;
        v.listen_port = listen_port;
        v.user_agent = "/scripted/";
        v.time = clock_.now_seconds();
        return v;
    }

    // Everything sent to `id` since the last call, decoded.
    std::vector<wire::Message> drain(PeerId id) {
        std::vector<wire::Message> out;
        for (auto& bytes : sender_.sent[id]) {
            auto m = wire::decode_message(bytes, wire::DecodeLimits::from(regtest()));
            EXPECT_TRUE(m.has_value());
            if (m) out.push_back(std::move(*m));
        }
        sender_.sent[id].clear();
        return out;
    }
    template <typename T>
    std::vector<T> drain_of(PeerId id) {
        std::vector<T> out;
        for (auto& m : drain(id)) {
            if (auto* t = std::get_if<T>(&m)) out.push_back(std::move(*t));
        }
        return out;
    }

    // An inbound peer past the handshake, with what it was sent cleared.
    PeerId ready_peer(std::uint32_t height = 0, std::uint16_t listen_port = 0,
                      std::string address = {}) {
        const PeerId id = connect(Direction::kInbound, std::move(address));
        feed(id, version(height, listen_port));
        feed(id, wire::VerackMessage{});
        drain(id);
        // Answer the getheaders of the handshake, so that later ones are not held back.
        feed(id, wire::HeadersMessage{});
        // A peer level with us announces its tip, ours (the node, in step with it, asks for
        // its pool). One behind stays unknown until it has our blocks (issue 9).
        if (height >= chain_->tip()->height && chain_->tip()->height > 0) {
            feed(id, wire::HeadersMessage{{chain_->tip()->header}});
        }
        drain(id);
        return id;
    }

    bool disconnected(PeerId id) const { return sender_.disconnected.contains(id); }
    std::string reason(PeerId id) const {
        auto it = sender_.disconnected.find(id);
        return it == sender_.disconnected.end() ? "" : it->second;
    }
    // A timeout to the second: ticks `seconds - 1` from now, when the peer must still be
    // there, then one second later; returns why the peer was dropped ("" if it was not).
    std::string reason_after(PeerId id, std::int64_t seconds) {
        clock_.advance(seconds - 1);
        pm_->on_tick();
        EXPECT_FALSE(disconnected(id)) << "dropped a second early: " << reason(id);
        clock_.advance(1);
        pm_->on_tick();
        return reason(id);
    }

    testutil::TempDir dir_;
    util::ManualClock clock_;
    chain::EventBus bus_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<chain::Chainstate> chain_;
    std::unique_ptr<mempool::Mempool> mempool_;
    RecordingSender sender_;
    // A fixed key and seed: where addresses land in the book is the same on every run.
    addrman::AddrMan book_{[] {
                               addrman::AddrManConfig c;
                               c.key.fill(7);
                               c.rng_seed = 7;
                               return c;
                           }(),
                           clock_};
    addrman::BanMan bans_{addrman::BanManConfig{}, clock_};
    std::unique_ptr<PeerManager> pm_;
    PeerId last_id_ = 0;
    std::uint64_t last_nonce_ = 1000;
};

}  // namespace peerchain::net::peer_manager::fixture
