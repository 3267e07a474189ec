#include "crypto/schnorr.hpp"

#include <openssl/crypto.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "crypto/random.hpp"

namespace peerchain::crypto {

namespace {

// One context for the process, randomized once against side channels on signing.
const secp256k1_context* context() {
    static secp256k1_context* ctx = [] {
        secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        std::array<std::uint8_t, 32> seed;
        random_bytes(seed);
        NODE_ASSERT(secp256k1_context_randomize(c, seed.data()) == 1);
        return c;
    }();
    return ctx;
}

class KeyPair {
  public:
    explicit KeyPair(const std::array<std::uint8_t, 32>& secret) {
        NODE_ASSERT(secp256k1_keypair_create(context(), &pair_, secret.data()) == 1);
    }
    ~KeyPair() { OPENSSL_cleanse(&pair_, sizeof(pair_)); }
    const secp256k1_keypair* get() const { return &pair_; }

  private:
    secp256k1_keypair pair_;
};

}  // namespace

bool schnorr_verify(const XOnlyPublicKey& pubkey, const Digest& msg,
                    const SchnorrSignature& sig) noexcept {
    secp256k1_xonly_pubkey key;
    if (secp256k1_xonly_pubkey_parse(context(), &key, pubkey.data()) != 1) return false;
    return secp256k1_schnorrsig_verify(context(), sig.data(), msg.data(), msg.size(), &key) == 1;
}

bool is_valid_xonly_key(const XOnlyPublicKey& pubkey) noexcept {
    secp256k1_xonly_pubkey key;
    return secp256k1_xonly_pubkey_parse(context(), &key, pubkey.data()) == 1;
}

util::Result<SecretKey> SecretKey::from_bytes(const std::array<std::uint8_t, 32>& bytes) {
    if (secp256k1_ec_seckey_verify(context(), bytes.data()) != 1) {
        return util::Unexpected(util::Errc::kInvalidArgument, "not a valid secp256k1 secret key");
    }
    return SecretKey(bytes);
}

SecretKey SecretKey::generate() {
    for (;;) {
        std::array<std::uint8_t, 32> bytes;
        random_bytes(bytes);
        auto key = from_bytes(bytes);
        OPENSSL_cleanse(bytes.data(), bytes.size());
        if (key) return std::move(*key);
    }
}

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

XOnlyPublicKey SecretKey::public_key() const {
    KeyPair pair(bytes_);
    secp256k1_xonly_pubkey key;
    NODE_ASSERT(secp256k1_keypair_xonly_pub(context(), &key, nullptr, pair.get()) == 1);
    XOnlyPublicKey out;
    NODE_ASSERT(secp256k1_xonly_pubkey_serialize(context(), out.data(), &key) == 1);
    return out;
}

SchnorrSignature SecretKey::sign(const Digest& msg) const {
    std::array<std::uint8_t, 32> aux;
    random_bytes(aux);
    return sign(msg, aux);
}

SchnorrSignature SecretKey::sign(const Digest& msg, const std::array<std::uint8_t, 32>& aux) const {
    KeyPair pair(bytes_);
    SchnorrSignature sig;
    NODE_ASSERT(secp256k1_schnorrsig_sign32(context(), sig.data(), msg.data(), pair.get(),
                                            aux.data()) == 1);
    return sig;
}

}  // namespace peerchain::crypto
