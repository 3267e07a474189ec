#include "wallet/wallet.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "core/address.hpp"
#include "crypto/schnorr.hpp"
#include "util/file.hpp"

namespace peerchain::wallet {

namespace {

util::Unexpected io_error(const std::string& what) {
    return util::Unexpected(util::Errc::kIo, what + ": " + std::strerror(errno));
}

// Closes a descriptor on every path out of a function.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

  private:
    int fd_;
};

// Reads a whole regular file of at most `limit` bytes. kNotFound when it does not exist,
// kCorruption when it is larger or not a regular file, kIo otherwise.
util::Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t limit) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) {
        if (errno == ENOENT) return util::Unexpected(util::Errc::kNotFound, path.string());
        return io_error("cannot open " + path.string());
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return io_error("cannot stat " + path.string());
    if (!S_ISREG(st.st_mode)) {
        return util::Unexpected(util::Errc::kCorruption, path.string() + " is not a file");
    }
    if (static_cast<std::uint64_t>(st.st_size) > limit) {
        return util::Unexpected(util::Errc::kCorruption, path.string() + " is larger than " +
                                                             std::to_string(limit) + " bytes");
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_error("cannot read " + path.string());
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    return text;
}

// Writes `text` to `path` atomically with mode 0600. With `create_only` the call fails if
// `path` appeared meanwhile, so creating a wallet never replaces one.
util::Result<void> write_private_file(const std::filesystem::path& path, const std::string& text,
                                      bool create_only) {
    return util::write_file_atomic(
        path, util::as_bytes(text),
        create_only ? util::FileWrite::kCreateOnly : util::FileWrite::kReplace);
}

util::Result<crypto::SecretKey> parse_secret(std::string_view hex) {
    auto bytes = util::from_hex(hex);
    if (!bytes || bytes->size() != 32) {
        return util::Unexpected(util::Errc::kDecode, "not 64 hex digits");
    }
    std::array<std::uint8_t, 32> raw{};
    std::copy(bytes->begin(), bytes->end(), raw.begin());
    auto key = crypto::SecretKey::from_bytes(raw);
    std::fill(bytes->begin(), bytes->end(), std::uint8_t{0});
    std::fill(raw.begin(), raw.end(), std::uint8_t{0});
    return key;
}

struct Loaded {
    std::vector<crypto::SecretKey> keys;
    std::size_t receive = 0;
};

util::Result<Loaded> decode_wallet(const std::string& text, const std::filesystem::path& path,
                                   const core::Params& params) {
    auto corrupt = [&](const std::string& why) {
        return util::Unexpected(util::Errc::kCorruption,
                                path.string() + " is corrupt (" + why +
                                    "); it was left as it is: restore it from a backup or "
                                    "move it away");
    };
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(text, ec);
    if (ec) return corrupt("not JSON: " + ec.message());
    if (!doc.is_object()) return corrupt("not a JSON object");
    const boost::json::object& obj = doc.as_object();

    const auto* version = obj.if_contains("version");
    if (version == nullptr || !version->is_int64()) return corrupt("no version");
    if (version->as_int64() != kWalletFileVersion) {
        return util::Unexpected(
            util::Errc::kInvalidArgument,
            path.string() + " has format version " + std::to_string(version->as_int64()) +
                "; this peerchain reads version " + std::to_string(kWalletFileVersion));
    }
    const auto* network = obj.if_contains("network");
    if (network == nullptr || !network->is_string()) return corrupt("no network");
    if (network->as_string() != params.name) {
        return util::Unexpected(util::Errc::kInvalidArgument,
                                path.string() + " belongs to network '" +
                                    std::string(network->as_string()) + "', not '" + params.name +
                                    "'; use that network or another data directory");
    }
    const auto* keys = obj.if_contains("keys");
    if (keys == nullptr || !keys->is_array()) return corrupt("no keys");
    if (keys->as_array().empty()) return corrupt("no keys");
    Loaded loaded;
    std::set<core::XOnlyKey> seen;
    for (std::size_t i = 0; i < keys->as_array().size(); ++i) {
        const auto& k = keys->as_array()[i];
        if (!k.is_string()) return corrupt("key " + std::to_string(i) + " is not a string");
        auto secret = parse_secret(std::string_view(k.as_string()));
        if (!secret) return corrupt("key " + std::to_string(i) + " is not a secret key");
        if (!seen.insert(secret->public_key()).second) {
            return corrupt("key " + std::to_string(i) + " appears twice");
        }
        loaded.keys.push_back(std::move(*secret));
    }
    const auto* receive = obj.if_contains("receive");
    if (receive == nullptr || !receive->is_int64() || receive->as_int64() < 0 ||
        static_cast<std::uint64_t>(receive->as_int64()) >= loaded.keys.size()) {
        return corrupt("no valid receive index");
    }
    loaded.receive = static_cast<std::size_t>(receive->as_int64());
    return loaded;
}

}  // namespace

std::filesystem::path wallet_file(const std::filesystem::path& data_dir) {
    return data_dir / "wallet.json";
}

std::filesystem::path legacy_miner_key_file(const std::filesystem::path& data_dir) {
    return data_dir / "miner.key";
}

Wallet::Wallet(std::filesystem::path file, const core::Params& params)
    : file_(std::move(file)), params_(params) {}

util::Result<std::unique_ptr<Wallet>> Wallet::open(const std::filesystem::path& data_dir,
                                                   const core::Params& params) {
    std::error_code fs_ec;
    std::filesystem::create_directories(data_dir, fs_ec);
    if (fs_ec) {
        return util::Unexpected(util::Errc::kIo,
                                "cannot create " + data_dir.string() + ": " + fs_ec.message());
    }
    std::unique_ptr<Wallet> wallet(new Wallet(wallet_file(data_dir), params));
    const std::filesystem::path& path = wallet->file_;

    Loaded loaded;
    auto text = read_small_file(path, kMaxWalletFileSize);
    if (text) {
        auto decoded = decode_wallet(*text, path, params);
        if (!decoded) return util::Unexpected(std::move(decoded).error());
        loaded = std::move(*decoded);
        // Fixed rather than refused: refusing to start would not take a leak back.
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
            if (::chmod(path.c_str(), 0600) != 0) return io_error("cannot chmod " + path.string());
            spdlog::warn(
                "{} was readable or writable by other users (mode {:o}); it is now 0600. "
                "Its keys may have been copied: move the coins to a new wallet if others "
                "can log in here",
                path.string(), st.st_mode & 0777);
        }
    } else if (text.error().code != util::Errc::kNotFound) {
        return util::Unexpected(std::move(text).error());
    } else {
        const auto miner_key_path = legacy_miner_key_file(data_dir);
        auto miner_key = read_small_file(miner_key_path, 1024);
        if (miner_key) {
            const std::string& hex = *miner_key;
            const std::size_t end = hex.find_last_not_of(" \t\r\n");
            auto secret = parse_secret(
                std::string_view(hex).substr(0, end == std::string::npos ? 0 : end + 1));
            if (!secret) {
                return util::Unexpected(
                    util::Errc::kCorruption,
                    miner_key_path.string() + " does not hold a secret key; no wallet was made");
            }
            loaded.keys.push_back(std::move(*secret));
            spdlog::info("new wallet {} starts with the key of {}", path.string(),
                         miner_key_path.string());
        } else if (miner_key.error().code != util::Errc::kNotFound) {
            return util::Unexpected(std::move(miner_key).error());
        } else {
            loaded.keys.push_back(crypto::SecretKey::generate());
            spdlog::info("new wallet {}", path.string());
        }
        if (auto w = write_private_file(path, wallet->encode(loaded.keys, 0), true); !w) {
            return util::Unexpected(w.error());
        }
    }

    util::LockGuard lock(wallet->mutex_);
    for (auto& secret : loaded.keys) {
        const core::XOnlyKey pub = secret.public_key();
        wallet->public_keys_.push_back(pub);
        wallet->by_key_.emplace(pub, secret);
        wallet->secrets_.push_back(std::move(secret));
    }
    wallet->receive_ = loaded.receive;
    return wallet;
}

std::string Wallet::encode(std::span<const crypto::SecretKey> keys, std::size_t receive) const {
    boost::json::array hex;
    for (const auto& k : keys) hex.emplace_back(util::to_hex(k.bytes()));
    boost::json::object obj;
    obj["version"] = kWalletFileVersion;
    obj["network"] = params_.name;
    obj["keys"] = std::move(hex);
    obj["receive"] = receive;
    return boost::json::serialize(obj) + "\n";
}

std::string Wallet::address() const { return core::encode_address(key(), params_); }

core::XOnlyKey Wallet::key() const {
    util::LockGuard lock(mutex_);
    return public_keys_[receive_];
}

util::Result<std::string> Wallet::new_address() {
    util::LockGuard write_lock(write_mutex_);
    crypto::SecretKey fresh = crypto::SecretKey::generate();
    std::string text;
    std::size_t index = 0;
    {
        util::LockGuard lock(mutex_);
        std::vector<crypto::SecretKey> next = secrets_;
        next.push_back(fresh);
        index = next.size() - 1;
        text = encode(next, index);
    }
    if (auto w = write_private_file(file_, text, false); !w) return util::Unexpected(w.error());
    const core::XOnlyKey pub = fresh.public_key();
    {
        util::LockGuard lock(mutex_);
        public_keys_.push_back(pub);
        by_key_.emplace(pub, fresh);
        secrets_.push_back(std::move(fresh));
        receive_ = index;
    }
    return core::encode_address(pub, params_);
}

std::vector<core::XOnlyKey> Wallet::keys() const {
    util::LockGuard lock(mutex_);
    return public_keys_;
}

bool Wallet::owns(const core::XOnlyKey& key) const {
    util::LockGuard lock(mutex_);
    return by_key_.contains(key);
}

core::ValidationResult Wallet::build_payment(std::span<const WalletCoin> coins,
                                             const PaymentRequest& request, Payment* out) const {
    KeyMap keys;
    core::XOnlyKey change_key{};
    {
        util::LockGuard lock(mutex_);
        keys = by_key_;
        change_key = public_keys_[receive_];
    }
    return wallet::build_payment(coins, request, change_key, keys, params_, out);
}

}  // namespace peerchain::wallet
