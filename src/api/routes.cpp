#include "api/routes.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <memory>

#include "api/errors.hpp"
#include "api/json_views.hpp"
#include "api/page_routes.hpp"
#include "api/parsed.hpp"
#include "api/tx_requests.hpp"
#include "core/pow.hpp"

namespace peerchain::api {

namespace {

namespace json = boost::json;

// A decimal number without sign, spaces or leading '+': "0" to "4294967295".
std::optional<std::uint32_t> parse_u32(std::string_view s) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

Response block_answer(const NodeApi& node, const chain::BlockIndex* index) {
    const auto& chain = node.chain();
    auto block = chain.read_block(index);
    if (!block) return error_response(block.error());
    BlockPlacement placement{index->height, 0};
    if (chain.in_active_chain(index)) {
        placement.confirmations =
            static_cast<std::int64_t>(chain.tip()->height) - index->height + 1;
    }
    auto out = block_json(**block, placement, chain.params());
    out["chainwork"] = index->chain_work.to_hex();
    return Response::ok(std::move(out));
}

Response unknown_block(std::string_view what) {
    return error_response(404, "unknown-block", "no block " + std::string(what));
}

void add_block_routes(Router& router, NodeApi& node) {
    router.add(
        Method::kGet, "/blocks", Access::kOpen,
        sync_handler([&node](const Request& req) -> Response {
            std::uint32_t from = 0;
            std::uint32_t limit = kMaxBlocksPerAnswer;
            if (auto v = req.query_param("from")) {
                auto n = parse_u32(*v);
                if (!n) return bad_request("'from' must be a block height");
                from = *n;
            }
            if (auto v = req.query_param("limit")) {
                auto n = parse_u32(*v);
                if (!n) return bad_request("'limit' must be a whole number");
                limit = std::min(*n, kMaxBlocksPerAnswer);
            }
            const auto& chain = node.chain();
            const chain::BlockIndex* tip = chain.tip();
            json::array blocks;
            for (std::uint64_t h = from; h <= tip->height && blocks.size() < limit; ++h) {
                const auto* index = chain.at_height(static_cast<std::uint32_t>(h));
                if (index == nullptr) break;  // a reorg shortened the chain meanwhile
                auto block = chain.read_block(index);
                if (!block) return error_response(block.error());
                BlockPlacement placement{
                    index->height, static_cast<std::int64_t>(tip->height) - index->height + 1};
                blocks.push_back(block_json(**block, placement, chain.params()));
            }
            const std::uint64_t next = std::uint64_t{from} + blocks.size();
            const bool more = !blocks.empty() && next <= tip->height;
            Response res = Response::ok(std::move(blocks));
            res.headers.push_back({"X-Chain-Height", std::to_string(tip->height)});
            // The body stays the bare array the tutorials expect; the next page is
            // named the way RFC 8288 pages are (GitHub's API does the same).
            if (more) {
                res.headers.push_back({"Link", "</blocks?from=" + std::to_string(next) + "&limit=" +
                                                   std::to_string(limit) + ">; rel=\"next\""});
            }
            return res;
        }));

    router.add(Method::kGet, "/blocks/latest", Access::kOpen, sync_handler([&node](const Request&) {
                   return block_answer(node, node.chain().tip());
               }));

    router.add(Method::kGet, "/blocks/{id}", Access::kOpen,
               sync_handler([&node](const Request& req) -> Response {
                   const std::string_view id = req.param("id");
                   const auto& chain = node.chain();
                   if (id.size() == 64) {
                       auto hash = core::Uint256::from_hex(id);
                       if (!hash) return bad_request("a block hash is 64 hex digits");
                       const auto* index = chain.lookup(*hash);
                       if (index == nullptr || !(chain.status(index) & chain::kHaveData)) {
                           return unknown_block(id);
                       }
                       return block_answer(node, index);
                   }
                   auto height = parse_u32(id);
                   if (!height) return bad_request("expected a block height or a 64-digit hash");
                   const auto* index = chain.at_height(*height);
                   if (index == nullptr) return unknown_block("at height " + std::string(id));
                   return block_answer(node, index);
               }));
}

// POST /mineBlock with {"count": N, "to": "<address>"}: N blocks, one after another, each
// queued when the one before is connected; the answer lists them. Shared by the callbacks.
struct MineBatch {
    MineBatch(NodeApi& n, Responder r) : node(&n), respond(std::move(r)) {}

    NodeApi* node;
    Responder respond;
    util::Bytes data;
    std::optional<core::XOnlyKey> to;
    std::uint32_t remaining = 0;
    json::array mined;

    static void next(const std::shared_ptr<MineBatch>& batch) {
        batch->node->mine_block(
            batch->data, batch->to, [batch](util::Result<core::BlockPtr> block) {
                if (!block) {
                    // Blocks already mined stay mined; the error says how many were.
                    util::Error error = block.error();
                    if (!batch->mined.empty()) {
                        error.message = std::to_string(batch->mined.size()) +
                                        " blocks mined, then: " + error.message;
                    }
                    return batch->respond(error_response(error));
                }
                const auto* index = batch->node->chain().lookup((*block)->hash());
                batch->mined.push_back(
                    {{"height", index != nullptr ? static_cast<std::int64_t>(index->height) : -1},
                     {"hash", (*block)->hash().to_hex()}});
                if (--batch->remaining == 0) {
                    const auto n = batch->mined.size();
                    return batch->respond(
                        Response::ok({{"count", n}, {"blocks", std::move(batch->mined)}}));
                }
                next(batch);
            });
    }
};

void add_mining_routes(Router& router, NodeApi& node) {
    router.add(
        Method::kPost, {"/mineBlock", "/mine", "/chains"}, Access::kLoopbackOrToken,
        [&node](const Request& req, Responder respond) {
            // naivecoin's client may post no body at all: one block with no data.
            json::value empty = json::object();
            json::value* body = &empty;
            util::Result<json::value> parsed = json::value();
            if (!req.body.empty()) {
                parsed = req.json_body();
                if (!parsed) return respond(bad_json(parsed.error()));
                body = &*parsed;
            }
            const json::object& obj = body->as_object();
            if (auto r = unknown_field(obj, {"data", "count", "to"})) return respond(std::move(*r));
            const json::value* data = obj.if_contains("data");
            if (data != nullptr && !data->is_string()) {
                return respond(bad_request("'data' must be a string, not " + json_kind(*data)));
            }
            if (data == nullptr && !req.body.empty() && !obj.contains("count") &&
                !obj.contains("to")) {
                return respond(bad_request(
                    "expected {\"data\": \"<text>\"} or {\"count\": N, \"to\": \"<address>\"}"));
            }
            // Both arms a string_view: `cond ? json::string : ""` would be a temporary copy.
            const std::string_view text =
                data != nullptr ? std::string_view(data->get_string()) : std::string_view();
            const std::size_t max = node.chain().params().max_data_size;
            if (text.size() > max) {
                return respond(error_response(400, "data-too-large",
                                              "data is " + std::to_string(text.size()) +
                                                  " bytes; at most " + std::to_string(max)));
            }
            std::optional<core::XOnlyKey> to;
            if (const json::value* t = obj.if_contains("to")) {
                if (!t->is_string()) {
                    return respond(error_response(400, "bad-address",
                                                  "'to' must be a string, not " + json_kind(*t)));
                }
                auto key = parse_address(t->get_string(), node.chain().params());
                if (!key) return respond(std::move(key.error()));
                to = *key;
            }
            const json::value* count = obj.if_contains("count");
            if (count != nullptr || to) {
                const auto n =
                    count != nullptr ? json_integer(*count) : std::optional<std::int64_t>(1);
                if (!n || *n < 1 || *n > static_cast<std::int64_t>(kMaxMineCount)) {
                    return respond(bad_request("'count' must be a JSON integer from 1 to " +
                                               std::to_string(kMaxMineCount)));
                }
                auto batch = std::make_shared<MineBatch>(node, std::move(respond));
                batch->data.assign(text.begin(), text.end());
                batch->to = to;
                batch->remaining = static_cast<std::uint32_t>(*n);
                return MineBatch::next(batch);
            }
            NodeApi* api = &node;
            node.mine_block(util::Bytes(text.begin(), text.end()), std::nullopt,
                            [api, respond](util::Result<core::BlockPtr> mined) {
                                if (!mined) return respond(error_response(mined.error()));
                                const auto* index = api->chain().lookup((*mined)->hash());
                                if (index == nullptr) {
                                    return respond(internal_error("mined block not indexed"));
                                }
                                respond(block_answer(*api, index));
                            });
        });
}

void add_status_route(Router& router, NodeApi& node) {
    router.add(Method::kGet, "/status", Access::kOpen, sync_handler([&node](const Request&) {
                   const auto& chain = node.chain();
                   const auto stats = chain.stats();
                   const auto* tip = chain.tip();
                   const auto mining = node.mining();
                   json::object out;
                   out["network"] = chain.params().name;
                   out["userAgent"] = node.user_agent();
                   out["height"] = stats.height;
                   out["tipHash"] = stats.tip_hash.to_hex();
                   out["chainwork"] = stats.chain_work.to_hex();
                   out["bits"] = bits_hex(tip->header.bits);
                   out["difficulty"] = core::difficulty(tip->header.bits, chain.params());
                   out["medianTime"] = tip->median_time_past();
                   out["bestHeaderHeight"] = stats.best_header_height;
                   out["headers"] = stats.headers;
                   out["peers"] = node.peers().size();
                   out["genesisHash"] = chain.params().genesis_hash.to_hex();
                   if (chain.has_indexes()) {
                       const auto progress = chain.index_progress();
                       out["indexes"] = {{"enabled", true},
                                         {"complete", progress.complete},
                                         {"height", progress.height}};
                   } else {
                       out["indexes"] = {{"enabled", false}};
                   }
                   out["mining"] = {{"continuous", mining.continuous},
                                    {"threads", mining.threads},
                                    {"hashesPerSecond", mining.hashes_per_second},
                                    {"blocksFound", mining.blocks_found},
                                    {"queuedRequests", mining.queued_requests}};
                   return Response::ok(std::move(out));
               }));
}

// GET /chain/coins: what gettxoutsetinfo tells in Bitcoin Core. The walk runs off the
// HTTP threads (NodeApi::coin_stats); one at a time, so a second caller is told at once.
// Each call flushes the coins (a synced write) and reads the whole set: like mining, it is
// for the node's own machine or a holder of the token, not for anyone who can reach it.
void add_coins_route(Router& router, NodeApi& node) {
    router.add(Method::kGet, "/chain/coins", Access::kLoopbackOrToken,
               [&node](const Request&, Responder respond) {
                   auto done = [respond](util::Result<chain::CoinStats> stats) {
                       if (!stats) {
                           if (stats.error().code == util::Errc::kUnavailable) {
                               return respond(shutting_down());
                           }
                           return respond(error_response(stats.error()));
                       }
                       respond(Response::ok({{"height", stats->height},
                                             {"tip", stats->tip.to_hex()},
                                             {"coins", stats->coins},
                                             {"amount", stats->amount},
                                             {"digest", util::to_hex(stats->digest)}}));
                   };
                   if (!node.coin_stats(done)) {
                       respond(error_response(
                           503, "busy",
                           "the coins digest is being computed for another request; try again "
                           "when it is done"));
                   }
               });
}

}  // namespace

void add_metrics_route(Router& router, NodeApi& node) {
    router.add(Method::kGet, "/metrics", Access::kOpen, sync_handler([&node](const Request&) {
                   return Response::ok_text(node.metrics_text(),
                                            "text/plain; version=0.0.4; charset=utf-8");
               }));
}

void register_routes(Router& router, NodeApi& node) {
    add_block_routes(router, node);
    add_coins_route(router, node);
    add_metrics_route(router, node);
    add_mining_routes(router, node);
    add_page_routes(router);
    add_peer_routes(router, node);
    add_status_route(router, node);
    add_transaction_routes(router, node);
    add_wallet_routes(router, node);
    add_event_routes(router, node);
}

}  // namespace peerchain::api
