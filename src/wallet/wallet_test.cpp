// The wallet file on a real file system, in a fresh temporary data directory per test.
#include "wallet/wallet.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "core/address.hpp"
#include "core/check.hpp"
#include "core/coin.hpp"
#include "core/tx_verify.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::wallet {
namespace {

const core::Params& regtest() { return core::params(core::Network::kRegtest); }
const core::Params& dev() { return core::params(core::Network::kDev); }

unsigned mode_of(const std::filesystem::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

std::unique_ptr<Wallet> open_ok(const std::filesystem::path& dir, const core::Params& p) {
    auto w = Wallet::open(dir, p);
    EXPECT_TRUE(w) << (w ? "" : w.error().to_string());
    return w ? std::move(*w) : nullptr;
}

TEST(Wallet, CreatedWithMode0600AndOneKey) {
    testutil::TempDir dir;
    auto w = open_ok(dir.path(), regtest());
    ASSERT_TRUE(w);
    EXPECT_EQ(w->file(), dir.path() / "wallet.json");
    EXPECT_EQ(mode_of(w->file()), 0600u);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "wallet.json.tmp"));
    ASSERT_EQ(w->keys().size(), 1u);
    EXPECT_EQ(w->key(), w->keys()[0]);
    EXPECT_TRUE(w->owns(w->key()));
    auto decoded = core::decode_address(w->address(), regtest());
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, w->key());
    EXPECT_EQ(w->address().rfind("pcrt1", 0), 0u);
}

TEST(Wallet, CreatesTheDataDirectory) {
    testutil::TempDir dir;
    auto w = open_ok(dir.path() / "a" / "b", dev());
    ASSERT_TRUE(w);
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "a" / "b" / "wallet.json"));
}

TEST(Wallet, ReloadGivesTheSameKeysAndAddress) {
    testutil::TempDir dir;
    std::string address;
    std::vector<core::XOnlyKey> keys;
    {
        auto w = open_ok(dir.path(), dev());
        ASSERT_TRUE(w);
        address = w->address();
        keys = w->keys();
    }
    const std::string before = read_text(dir.path() / "wallet.json");
    auto w = open_ok(dir.path(), dev());
    ASSERT_TRUE(w);
    EXPECT_EQ(w->address(), address);
    EXPECT_EQ(w->keys(), keys);
    EXPECT_EQ(read_text(dir.path() / "wallet.json"), before);  // loading writes nothing
}

TEST(Wallet, NewAddressIsSavedBeforeItIsReturned) {
    testutil::TempDir dir;
    auto w = open_ok(dir.path(), regtest());
    ASSERT_TRUE(w);
    const std::string first = w->address();
    const core::XOnlyKey first_key = w->key();
    auto second = w->new_address();
    ASSERT_TRUE(second);
    EXPECT_NE(*second, first);
    EXPECT_EQ(w->address(), *second);
    EXPECT_EQ(w->keys().size(), 2u);
    EXPECT_TRUE(w->owns(first_key));  // old keys stay: coins sent to them still arrive
    EXPECT_EQ(mode_of(w->file()), 0600u);

    // A second wallet object on the same file, as a restarted node would open it.
    auto again = open_ok(dir.path(), regtest());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->address(), *second);
    EXPECT_EQ(again->keys(), w->keys());
}

TEST(Wallet, ConcurrentNewAddressesAreAllSaved) {
    testutil::TempDir dir;
    auto w = open_ok(dir.path(), regtest());
    ASSERT_TRUE(w);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&w] {
            for (int i = 0; i < 5; ++i) {
                EXPECT_TRUE(w->new_address());
                EXPECT_TRUE(w->owns(w->key()));
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(w->keys().size(), 21u);
    auto again = open_ok(dir.path(), regtest());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->keys(), w->keys());
    EXPECT_EQ(again->address(), w->address());
}

TEST(Wallet, AFailedSaveLeavesTheWalletUnchanged) {
    testutil::TempDir dir;
    auto w = open_ok(dir.path(), regtest());
    ASSERT_TRUE(w);
    const std::string address = w->address();
    // A directory where the temporary file would go makes the write fail.
    std::filesystem::create_directory(dir.path() / "wallet.json.tmp");
    auto fresh = w->new_address();
    ASSERT_FALSE(fresh);
    EXPECT_EQ(fresh.error().code, util::Errc::kIo);
    EXPECT_EQ(w->address(), address);
    EXPECT_EQ(w->keys().size(), 1u);
}

TEST(Wallet, AnotherNetworksWalletIsRefused) {
    testutil::TempDir dir;
    ASSERT_TRUE(open_ok(dir.path(), regtest()));
    const std::string before = read_text(dir.path() / "wallet.json");
    auto w = Wallet::open(dir.path(), dev());
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, util::Errc::kInvalidArgument);
    EXPECT_NE(w.error().message.find("regtest"), std::string::npos) << w.error().message;
    EXPECT_EQ(read_text(dir.path() / "wallet.json"), before);
}

TEST(Wallet, CorruptFilesAreRefusedAndLeftAlone) {
    const std::string good_key = std::string(63, '0') + "1";
    const std::vector<std::string> bad = {
        "",
        "{",
        "[]",
        "{\"version\":1,\"network\":\"regtest\",\"keys\":[],\"receive\":0}",
        "{\"version\":1,\"network\":\"regtest\",\"keys\":[\"" + good_key + "\"],\"receive\":1}",
        "{\"version\":1,\"network\":\"regtest\",\"keys\":[\"" + good_key + "\"]}",
        "{\"version\":1,\"network\":\"regtest\",\"keys\":[\"zz\"],\"receive\":0}",
        "{\"version\":1,\"network\":\"regtest\",\"keys\":[\"" + std::string(64, '0') +
            "\"],\"receive\":0}",
        "{\"version\":1,\"network\":\"regtest\",\"keys\":[\"" + good_key + "\",\"" + good_key +
            "\"],\"receive\":0}",
        "{\"version\":1,\"network\":\"regtest\",\"keys\":[7],\"receive\":0}",
        "{\"network\":\"regtest\",\"keys\":[\"" + good_key + "\"],\"receive\":0}",
    };
    for (const auto& text : bad) {
        testutil::TempDir dir;
        const auto path = dir.path() / "wallet.json";
        write_text(path, text);
        ::chmod(path.c_str(), 0600);
        auto w = Wallet::open(dir.path(), regtest());
        ASSERT_FALSE(w) << text;
        EXPECT_EQ(w.error().code, util::Errc::kCorruption) << text;
        EXPECT_NE(w.error().message.find("corrupt"), std::string::npos) << w.error().message;
        EXPECT_EQ(read_text(path), text);
    }
    {
        testutil::TempDir dir;
        write_text(dir.path() / "wallet.json", "{\"version\":2,\"network\":\"regtest\"}");
        auto w = Wallet::open(dir.path(), regtest());
        ASSERT_FALSE(w);
        EXPECT_EQ(w.error().code, util::Errc::kInvalidArgument);
    }
    {
        testutil::TempDir dir;
        write_text(dir.path() / "wallet.json", std::string(kMaxWalletFileSize + 1, ' '));
        auto w = Wallet::open(dir.path(), regtest());
        ASSERT_FALSE(w);
        EXPECT_EQ(w.error().code, util::Errc::kCorruption);
    }
}

TEST(Wallet, AHandWrittenFileLoads) {
    testutil::TempDir dir;
    const std::string k1 = std::string(63, '0') + "1";
    const std::string k2 = std::string(63, '0') + "2";
    write_text(dir.path() / "wallet.json", "{\"version\":1,\"network\":\"dev\",\"keys\":[\"" + k1 +
                                               "\",\"" + k2 + "\"],\"receive\":1}\n");
    ::chmod((dir.path() / "wallet.json").c_str(), 0600);
    auto w = open_ok(dir.path(), dev());
    ASSERT_TRUE(w);
    ASSERT_EQ(w->keys().size(), 2u);
    std::array<std::uint8_t, 32> raw{};
    raw[31] = 2;
    EXPECT_EQ(w->key(), crypto::SecretKey::from_bytes(raw)->public_key());
}

TEST(Wallet, LoosePermissionsAreFixed) {
    testutil::TempDir dir;
    ASSERT_TRUE(open_ok(dir.path(), regtest()));
    const auto path = dir.path() / "wallet.json";
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    ASSERT_TRUE(open_ok(dir.path(), regtest()));
    EXPECT_EQ(mode_of(path), 0600u);
}

TEST(Wallet, ANewWalletTakesOverTheMinerKey) {
    testutil::TempDir dir;
    std::array<std::uint8_t, 32> raw{};
    const auto bytes = testutil::random_bytes(32);
    std::copy(bytes.begin(), bytes.end(), raw.begin());
    raw[0] = 0x01;  // well below the curve order
    const auto miner = crypto::SecretKey::from_bytes(raw);
    ASSERT_TRUE(miner);
    write_text(dir.path() / "miner.key", util::to_hex(raw) + "\n");

    auto w = open_ok(dir.path(), regtest());
    ASSERT_TRUE(w);
    EXPECT_EQ(w->key(), miner->public_key());
    EXPECT_TRUE(w->owns(miner->public_key()));
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "miner.key"));  // left in place

    // Only a new wallet imports it: a later miner.key changes nothing.
    ASSERT_TRUE(w->new_address());
    const auto keys = w->keys();
    w.reset();
    write_text(dir.path() / "miner.key", std::string(63, '0') + "5\n");
    auto again = open_ok(dir.path(), regtest());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->keys(), keys);
}

TEST(Wallet, ABadMinerKeyMakesNoWallet) {
    testutil::TempDir dir;
    write_text(dir.path() / "miner.key", "not a key\n");
    auto w = Wallet::open(dir.path(), regtest());
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, util::Errc::kCorruption);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "wallet.json"));
}

TEST(Wallet, PaysFromAnyOfItsKeysWithChangeToTheReceiveKey) {
    testutil::TempDir dir;
    auto w = open_ok(dir.path(), regtest());
    ASSERT_TRUE(w);
    const core::XOnlyKey old_key = w->key();
    ASSERT_TRUE(w->new_address());

    WalletCoin c;
    c.outpoint = core::OutPoint{core::Uint256::from_bytes(testutil::random_bytes(32)), 0};
    c.out = core::TxOut{10 * core::kCoin, old_key};
    c.height = 5;
    const std::vector<WalletCoin> coins = {c};

    PaymentRequest r;
    r.to = old_key;  // paying ourselves is allowed
    r.amount = core::kCoin;
    r.data = {'h', 'i'};
    Payment p;
    ASSERT_TRUE(w->build_payment(coins, r, &p));
    ASSERT_EQ(p.tx.outputs.size(), 2u);
    bool change_to_receive_key = false;
    for (const auto& o : p.tx.outputs) {
        if (o.amount == p.change) change_to_receive_key = o.recipient == w->key();
    }
    EXPECT_TRUE(change_to_receive_key);
    EXPECT_EQ(p.tx.data, r.data);
    const std::vector<core::Coin> spent = {core::Coin{c.out, 5, false}};
    EXPECT_TRUE(core::check_transaction(p.tx, regtest()));
    core::Amount fee = 0;
    EXPECT_TRUE(core::check_tx_inputs(p.tx, spent, 6, regtest(), &fee));
    EXPECT_EQ(fee, p.fee);
    EXPECT_TRUE(core::check_tx_signatures(p.tx, spent, regtest()));
}

}  // namespace
}  // namespace peerchain::wallet
