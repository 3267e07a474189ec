#include "chain/block_index.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "chain/block_tree.hpp"

namespace peerchain::chain {

namespace {

// Clears the lowest set bit.
constexpr std::uint32_t invert_lowest_one(std::uint32_t n) noexcept { return n & (n - 1); }

}  // namespace

// Bitcoin's GetSkipHeight (src/chain.cpp): any height can be reached from any higher one
// in O(log n) jumps through skip pointers and single steps back.
std::uint32_t skip_height(std::uint32_t height) noexcept {
    if (height < 2) return 0;
    return (height & 1) != 0 ? invert_lowest_one(invert_lowest_one(height - 1)) + 1
                             : invert_lowest_one(height);
}

const BlockIndex* BlockIndex::ancestor(std::uint32_t h) const noexcept {
    if (h > height) return nullptr;
    const BlockIndex* walk = this;
    std::uint32_t walk_height = height;
    while (walk_height > h) {
        const std::uint32_t skip_h = skip_height(walk_height);
        const std::uint32_t skip_prev_h = skip_height(walk_height - 1);
        // Take the skip pointer unless it overshoots, or the parent's skip would land
        // closer to the target (same rule as Bitcoin's GetAncestor).
        if (walk->skip != nullptr &&
            (skip_h == h || (skip_h > h && !(skip_prev_h + 2 < skip_h && skip_prev_h >= h)))) {
            walk = walk->skip;
            walk_height = skip_h;
        } else {
            walk = walk->prev;
            --walk_height;
        }
    }
    return walk;
}

std::int64_t BlockIndex::median_time_past() const noexcept {
    std::array<std::int64_t, 11> times{};
    std::size_t n = 0;
    for (const BlockIndex* b = this; b != nullptr && n < times.size(); b = b->prev) {
        times[n++] = b->header.time;
    }
    std::sort(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(n));
    return times[n / 2];
}

const BlockIndex* last_common_ancestor(const BlockIndex* a, const BlockIndex* b) noexcept {
    if (a->height > b->height) {
        a = a->ancestor(b->height);
    } else if (b->height > a->height) {
        b = b->ancestor(a->height);
    }
    while (a != b && a != nullptr && b != nullptr) {
        a = a->prev;
        b = b->prev;
    }
    return a;
}

std::string describe(const BlockIndex* index) {
    return index->hash.to_hex() + " (height " + std::to_string(index->height) + ")";
}

}  // namespace peerchain::chain
