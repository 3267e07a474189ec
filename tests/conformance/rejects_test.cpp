// Replays the reject vectors of tests/conformance/rejects.json (rejects.md) through the
// node's real entry points: the base chain into a Chainstate (LevelDB in a temporary
// directory, the file's clock), then every case through Chainstate::process_header,
// Chainstate::process_block or Mempool::accept, checking the exact token and class and
// that the chain is unchanged afterwards. And it holds docs/reject-reasons.md to the file:
// every token of its header, block, transaction and pool tables has a vector with the class
// the document gives it, or is in the short list below of tokens no vector can reach.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "chain/chain_test_util.hpp"
#include "core/merkle.hpp"
#include "core/sighash.hpp"
#include "mempool/mempool.hpp"

namespace peerchain::conformance {
namespace {

namespace json = boost::json;
using core::ValidationCode;

// Tokens of docs/reject-reasons.md that no vector covers, by table, and why (rejects.md
// says the same for a second implementation).
const std::map<std::pair<std::string, std::string>, std::string>& not_covered() {
    static const std::map<std::pair<std::string, std::string>, std::string> kNotCovered = {
        {{"block", "store-failure"}, "our own storage failing: no block or transaction causes it"},
        {{"block", "bad-txns-accumulated-fee-outofrange"},
         "a block's fees are at most the values of the coins it spends, which a valid chain "
         "keeps within the money range: a check in depth that no chain of valid blocks "
         "reaches"},
        {{"tx-utxo", "bad-txns-inputvalues-outofrange"},
         "needs coins worth more than the money range, which no valid chain creates; "
         "core/tx_verify_test.cpp feeds check_tx_inputs such coins directly"},
        {{"pool", "bad-txns-inputvalues-outofrange"}, "as in a block"},
    };
    return kNotCovered;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "cannot read " << path;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const json::object& vectors() {
    static const json::value kDoc =
        json::parse(read_text(std::string(PEERCHAIN_CONFORMANCE_DIR) + "/rejects.json"));
    return kDoc.as_object();
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

// Hex with "[<hex>*<n>]" runs (rejects.md), bounded: no vector is near 4 MB.
util::Bytes expand(const std::string& text) {
    constexpr std::size_t kMaxBytes = 4u << 20;
    util::Bytes out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '[') {
            const std::size_t star = text.find('*', i);
            const std::size_t close = text.find(']', i);
            if (star == std::string::npos || close == std::string::npos || star > close) {
                ADD_FAILURE() << "bad run at " << i;
                return {};
            }
            auto unit = util::from_hex(text.substr(i + 1, star - i - 1));
            const std::size_t reps = std::stoul(text.substr(star + 1, close - star - 1));
            if (!unit || unit->empty() || reps > kMaxBytes / unit->size() ||
                out.size() + reps * unit->size() > kMaxBytes) {
                ADD_FAILURE() << "bad run at " << i;
                return {};
            }
            // Copies the unit once, then doubles what is filled (these runs reach a megabyte).
            const std::size_t start = out.size();
            const std::size_t total = reps * unit->size();
            out.resize(start + total);
            std::copy(unit->begin(), unit->end(), out.begin() + static_cast<std::ptrdiff_t>(start));
            for (std::size_t filled = unit->size(); filled < total;) {
                const std::size_t n = std::min(filled, total - filled);
                std::copy_n(out.begin() + static_cast<std::ptrdiff_t>(start), n,
                            out.begin() + static_cast<std::ptrdiff_t>(start + filled));
                filled += n;
            }
            i = close + 1;
            continue;
        }
        const std::size_t next = std::min(text.find('[', i), text.size());
        auto plain = util::from_hex(text.substr(i, next - i));
        if (!plain || out.size() + plain->size() > kMaxBytes) {
            ADD_FAILURE() << "bad hex at " << i;
            return {};
        }
        out.insert(out.end(), plain->begin(), plain->end());
        i = next;
    }
    return out;
}

std::string class_name(ValidationCode code) {
    switch (code) {
        case ValidationCode::kOk:
            return "ok";
        case ValidationCode::kInvalid:
            return "invalid";
        case ValidationCode::kTimeFuture:
            return "future";
        case ValidationCode::kMissingPrev:
            return "missing";
        case ValidationCode::kDuplicate:
            return "duplicate";
        case ValidationCode::kPolicy:
            return "policy";
        case ValidationCode::kInternal:
            return "internal";
    }
    return "?";
}

core::BlockPtr decode_block(const json::object& item) {
    // Over the consensus limit on purpose: bad-blk-length is the chain's to find.
    auto block = core::decode_block(expand(str(item.at("hex"))), 4u << 20);
    EXPECT_TRUE(block) << block.error().to_string();
    if (!block) return nullptr;
    EXPECT_EQ(block->hash().to_hex(), str(item.at("id")));
    return std::make_shared<const core::Block>(std::move(*block));
}

mempool::TxPtr decode_tx(const json::object& item) {
    auto tx = core::decode_transaction(expand(str(item.at("hex"))));
    EXPECT_TRUE(tx) << tx.error().to_string();
    if (!tx) return nullptr;
    EXPECT_EQ(tx->txid().to_hex(), str(item.at("id")));
    return std::make_shared<const core::Transaction>(std::move(*tx));
}

// The block a case builds on: the header's parent, or the tip for a pool transaction.
std::string parent_named(const json::object& c, const core::Uint256& tip) {
    if (str(c.at("kind")) == "mempool-tx") return tip.to_hex();
    // The header's 80 bytes are 160 plain hex digits: no run is that short.
    const util::Bytes bytes = expand(str(c.at("hex")).substr(0, 2 * core::kHeaderSize));
    if (bytes.size() < core::kHeaderSize) return "";
    auto header = core::decode_header(util::ByteSpan(bytes.data(), core::kHeaderSize));
    return header ? header->prev_hash.to_hex() : "";
}

// Each test has its own chain, at the file's clock, with the base chain fed.
class RejectsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        harness_.clock().set(vectors().at("now").as_int64());
        // Every case is a rejection the chain logs as a warning.
        spdlog::set_level(spdlog::level::err);
        replay_base();
    }

    chain::Chainstate& chain() { return harness_.chain(); }

    void replay_base() {
        const json::object& base = vectors().at("base_chain").as_object();
        for (const json::value& hex : base.at("blocks").as_array()) {
            auto block = core::decode_block(expand(str(hex)), chain().params().max_block_size);
            ASSERT_TRUE(block) << block.error().to_string();
            const auto r = chain().process_block(std::make_shared<const core::Block>(*block));
            ASSERT_TRUE(r.is_ok()) << r.to_string();
        }
    }

    mempool::Options pool_options(const json::object& c) const {
        mempool::Options o;
        json::object merged = vectors().at("pool_options").as_object();
        if (const json::value* over = c.if_contains("pool_options")) {
            for (const auto& m : over->as_object()) merged[m.key()] = m.value();
        }
        o.max_bytes = merged.at("max_bytes").to_number<std::size_t>();
        o.min_fee_rate = merged.at("min_fee_rate").to_number<core::Amount>();
        o.max_ancestors = merged.at("max_ancestors").to_number<std::size_t>();
        o.max_descendants = merged.at("max_descendants").to_number<std::size_t>();
        return o;
    }

    // Only the rule named is broken: every signature of `txs` whose spent outputs are known
    // (the chain's coins, outputs of `txs` themselves and of `known`) verifies, unless the
    // signature is the rule. Transactions spending anything unknown are left out.
    void expect_signed(const std::vector<core::Transaction>& txs,
                       std::vector<core::Transaction>& known, bool signature_rule) {
        known.insert(known.end(), txs.begin(), txs.end());
        std::map<core::OutPoint, core::TxOut> outputs;
        for (const core::Transaction& tx : known) {
            const core::Uint256 txid = tx.txid();
            for (std::uint32_t k = 0; k < tx.outputs.size(); ++k) {
                outputs[{txid, k}] = tx.outputs[k];
            }
        }
        for (const core::Transaction& tx : txs) {
            if (tx.is_coinbase() || tx.inputs.empty()) continue;
            std::vector<core::TxOut> spent;
            for (const core::TxIn& in : tx.inputs) {
                if (auto c = chain().coin(in.prevout)) {
                    spent.push_back(c->out);
                } else if (auto o = outputs.find(in.prevout); o != outputs.end()) {
                    spent.push_back(o->second);
                } else {
                    break;
                }
            }
            if (spent.size() != tx.inputs.size()) continue;
            bool all = true;
            for (std::size_t k = 0; k < tx.inputs.size(); ++k) {
                all = all && core::verify_input(tx, k, spent, chain().params());
            }
            EXPECT_EQ(all, !signature_rule) << "signatures of " << tx.txid().to_hex();
        }
    }

    // One header, block or pool transaction of a case through its entry point; `known`
    // gathers the transactions the case has sent so far.
    core::ValidationResult submit(const json::object& item, mempool::Mempool& pool,
                                  std::vector<core::Transaction>& known) {
        // What the item is expected to give: a case's token, or a setup step's expectation.
        const std::string expected =
            str(item.contains("token") ? item.at("token") : item.at("expect"));
        const bool signature_rule = expected == "bad-txns-signature";
        const std::string kind = str(item.at("kind"));
        if (kind == "header") {
            auto bytes = expand(str(item.at("hex")));
            auto header = core::decode_header(bytes);
            EXPECT_TRUE(header);
            if (!header) return core::ValidationResult::fail(ValidationCode::kInternal, "decode");
            EXPECT_EQ(header->hash().to_hex(), str(item.at("id")));
            return chain().process_header(*header);
        }
        if (kind == "block" || kind == "tx-in-block") {
            auto block = decode_block(item);
            if (!block) return core::ValidationResult::fail(ValidationCode::kInternal, "decode");
            // Only the rule named is broken: the transactions match the header's merkle root
            // (unless that is the rule) and the parent is the one the case names.
            if (expected != "bad-merkle-root") {
                EXPECT_EQ(core::block_merkle_root(*block), block->header.merkle_root);
            }
            expect_signed(block->txs, known, signature_rule);
            return chain().process_block(block);
        }
        EXPECT_EQ(kind, "mempool-tx");
        auto tx = decode_tx(item);
        if (!tx) return core::ValidationResult::fail(ValidationCode::kInternal, "decode");
        expect_signed({*tx}, known, signature_rule);
        return pool.accept(tx);
    }

    // Case `i` with its setup, on the chain as it is; the chain's tip must not move.
    void run_case(std::size_t i) {
        const core::Uint256 tip = chain().tip()->hash;
        const json::object& c = vectors().at("cases").as_array().at(i).as_object();
        SCOPED_TRACE("case " + std::to_string(i) + " " + str(c.at("token")) + " (" +
                     str(c.at("kind")) + "): " + str(c.at("description")));
        EXPECT_EQ(str(c.at("parent")), parent_named(c, tip));
        mempool::Mempool pool(chain(), harness_.clock(), pool_options(c));
        std::vector<core::Transaction> known;
        if (const json::value* setup = c.if_contains("setup")) {
            for (const json::value& step : setup->as_array()) {
                const auto r = submit(step.as_object(), pool, known);
                EXPECT_EQ(chain::test::reason(r), str(step.at("expect"))) << r.to_string();
            }
        }
        // After the setup: a case's parent may be a block the setup sent.
        if (!c.at("height").is_null()) {
            const auto parent = core::Uint256::from_hex(str(c.at("parent")));
            const chain::BlockIndex* p = parent ? chain().lookup(*parent) : nullptr;
            ASSERT_NE(p, nullptr);
            EXPECT_EQ(p->height + 1, c.at("height").to_number<std::uint32_t>());
        }
        const auto r = submit(c, pool, known);
        EXPECT_EQ(chain::test::reason(r), str(c.at("token"))) << r.to_string();
        EXPECT_EQ(class_name(r.code), str(c.at("class"))) << r.to_string();
        if (const json::value* detail = c.if_contains("detail")) {
            EXPECT_NE(r.detail.find(str(*detail)), std::string::npos) << r.to_string();
        }
        EXPECT_EQ(chain().tip()->hash, tip);
    }

    chain::test::ChainHarness harness_;
};

TEST_F(RejectsTest, BaseChainReplaysToTheStatedTip) {
    const json::object& doc = vectors();
    EXPECT_EQ(str(doc.at("network")), "regtest");
    EXPECT_EQ(str(doc.at("genesis_hash")), chain().params().genesis_hash.to_hex());
    // The keys the file states are the keys that sign its vectors.
    for (const auto& k : doc.at("keys").as_object()) {
        auto secret = util::from_hex(str(k.value().at("secret")));
        ASSERT_TRUE(secret && secret->size() == 32);
        std::array<std::uint8_t, 32> bytes{};
        std::copy(secret->begin(), secret->end(), bytes.begin());
        const auto pub = crypto::SecretKey::from_bytes(bytes)->public_key();
        EXPECT_EQ(util::to_hex(util::ByteSpan(pub.data(), pub.size())),
                  str(k.value().at("public")));
    }
    ASSERT_FALSE(HasFatalFailure());
    const json::object& base = doc.at("base_chain").as_object();
    EXPECT_EQ(chain().tip()->height, base.at("tip_height").to_number<std::uint32_t>());
    EXPECT_EQ(chain().tip()->hash.to_hex(), str(base.at("tip_hash")));
    const auto split = core::Uint256::from_hex(str(base.at("split_txid")));
    ASSERT_TRUE(split);
    const auto where = chain().find_transaction(*split);
    ASSERT_TRUE(where);
}

TEST_F(RejectsTest, EveryCaseGivesItsTokenAndClass) {
    ASSERT_FALSE(HasFatalFailure());
    const std::size_t n = vectors().at("cases").as_array().size();
    ASSERT_GT(n, 0u);
    for (std::size_t i = 0; i < n; ++i) run_case(i);
}

// rejects.md lets a replay run every case on one node in any order: no case depends on
// what another left behind (each setup block is its own).
TEST_F(RejectsTest, CasesDoNotDependOnTheirOrder) {
    ASSERT_FALSE(HasFatalFailure());
    const std::size_t n = vectors().at("cases").as_array().size();
    for (std::size_t i = n; i-- > 0;) run_case(i);
}

// The tables of docs/reject-reasons.md: table -> token -> class. Tables: header, block,
// tx-context-free, tx-utxo, pool; the pool's "every token of the context-free table" row
// is expanded.
std::map<std::string, std::map<std::string, std::string>> documented_tokens() {
    const std::string text = read_text(std::string(PEERCHAIN_DOCS_DIR) + "/reject-reasons.md");
    std::map<std::string, std::map<std::string, std::string>> tables;
    std::string table;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("## ", 0) == 0) {
            table.clear();
            if (line.rfind("## Headers", 0) == 0) table = "header";
            if (line.rfind("## Blocks", 0) == 0) table = "block";
            if (line.rfind("## Transactions (context-free", 0) == 0) table = "tx-context-free";
            if (line.rfind("## Transactions (against", 0) == 0) table = "tx-utxo";
            if (line.rfind("## Memory pool", 0) == 0) table = "pool";
            continue;
        }
        if (table.empty() || line.rfind("| ", 0) != 0 || line.rfind("| token", 0) == 0 ||
            line.rfind("| ---", 0) == 0) {
            continue;
        }
        std::vector<std::string> cells;
        std::istringstream row(line.substr(1));
        std::string cell;
        while (std::getline(row, cell, '|')) cells.push_back(cell);
        if (cells.size() < 3) {
            ADD_FAILURE() << "a table row without token, class and rule: " << line;
            continue;
        }
        std::string cls = cells[1];
        cls.erase(0, cls.find_first_not_of(' '));
        cls.erase(cls.find_last_not_of(' ') + 1);
        if (cells[0].find("every token of the context-free table") != std::string::npos) {
            for (const auto& entry : tables["tx-context-free"]) tables[table][entry.first] = cls;
            continue;
        }
        std::size_t at = 0;
        bool any = false;
        while ((at = cells[0].find('`', at)) != std::string::npos) {
            const std::size_t end = cells[0].find('`', at + 1);
            if (end == std::string::npos) break;
            tables[table][cells[0].substr(at + 1, end - at - 1)] = cls;
            at = end + 1;
            any = true;
        }
        EXPECT_TRUE(any) << "a table row without a token: " << line;
    }
    return tables;
}

TEST(RejectsDocTest, EveryDocumentedTokenHasAVectorWithItsClass) {
    const auto tables = documented_tokens();
    for (const char* t : {"header", "block", "tx-context-free", "tx-utxo", "pool"}) {
        ASSERT_TRUE(tables.contains(t) && !tables.at(t).empty()) << "no table " << t;
    }
    // What the vectors cover: token -> classes, for the chain (headers, blocks, transactions
    // in blocks) and the pool apart.
    std::map<std::string, std::set<std::string>> chain_cases;
    std::map<std::string, std::set<std::string>> pool_cases;
    for (const json::value& v : vectors().at("cases").as_array()) {
        const json::object& c = v.as_object();
        auto& into = str(c.at("kind")) == "mempool-tx" ? pool_cases : chain_cases;
        into[str(c.at("token"))].insert(str(c.at("class")));
    }
    std::map<std::string, std::string> chain_doc;
    for (const auto& entry : tables) {
        const std::string& table = entry.first;
        const bool pool = table == "pool";
        for (const auto& token_class : entry.second) {
            const std::string& token = token_class.first;
            const std::string& cls = token_class.second;
            if (!pool) chain_doc[token] = cls;
            const auto& cases = pool ? pool_cases : chain_cases;
            const auto skip = not_covered().find({table, token});
            if (skip != not_covered().end()) {
                EXPECT_FALSE(cases.contains(token))
                    << token << " has a vector now: drop it from the not-covered list";
                continue;
            }
            const auto found = cases.find(token);
            if (found == cases.end()) {
                ADD_FAILURE() << "docs/reject-reasons.md (" << table << ") lists " << token
                              << " but tests/conformance/rejects.json has no "
                              << (pool ? "mempool-tx" : "header or block") << " vector for it";
                continue;
            }
            EXPECT_EQ(found->second, std::set<std::string>{cls})
                << token << ": the document's class (" << table << ") is " << cls;
        }
    }
    for (const auto& entry : not_covered()) {
        EXPECT_TRUE(tables.contains(entry.first.first) &&
                    tables.at(entry.first.first).contains(entry.first.second))
            << entry.first.second << " is not in the document any more: drop it from the list";
    }
    // And no vector of a token the document does not list.
    for (const auto& entry : chain_cases) {
        EXPECT_TRUE(chain_doc.contains(entry.first)) << entry.first << " is not documented";
    }
    for (const auto& entry : pool_cases) {
        EXPECT_TRUE(tables.at("pool").contains(entry.first))
            << entry.first << " is not in the document's pool table";
    }
}

}  // namespace
}  // namespace peerchain::conformance
