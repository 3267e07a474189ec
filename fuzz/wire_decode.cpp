// libFuzzer target: net::wire::decode_message on arbitrary bytes. Whatever decodes (other
// than an unknown type) must encode back to exactly the input, since every message has one
// encoding. Seeds: fuzz/corpus/wire_decode/.
#include <cstddef>
#include <cstdint>
#include <variant>

#include "core/params.hpp"
#include "net/wire/message.hpp"
#include "util/assert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace peerchain;
    static const auto kLimits =
        net::wire::DecodeLimits::from(core::params(core::Network::kRegtest));
    const util::ByteSpan input(data, size);
    auto message = net::wire::decode_message(input, kLimits);
    if (!message || std::holds_alternative<net::wire::UnknownMessage>(*message)) return 0;
    const auto again = net::wire::encode_message(*message);
    NODE_ASSERT(again.size() == size);
    NODE_ASSERT(std::equal(again.begin(), again.end(), input.begin()));
    return 0;
}
