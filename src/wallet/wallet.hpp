// Wallet: the node's keys, kept in one file in its data directory, and the payments it
// signs with them.
//
//   <data-dir>/wallet.json, mode 0600:
//     {"version": 1,                 format version; this code reads and writes 1
//      "network": "dev",             Params::name of the network the keys belong to
//      "keys": ["<hex>", ...],       32-byte BIP340 secret keys, 64 hex digits each,
//                                    oldest first; never removed
//      "receive": 0}                 index in "keys" of the current receive key
//
// Lifecycle: open() loads the file, or creates it when there is none. A new wallet takes
// over <data-dir>/miner.key (the key earlier versions paid mined coins to) as its first
// key, so coins mined before keep belonging to it; otherwise its first key is fresh.
// Every write goes to wallet.json.tmp (mode 0600), is fsynced and renamed over the file,
// and the directory is fsynced: a crash leaves the old file or the new one, never a mix.
// A file open() refuses (another network's, an unknown version, anything that does not
// parse) is left exactly as it is.
//
// A wallet file readable or writable by group or others is fixed to 0600 on open, with a
// warning in the log: the keys may already have leaked, so the operator should know, but
// refusing to start would not take that back.
//
// Thread-safety: every member may be called from any thread. The keys sit behind an
// internal mutex that is never held across I/O; new_address() writes the file under a
// second mutex that only other new_address() calls wait for, so readers never wait for
// the disk.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/amount.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"
#include "core/validation.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"
#include "wallet/coins.hpp"
#include "wallet/spend.hpp"

namespace peerchain::wallet {

inline constexpr int kWalletFileVersion = 1;
// A wallet file over this size is refused as corrupt before it is read (about 200'000
// keys).
inline constexpr std::size_t kMaxWalletFileSize = 16u << 20;

// <data_dir>/wallet.json
std::filesystem::path wallet_file(const std::filesystem::path& data_dir);
// <data_dir>/miner.key: hex of a secret key, as node/config.hpp describes it.
std::filesystem::path legacy_miner_key_file(const std::filesystem::path& data_dir);

class Wallet {
  public:
    // Loads wallet_file(data_dir) or creates it (and data_dir) when it does not exist.
    // Fails with kInvalidArgument when the file belongs to another network or has a newer
    // version, kCorruption when it (or the miner.key a new wallet would import) does not
    // parse, kIo when it cannot be read or written. `params` must outlive the wallet.
    static util::Result<std::unique_ptr<Wallet>> open(const std::filesystem::path& data_dir,
                                                      const core::Params& params);

    Wallet(const Wallet&) = delete;
    Wallet& operator=(const Wallet&) = delete;

    const std::filesystem::path& file() const noexcept { return file_; }
    const core::Params& params() const noexcept { return params_; }

    // The current receive address, as text of this network.
    std::string address() const;
    // Its key.
    core::XOnlyKey key() const;
    // Makes a fresh key the receive key and saves the file before it returns its address.
    // Fails with kIo when the file cannot be written; the wallet is then unchanged.
    util::Result<std::string> new_address();

    // Every x-only public key the wallet holds, oldest first.
    std::vector<core::XOnlyKey> keys() const;
    bool owns(const core::XOnlyKey& key) const;

    // build_payment (wallet/spend.hpp) with this wallet's keys, change to key().
    core::ValidationResult build_payment(std::span<const WalletCoin> coins,
                                         const PaymentRequest& request, Payment* out) const;

  private:
    Wallet(std::filesystem::path file, const core::Params& params);

    // The file's text for `keys` and receive index `receive`.
    std::string encode(std::span<const crypto::SecretKey> keys, std::size_t receive) const;

    const std::filesystem::path file_;
    const core::Params& params_;

    // Held by new_address() across its write, so that two new keys are saved one after the
    // other and the later file holds both.
    mutable util::Mutex write_mutex_;

    mutable util::Mutex mutex_;
    std::vector<crypto::SecretKey> secrets_ GUARDED_BY(mutex_);   // file order
    std::vector<core::XOnlyKey> public_keys_ GUARDED_BY(mutex_);  // same order
    KeyMap by_key_ GUARDED_BY(mutex_);
    std::size_t receive_ GUARDED_BY(mutex_) = 0;
};

}  // namespace peerchain::wallet
