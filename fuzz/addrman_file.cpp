// libFuzzer target: AddrMan::deserialize on arbitrary bytes (the body of a peers file; the
// checksum trailer is added here, or the fuzzer would never get past it). A book that
// loads must stay within its capacity and write back a file that loads to the same book.
// Seeds: fuzz/corpus/addrman_file/.
#include <cstddef>
#include <cstdint>

#include "net/addrman/addr_man.hpp"
#include "net/addrman/file_format.hpp"
#include "util/assert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace peerchain;
    static const util::ManualClock clock(1'700'000'000);
    net::addrman::AddrManConfig config;
    config.key.fill(1);
    config.rng_seed = 1;
    // Small tables, so that collisions (and their drops) are common.
    config.new_buckets = 4;
    config.tried_buckets = 2;
    config.bucket_size = 4;
    net::addrman::AddrMan book(config, clock);
    util::Bytes bytes(data, data + size);
    net::addrman::detail::append_checksum(bytes);
    const auto loaded = book.deserialize(bytes);
    if (!loaded) return 0;
    NODE_ASSERT(book.size() == *loaded && book.size() <= book.capacity());
    const util::Bytes saved = book.serialize();
    net::addrman::AddrMan copy(config, clock);
    NODE_ASSERT(copy.deserialize(saved).value() == book.size());
    NODE_ASSERT(copy.serialize() == saved);
    (void)book.select(false);
    (void)book.sample(1000, 100);
    return 0;
}
