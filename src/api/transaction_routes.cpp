// GET /transactions/{txid}, POST /transactions, GET /address/{address}, GET /mempool and
// GET /mempool/info (docs/API.md).
#include <boost/json.hpp>
#include <map>

#include "api/errors.hpp"
#include "api/json_views.hpp"
#include "api/routes.hpp"
#include "api/tx_requests.hpp"
#include "core/address.hpp"

namespace peerchain::api {

namespace {

namespace json = boost::json;

Response transaction_answer(const NodeApi& node, const core::Uint256& txid) {
    const auto& chain = node.chain();
    const auto& params = chain.params();
    if (auto found = chain.find_transaction(txid)) {
        std::vector<core::TxOut> spent;
        spent.reserve(found->spent.size());
        for (const core::Coin& c : found->spent) spent.push_back(c.out);
        json::object out = transaction_detail_json(found->tx, params, &spent);
        const std::uint32_t tip = chain.tip()->height;
        out["inMempool"] = false;
        out["blockHash"] = found->block->hash.to_hex();
        out["blockHeight"] = found->block->height;
        out["position"] = found->position;
        out["confirmations"] = tip >= found->block->height
                                   ? std::int64_t{tip} - found->block->height + 1
                                   : std::int64_t{1};
        return Response::ok(std::move(out));
    }
    const auto& pool = node.mempool();
    if (auto entry = pool.get(txid)) {
        // The outputs it spends are confirmed coins or outputs of pool parents. Either may
        // vanish while we look (a block arrives); then the inputs show no amounts, but the
        // entry still has its fee.
        std::vector<core::TxOut> spent;
        for (const auto& in : entry->tx->inputs) {
            if (auto coin = chain.coin(in.prevout)) {
                spent.push_back(coin->out);
            } else if (auto out = pool.output(in.prevout)) {
                spent.push_back(*out);
            } else {
                break;
            }
        }
        json::object out = transaction_detail_json(*entry->tx, params, &spent);
        out["fee"] = entry->fee;
        out["inMempool"] = true;
        out["time"] = entry->time;
        return Response::ok(std::move(out));
    }
    if (!chain.has_indexes()) {
        return index_disabled("no transaction " + txid.to_hex() +
                              " in the pool; this node runs with --no-index, so it keeps no "
                              "transaction index to find one of the chain");
    }
    if (const auto progress = chain.index_progress(); !progress.complete) {
        return error_response(
            503, "index-building",
            "no transaction " + txid.to_hex() + " in the pool or the blocks indexed so far: " +
                "the transaction index covers heights 0 to " + std::to_string(progress.height) +
                " of " + std::to_string(chain.tip()->height) +
                " and is being built after the sync; ask again when it is done");
    }
    return error_response(404, "unknown-transaction",
                          "no transaction " + txid.to_hex() + " in the active chain or the pool");
}

Response address_answer(const NodeApi& node, const Request& req, std::string_view address) {
    const auto& chain = node.chain();
    const auto& params = chain.params();
    auto key = parse_address(address, params);
    if (!key) return std::move(key.error());
    auto limit = parse_limit(req, kDefaultAddressTxs, kMaxAddressTxs);
    if (!limit) return std::move(limit.error());
    if (!chain.has_indexes()) {
        return index_disabled(
            "this node runs with --no-index, so it keeps no address index; restart it without "
            "the flag (the index is rebuilt at start)");
    }
    const std::uint32_t tip = chain.tip()->height;

    const auto coins = chain.address_coins(*key);
    core::Amount balance = 0;
    core::Amount immature = 0;
    json::array utxos;
    std::map<core::OutPoint, core::Amount> confirmed;  // for the pool's spends below
    for (const auto& [outpoint, coin] : coins) {
        balance += coin.out.amount;
        json::object c = coin_json(outpoint, coin, tip, params);
        if (!c["mature"].as_bool()) immature += coin.out.amount;
        if (utxos.size() < kMaxAddressUtxos) utxos.push_back(std::move(c));
        confirmed.emplace(outpoint, coin.out.amount);
    }

    // The pool's effect: what its transactions pay the key, less the key's coins (confirmed
    // or unconfirmed) they spend. One pass over the pool, which its byte bound bounds.
    core::Amount pending = 0;
    json::array pool_txs;
    const auto& pool = node.mempool();
    for (const mempool::Entry& e : pool.entries()) {
        core::Amount received = 0;
        core::Amount sent = 0;
        for (const auto& o : e.tx->outputs) {
            if (o.recipient == *key) received += o.amount;
        }
        for (const auto& in : e.tx->inputs) {
            if (auto it = confirmed.find(in.prevout); it != confirmed.end()) {
                sent += it->second;
            } else if (auto out = pool.output(in.prevout); out && out->recipient == *key) {
                sent += out->amount;
            }
        }
        if (received == 0 && sent == 0) continue;
        pending += received - sent;
        if (pool_txs.size() < *limit) {
            pool_txs.push_back({{"txid", e.txid.to_hex()}, {"received", received}, {"sent", sent}});
        }
    }

    // Read first: what the history holds is at least this complete.
    const auto progress = chain.index_progress();
    json::array history;
    for (const auto& tx : chain.address_history(*key, *limit)) {
        history.push_back(address_tx_json(tx, tip));
    }
    json::object out;
    out["address"] = core::encode_address(*key, params);
    out["key"] = util::to_hex(*key);
    out["balance"] = balance;
    out["immature"] = immature;
    out["pending"] = pending;
    out["utxoCount"] = coins.size();
    out["utxos"] = std::move(utxos);
    out["transactions"] = std::move(history);
    if (!progress.complete) out["historyHeight"] = progress.height;
    out["mempoolTransactions"] = std::move(pool_txs);
    return Response::ok(std::move(out));
}

}  // namespace

Response index_disabled(std::string_view message) {
    return error_response(503, "index-disabled", message);
}

void add_transaction_routes(Router& router, NodeApi& node) {
    router.add(Method::kGet, "/transactions/{txid}", Access::kOpen,
               sync_handler([&node](const Request& req) -> Response {
                   auto txid = parse_txid(req.param("txid"));
                   if (!txid) return std::move(txid.error());
                   return transaction_answer(node, *txid);
               }));

    router.add(Method::kPost, "/transactions", Access::kOpen,
               [&node](const Request& req, Responder respond) {
                   auto tx = parse_submit_body(req, node.chain().params());
                   if (!tx) return respond(std::move(tx.error()));
                   node.submit_transaction(std::move(*tx),
                                           [respond](core::ValidationResult r, core::Uint256 txid) {
                                               if (!r) return respond(reject_response(r));
                                               respond(Response::ok({{"txid", txid.to_hex()}}));
                                           });
               });

    router.add(Method::kGet, "/address/{address}", Access::kOpen,
               sync_handler([&node](const Request& req) -> Response {
                   return address_answer(node, req, req.param("address"));
               }));

    router.add(Method::kGet, "/mempool", Access::kOpen,
               sync_handler([&node](const Request& req) -> Response {
                   auto limit = parse_limit(req, kDefaultMempoolEntries, kMaxMempoolEntries);
                   if (!limit) return std::move(limit.error());
                   auto entries = node.mempool().entries();
                   // Own fee rate, highest first; ties by txid so pages are stable. Compared
                   // as fee_a * size_b > fee_b * size_a in long double: the products reach
                   // 2^68, past int64.
                   std::sort(entries.begin(), entries.end(),
                             [](const mempool::Entry& a, const mempool::Entry& b) {
                                 const long double l = static_cast<long double>(a.fee) *
                                                       static_cast<long double>(b.size);
                                 const long double r = static_cast<long double>(b.fee) *
                                                       static_cast<long double>(a.size);
                                 if (l != r) return l > r;
                                 return a.txid < b.txid;
                             });
                   json::array out;
                   for (const auto& e : entries) {
                       if (out.size() >= *limit) break;
                       out.push_back(mempool_entry_json(e));
                   }
                   Response res = Response::ok(std::move(out));
                   res.headers.push_back({"X-Mempool-Size", std::to_string(entries.size())});
                   return res;
               }));

    router.add(Method::kGet, "/mempool/info", Access::kOpen,
               sync_handler([&node](const Request&) -> Response {
                   const auto& pool = node.mempool();
                   return Response::ok({{"size", pool.size()},
                                        {"bytes", pool.bytes()},
                                        {"minFeeRate", node.min_fee_rate()}});
               }));
}

}  // namespace peerchain::api
