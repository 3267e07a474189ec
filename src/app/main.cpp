// peerchain: one binary for the node and its client commands.
//
//   peerchain node [options]     run a node (see --help)
//   peerchain wallet <command>   use the wallet of a running node (app/wallet_cli.hpp)
//   peerchain testnet ...        a local network of N nodes (app/testnet.hpp)
//
// Settings come from flags, then from the seeds' environment names (HTTP_PORT, P2P_PORT,
// PEERS, DATA_DIR, NETWORK), then from defaults. Exceptions are for start-up only: a bad
// setting or a store that will not open ends here with a message and exit code 1.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include "app/commands.hpp"
#include "app/wallet_cli.hpp"
#include "core/params.hpp"
#include "node/config.hpp"
#include "node/node.hpp"

namespace {

using peerchain::node::NodeConfig;

void add_node_options(CLI::App& cmd, NodeConfig& cfg, std::string& network, std::string& data_dir) {
    using peerchain::core::Network;
    auto burial = [](Network n) { return peerchain::core::params(n).assume_valid_burial; };
    // A setting given twice: the last one wins, as with most command-line tools.
    cmd.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    cmd.add_option("--network", network,
                   "Which chain: 'dev' (difficulty follows a 10 s block target) or 'regtest' "
                   "(minimum difficulty, for tests)")
        ->envname("NETWORK")
        ->check(CLI::IsMember({"dev", "regtest"}))
        ->default_val("dev");
    cmd.add_option("--data-dir", data_dir,
                   "Where the chain, the API cookie and node.json live "
                   "[default: ~/.peerchain/<network>]")
        ->envname("DATA_DIR");
    cmd.add_option("--http-port", cfg.http_port, "Port of the HTTP JSON API (0: any free port)")
        ->envname("HTTP_PORT")
        ->default_val(cfg.http_port);
    cmd.add_option("--http-bind", cfg.http_bind,
                   "Address the API listens on; clients not on loopback need the cookie token")
        ->envname("HTTP_BIND")
        ->default_val(cfg.http_bind);
    cmd.add_option("--p2p-port", cfg.p2p_port, "Port for peer connections (0: any free port)")
        ->envname("P2P_PORT")
        ->default_val(cfg.p2p_port);
    cmd.add_option("--p2p-bind", cfg.p2p_bind, "Address to accept peers on")
        ->envname("P2P_BIND")
        ->default_val(cfg.p2p_bind);
    cmd.add_option("--peers", cfg.peers,
                   "Peers to keep, comma-separated ws://host:port or tcp://host:port: dialed at "
                   "start and redialed whenever they go (backoff from 1 s to 5 minutes), "
                   "remembered in <data-dir>/manual-peers")
        ->envname("PEERS")
        ->delimiter(',')
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd.add_option("--transports", cfg.transports,
                   "Transports the P2P port accepts and the node dials: ws, tcp or ws,tcp "
                   "(one port serves both, told apart by the first bytes)")
        ->envname("TRANSPORTS")
        ->delimiter(',')
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->default_str("ws,tcp");
    cmd.add_option("--max-outbound", cfg.max_outbound,
                   "Outbound peers dialed from the address book, at most one per address "
                   "group (manual peers come on top)")
        ->envname("MAX_OUTBOUND")
        ->default_val(cfg.max_outbound);
    cmd.add_option("--max-inbound", cfg.max_inbound,
                   "Inbound peers; a newcomer beyond it evicts one (peers that are useful to "
                   "us are protected)")
        ->envname("MAX_INBOUND")
        ->default_val(cfg.max_inbound);
    cmd.add_option("--max-inbound-per-group", cfg.max_inbound_per_group,
                   "Inbound peers of one address group (an IPv4 /16; a local address with its "
                   "port)")
        ->envname("MAX_INBOUND_PER_GROUP")
        ->default_val(cfg.max_inbound_per_group);
    cmd.add_option("--max-receive-buffer", cfg.receive_buffer_kib,
                   "KiB of one peer's messages waiting to be handled before the node stops "
                   "reading from that peer until it has caught up (the peer is slowed, not "
                   "dropped)")
        ->envname("MAX_RECEIVE_BUFFER")
        ->check(CLI::Range(std::size_t{64}, std::size_t{4} << 20))
        ->capture_default_str();
    cmd.add_option("--event-buffer", cfg.event_buffer,
                   "Events GET /events keeps for clients that reconnect (Last-Event-ID)")
        ->envname("EVENT_BUFFER")
        ->default_val(cfg.event_buffer);
    cmd.add_option("--external-address", cfg.external_address,
                   "The IP peers are told to reach us at [default: our end of each link]")
        ->envname("EXTERNAL_ADDRESS");
    cmd.add_flag("--mine", cfg.mine,
                 "Mine continuously; work on a block is dropped the moment the tip changes")
        ->envname("MINE");
    cmd.add_option("--mine-to", cfg.mine_to,
                   "Pay mined coins to this address of the network instead of the node's wallet")
        ->envname("MINE_TO");
    cmd.add_option("--miner-threads", cfg.miner_threads, "Threads that mine (0: one per core)")
        ->envname("MINER_THREADS")
        ->default_val(0);
    cmd.add_option("--assume-valid", cfg.assume_valid,
                   "A block hash you trust (as Bitcoin Core's -assumevalid): that block and its "
                   "ancestors connect without their signatures checked when the best header "
                   "builds on them, has at least that block's work and is " +
                       std::to_string(burial(Network::kRegtest)) +
                       " blocks of work past them on regtest (" +
                       std::to_string(burial(Network::kDev)) +
                       " on dev); proof of work, merkle root, sizes, the coinbase, "
                       "the coins spent (existing, unspent, mature), amounts and fees are still "
                       "checked, and blocks above it or off its chain are checked in full. "
                       "0: off, every signature checked")
        ->envname("ASSUME_VALID")
        ->default_val("0");
    cmd.add_flag("--no-index", cfg.no_index,
                 "Keep no transaction or address index: GET /transactions/{txid} finds pool "
                 "transactions only, GET /address and the wallet's coins answer 503 "
                 "index-disabled; the next start without it rebuilds the indexes")
        ->envname("NO_INDEX");
    cmd.add_option("--coins-cache", cfg.coins_cache_mib,
                   "MiB of coins (and index entries) kept in memory between writes to the "
                   "store; more makes a long sync faster, less keeps the node smaller")
        ->envname("COINS_CACHE")
        ->check(CLI::Range(std::size_t{4}, std::size_t{1} << 20))
        ->capture_default_str();
    cmd.add_option("--log-level", cfg.log_level, "trace, debug, info, warn or error")
        ->envname("LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->default_val("info");
}

struct WalletArgs {
    peerchain::app::WalletCommand command;
    std::string network;
    std::string data_dir;
    std::uint16_t http_port = 0;
    bool json = false;
    std::int64_t fee_rate = 0;
    std::string data;
};

// `peerchain wallet address|newaddress|balance|utxos|send`. Returns the wallet command
// itself; each subcommand sets args.command.kind when it is parsed.
CLI::App* add_wallet_commands(CLI::App& app, WalletArgs& args) {
    using Kind = peerchain::app::WalletCommand::Kind;
    CLI::App* wallet = app.add_subcommand(
        "wallet",
        "Use the wallet of a running node (found through its data directory: node.json for "
        "the port, .cookie for the token)");
    wallet->require_subcommand(1);
    // The options below may come before or after the wallet command's own arguments.
    wallet->fallthrough();
    wallet->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    wallet->add_option("--network", args.network, "The node's network, for the default data-dir")
        ->envname("NETWORK")
        ->check(CLI::IsMember({"dev", "regtest"}))
        ->default_val("dev");
    wallet
        ->add_option("--data-dir", args.data_dir,
                     "The node's data directory [default: ~/.peerchain/<network>]")
        ->envname("DATA_DIR");
    wallet->add_option("--http-port", args.http_port,
                       "The node's API port [default: from <data-dir>/node.json, else "
                       "HTTP_PORT, else 3001]");
    wallet->add_flag("--json", args.json, "Print the node's JSON answer as it is");

    auto sub = [&](const char* name, const char* help, Kind kind) {
        CLI::App* c = wallet->add_subcommand(name, help);
        c->callback([&args, kind] { args.command.kind = kind; });
        return c;
    };
    sub("address", "Print the address the wallet receives on", Kind::kAddress);
    sub("newaddress", "Make a fresh receive address, save it and print it", Kind::kNewAddress);
    sub("balance", "Print the confirmed, pending and immature balance", Kind::kBalance);
    sub("utxos", "List the wallet's coins", Kind::kUtxos);
    CLI::App* send = sub("send",
                         "Pay AMOUNT to ADDRESS from the wallet; prints the transaction id on "
                         "stdout and the fee on stderr (both with --json). "
                         "AMOUNT is in whole coins with up to 8 decimals (10, 0.5, "
                         "0.00000001), read exactly, without floating point",
                         Kind::kSend);
    send->add_option("ADDRESS", args.command.to, "An address of the node's network")->required();
    send->add_option("AMOUNT", args.command.amount, "Coins to pay, e.g. 10 or 0.5")->required();
    send->add_option("--data", args.data, "Text to record in the transaction (at most 64 KiB)");
    send->add_option("--coin", args.command.coins,
                     "Spend this coin, TXID:INDEX as `peerchain wallet utxos` lists it (repeat "
                     "for more); even one a pool transaction already spends, so as to try a "
                     "double spend")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    send->add_option("--fee-rate", args.fee_rate,
                     "Fee in base units (0.00000001 coin) per byte [default: the node's, 2]")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000}));
    return wallet;
}

int run_wallet_command(const CLI::App& wallet_cmd, WalletArgs& args) {
    namespace app = peerchain::app;
    const auto network = *peerchain::core::parse_network(args.network);
    app::WalletCliOptions options;
    options.data_dir = args.data_dir.empty() ? peerchain::node::default_data_dir(network)
                                             : std::filesystem::path(args.data_dir);
    options.json = args.json;
    if (wallet_cmd.count("--http-port") > 0) options.http_port = args.http_port;
    if (const char* env = std::getenv("HTTP_PORT"); env != nullptr && *env != '\0') {
        std::uint16_t port = 0;
        const char* end = env + std::char_traits<char>::length(env);
        auto [ptr, ec] = std::from_chars(env, end, port);
        if (ec == std::errc() && ptr == end && port != 0) options.env_port = port;
    }
    const CLI::App* send = wallet_cmd.get_subcommand("send");
    if (send->count("--data") > 0) args.command.data = args.data;
    if (send->count("--fee-rate") > 0) args.command.fee_rate = args.fee_rate;

    const auto outcome = app::run_wallet(args.command, options);
    std::fputs(outcome.out.c_str(), stdout);
    std::fputs(outcome.note.c_str(), stderr);
    if (!outcome.err.empty()) std::fprintf(stderr, "peerchain wallet: %s", outcome.err.c_str());
    return outcome.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"peerchain: a peer-to-peer proof-of-work blockchain node"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("peerchain ") + PEERCHAIN_VERSION);

    NodeConfig cfg;
    std::string network;
    std::string data_dir;
    CLI::App* node_cmd = app.add_subcommand(
        "node", "Run a node: serve the HTTP API, connect to peers, sync and mine");
    add_node_options(*node_cmd, cfg, network, data_dir);
    WalletArgs wallet_args;
    CLI::App* wallet_cmd = add_wallet_commands(app, wallet_args);
    peerchain::app::Commands commands(app, argc > 0 ? argv[0] : "peerchain");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    try {
        if (node_cmd->parsed()) {
            cfg.network = *peerchain::core::parse_network(network);
            cfg.data_dir = data_dir.empty() ? peerchain::node::default_data_dir(cfg.network)
                                            : std::filesystem::path(data_dir);
            if (auto ok = peerchain::node::validate(cfg); !ok) {
                std::fprintf(stderr, "peerchain: %s\n", ok.error().message.c_str());
                return 2;
            }
            return peerchain::node::run_node(cfg);
        }
        if (wallet_cmd->parsed()) return run_wallet_command(*wallet_cmd, wallet_args);
        if (auto code = commands.run()) return *code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "peerchain: %s\n", e.what());
        return 1;
    }
    return 0;
}
