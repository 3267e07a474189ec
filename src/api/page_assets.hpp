// The explorer page's files (web/ in the source tree), built into the binary by
// cmake/EmbedFiles.cmake: the node serves them itself, with no other server and offline.
//
// Thread-safety: immutable data with static storage duration.
#pragma once

#include <span>
#include <string_view>

namespace peerchain::api {

struct PageAsset {
    // The path below web/, e.g. "index.html", "app.js".
    std::string_view name;
    // The file's bytes.
    std::string_view bytes;
};

// Every file of the page, in the order CMake listed them.
std::span<const PageAsset> page_assets() noexcept;

}  // namespace peerchain::api
