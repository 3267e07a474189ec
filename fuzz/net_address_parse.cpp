// libFuzzer target: NetAddress::parse and parse_ban_address on arbitrary text (hosts come
// from peers' addr and version messages, ban addresses from the API). What parses must be
// canonical (parsing it again gives it back), fall in exactly one class, and have a group;
// the locality rule must take any pair without trouble.
// Seeds: fuzz/corpus/net_address_parse/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/addrman/ban_man.hpp"
#include "net/addrman/net_address.hpp"
#include "util/assert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace peerchain::net::addrman;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto key = parse_ban_address(text)) {
        const auto again = parse_ban_address(*key);
        NODE_ASSERT(again && *again == *key);
    }
    const auto split = text.find('|');
    const std::string_view host = text.substr(0, split);
    const std::string_view source =
        split == std::string_view::npos ? std::string_view{} : text.substr(split + 1);
    const auto address = NetAddress::parse(host, 6001, kTransportWebSocket | kTransportTcp);
    if (!address) return 0;
    const auto again = NetAddress::parse(address->host, address->port, address->transports);
    NODE_ASSERT(again && *again == *address);
    NODE_ASSERT(canonical_host(address->host).value() == address->host);
    if (address->is_ip()) {
        const int classes =
            int{address->is_loopback()} + int{address->is_private()} + int{address->is_routable()};
        NODE_ASSERT(classes == 1);
    }
    NODE_ASSERT(address->is_private() == !address->local_network().empty());
    NODE_ASSERT(!address->group().empty());
    (void)accept_from(*address, source);
    return 0;
}
