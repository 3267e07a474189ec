// peerchain: one binary for the node and its client commands.
//
//   peerchain node [options]     run a node (see --help)
//
// Settings come from flags, then from the seeds' environment names (HTTP_PORT, P2P_PORT,
// PEERS, DATA_DIR, NETWORK), then from defaults. Exceptions are for start-up only: a bad
// setting or a store that will not open ends here with a message and exit code 1.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "node/config.hpp"
#include "node/node.hpp"

namespace {

using peerchain::node::NodeConfig;

void add_node_options(CLI::App& cmd, NodeConfig& cfg, std::string& network, std::string& data_dir) {
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
                   "Peers to dial at start, comma-separated: ws://host:port,ws://host:port")
        ->envname("PEERS")
        ->delimiter(',')
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd.add_flag("--mine", cfg.mine,
                 "Mine continuously; work on a block is dropped the moment the tip changes")
        ->envname("MINE");
    cmd.add_option("--miner-threads", cfg.miner_threads, "Threads that mine (0: one per core)")
        ->envname("MINER_THREADS")
        ->default_val(0);
    cmd.add_option("--log-level", cfg.log_level, "trace, debug, info, warn or error")
        ->envname("LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->default_val("info");
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
    } catch (const std::exception& e) {
        std::fprintf(stderr, "peerchain: %s\n", e.what());
        return 1;
    }
    return 0;
}
