#include "core/sighash.hpp"

#include <gtest/gtest.h>

#include "crypto/schnorr.hpp"

namespace peerchain::core {
namespace {

struct Fixture {
    crypto::SecretKey alice = crypto::SecretKey::generate();
    crypto::SecretKey bob = crypto::SecretKey::generate();
    std::vector<TxOut> spent;
    Transaction tx;

    Fixture() {
        spent = {TxOut{3 * kCoin, alice.public_key()}, TxOut{2 * kCoin, alice.public_key()}};
        tx.inputs.resize(2);
        tx.inputs[0].prevout.txid.data()[0] = 1;
        tx.inputs[1].prevout.txid.data()[0] = 2;
        tx.outputs = {TxOut{4 * kCoin, bob.public_key()}};
        tx.data = {'p', 'a', 'y'};
        sign_all(alice);
    }
    void sign_all(const crypto::SecretKey& key) {
        const SignatureHasher hasher(tx, spent, params(Network::kRegtest));
        for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
            tx.inputs[i].signature = key.sign(hasher.for_input(i));
        }
    }
};

const Params& rt() { return params(Network::kRegtest); }

TEST(Sighash, ValidSignaturesVerify) {
    Fixture f;
    EXPECT_TRUE(verify_input(f.tx, 0, f.spent, rt()));
    EXPECT_TRUE(verify_input(f.tx, 1, f.spent, rt()));
}

TEST(Sighash, SignatureByAnotherKeyFails) {
    Fixture f;
    f.sign_all(f.bob);
    EXPECT_FALSE(verify_input(f.tx, 0, f.spent, rt()));
}

TEST(Sighash, CommitsToEveryPart) {
    Fixture f;
    auto still_valid = [&](auto mutate) {
        Fixture g = f;
        mutate(g);
        return verify_input(g.tx, 0, g.spent, rt());
    };
    EXPECT_FALSE(still_valid([](Fixture& g) { g.tx.outputs[0].amount += 1; }));
    EXPECT_FALSE(still_valid([](Fixture& g) { g.tx.outputs[0].recipient[0] ^= 1; }));
    EXPECT_FALSE(still_valid([](Fixture& g) { g.tx.data.push_back('!'); }));
    EXPECT_FALSE(still_valid([](Fixture& g) { g.tx.lock_time = 1; }));
    EXPECT_FALSE(still_valid([](Fixture& g) { g.tx.inputs[1].prevout.index = 9; }));
    EXPECT_FALSE(still_valid([](Fixture& g) { g.spent[1].amount += 1; }));  // the fee
    EXPECT_FALSE(still_valid([](Fixture& g) { g.tx.inputs[0].signature[10] ^= 1; }));
    // Another input's signature is not part of the message.
    EXPECT_TRUE(still_valid([](Fixture& g) { g.tx.inputs[1].signature[10] ^= 1; }));
    // Another network's signature does not verify here.
    EXPECT_FALSE(verify_input(f.tx, 0, f.spent, params(Network::kDev)));
}

TEST(Sighash, APreparedHasherGivesTheSameAnswers) {
    Fixture f;
    const SignatureHasher hasher(f.tx, f.spent, rt());
    EXPECT_TRUE(verify_input(hasher, f.tx, 0, f.spent));
    EXPECT_TRUE(verify_input(hasher, f.tx, 1, f.spent));
    EXPECT_FALSE(verify_input(hasher, f.tx, 2, f.spent));
    Fixture g = f;
    g.tx.inputs[1].signature[3] ^= 1;
    EXPECT_FALSE(verify_input(SignatureHasher(g.tx, g.spent, rt()), g.tx, 1, g.spent));
}

TEST(Sighash, SwappingInputSignaturesFails) {
    Fixture f;
    std::swap(f.tx.inputs[0].signature, f.tx.inputs[1].signature);
    EXPECT_FALSE(verify_input(f.tx, 0, f.spent, rt()));
}

TEST(Sighash, WrongSizesFailInsteadOfCrashing) {
    Fixture f;
    EXPECT_FALSE(verify_input(f.tx, 5, f.spent, rt()));
    std::vector<TxOut> short_spent = {f.spent[0]};
    EXPECT_FALSE(verify_input(f.tx, 0, short_spent, rt()));
}

}  // namespace
}  // namespace peerchain::core
