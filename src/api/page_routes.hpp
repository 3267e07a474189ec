// The explorer page (docs/API.md, "The page"): `GET /` answers web/index.html and
// `GET /static/{file}` the page's other files, all built into the binary (page_assets.hpp).
// The page itself reads the JSON routes and follows `GET /events`; these routes only hand
// out its files, open to anyone who can reach the port, like the other reads.
//
// Thread-safety: the routes read immutable data only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/response.hpp"
#include "api/router.hpp"

namespace peerchain::api {

// The Content-Type for a file name by its extension; application/octet-stream for one
// not listed.
std::string_view page_content_type(std::string_view name) noexcept;

// The answer for the page file `name` (as page_assets() names it): 200 with the file, its
// Content-Type, a strong ETag of its bytes and headers that keep other origins' scripts
// and frames out; nullopt when there is no such file.
std::optional<Response> page_file_response(std::string_view name);

void add_page_routes(Router& router);

}  // namespace peerchain::api
