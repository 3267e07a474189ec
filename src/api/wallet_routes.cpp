// The node wallet's routes, /wallet/... (docs/API.md). Every one needs the cookie token,
// even from loopback: they spend or reveal the node's coins.
#include <boost/json.hpp>
#include <optional>

#include "api/errors.hpp"
#include "api/json_views.hpp"
#include "api/routes.hpp"
#include "api/tx_requests.hpp"

namespace peerchain::api {

namespace json = boost::json;

namespace {

// The wallet finds its confirmed coins through the address index (node/node.cpp), so
// without it a balance would silently miss them and a payment would find nothing to spend.
std::optional<Response> without_index(const NodeApi& node) {
    if (node.chain().has_indexes()) return std::nullopt;
    return index_disabled(
        "this node runs with --no-index, and the wallet finds its coins through the address "
        "index; restart the node without the flag");
}

}  // namespace

void add_wallet_routes(Router& router, NodeApi& node) {
    router.add(Method::kGet, "/wallet/address", Access::kTokenAlways,
               sync_handler([&node](const Request&) -> Response {
                   auto address = node.wallet_address(false);
                   if (!address) return error_response(address.error());
                   return Response::ok({{"address", *address}});
               }));

    router.add(Method::kPost, "/wallet/address", Access::kTokenAlways,
               sync_handler([&node](const Request&) -> Response {
                   auto address = node.wallet_address(true);
                   if (!address) return error_response(address.error());
                   return Response::ok({{"address", *address}});
               }));

    router.add(Method::kGet, "/wallet/balance", Access::kTokenAlways,
               sync_handler([&node](const Request&) -> Response {
                   if (auto refused = without_index(node)) return std::move(*refused);
                   auto balance = node.wallet_balance();
                   if (!balance) return error_response(balance.error());
                   return Response::ok({{"confirmed", balance->confirmed},
                                        {"pending", balance->pending},
                                        {"immature", balance->immature}});
               }));

    router.add(Method::kGet, "/wallet/utxos", Access::kTokenAlways,
               sync_handler([&node](const Request&) -> Response {
                   if (auto refused = without_index(node)) return std::move(*refused);
                   auto coins = node.wallet_coins();
                   if (!coins) return error_response(coins.error());
                   const auto& params = node.chain().params();
                   json::array out;
                   for (const auto& c : *coins) out.push_back(wallet_coin_json(c, params));
                   return Response::ok(std::move(out));
               }));

    router.add(Method::kPost, "/wallet/send", Access::kTokenAlways,
               [&node](const Request& req, Responder respond) {
                   auto send = parse_send_request(req, node.chain().params());
                   if (!send) return respond(std::move(send.error()));
                   if (auto refused = without_index(node)) return respond(std::move(*refused));
                   node.wallet_send(
                       std::move(*send), [respond](core::ValidationResult r, SentPayment sent) {
                           if (!r) return respond(reject_response(r));
                           respond(Response::ok({{"txid", sent.txid.to_hex()}, {"fee", sent.fee}}));
                       });
               });
}

}  // namespace peerchain::api
