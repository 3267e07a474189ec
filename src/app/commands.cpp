#include "app/commands.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/events_cli.hpp"
#include "app/node_cli.hpp"
#include "app/testnet.hpp"
#include "core/params.hpp"
#include "node/config.hpp"

namespace peerchain::app {

namespace {

// This binary, to re-execute for the testnet's nodes: /proc/self/exe survives a PATH lookup
// and a relative argv[0] alike.
std::filesystem::path own_binary(const char* program) {
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec && !path.empty()) return path;
    return std::filesystem::absolute(program, ec);
}

// Where a client command finds its node, given on each command (so that the options may
// follow it, as `peerchain status --network regtest`).
struct ClientArgs {
    std::string network = "dev";
    std::string data_dir;
    std::uint16_t http_port = 0;
    bool json = false;
};

void add_client_options(CLI::App& cmd, ClientArgs& args) {
    cmd.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    cmd.add_option("--network", args.network, "The node's network, for the default data-dir")
        ->envname("NETWORK")
        ->check(CLI::IsMember({"dev", "regtest"}))
        ->default_val("dev");
    cmd.add_option("--data-dir", args.data_dir,
                   "The node's data directory [default: ~/.peerchain/<network>]")
        ->envname("DATA_DIR");
    cmd.add_option("--http-port", args.http_port,
                   "The node's API port [default: from <data-dir>/node.json, else HTTP_PORT, "
                   "else 3001]");
    cmd.add_flag("--json", args.json, "Print the node's JSON answer as it is");
}

WalletCliOptions client_options(const CLI::App& cmd, const ClientArgs& args) {
    WalletCliOptions options;
    const auto network = *core::parse_network(args.network);
    options.data_dir = args.data_dir.empty() ? node::default_data_dir(network)
                                             : std::filesystem::path(args.data_dir);
    options.json = args.json;
    if (cmd.count("--http-port") > 0) options.http_port = args.http_port;
    if (const char* env = std::getenv("HTTP_PORT"); env != nullptr && *env != '\0') {
        std::uint16_t port = 0;
        const char* end = env + std::char_traits<char>::length(env);
        auto [ptr, ec] = std::from_chars(env, end, port);
        if (ec == std::errc() && ptr == end && port != 0) options.env_port = port;
    }
    return options;
}

}  // namespace

struct Commands::State {
    std::filesystem::path binary;
    TestnetOptions testnet;
    std::string testnet_dir;
    CLI::App* testnet_cmd = nullptr;

    ClientArgs client;
    NodeCommand node_command;
    CLI::App* node_cmd = nullptr;  // the client command given, if any

    EventsOptions events;
    std::uint64_t events_since = 0;
    CLI::App* events_cmd = nullptr;
};

Commands::Commands(CLI::App& app, const char* program) : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.binary = own_binary(program);

    s.testnet_cmd = app.add_subcommand(
        "testnet",
        "Start a local network of N nodes on this machine (one `peerchain node` process each, "
        "linked through the first), print their explorer URLs and stop them all on Ctrl-C");
    CLI::App& t = *s.testnet_cmd;
    t.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    t.add_option("--nodes", s.testnet.nodes, "How many nodes")
        ->check(CLI::Range(1, kMaxTestnetNodes))
        ->default_val(3);
    t.add_option("--network", s.testnet.network,
                 "'regtest' (blocks in a few hashes) or 'dev' (10 s block target)")
        ->check(CLI::IsMember({"dev", "regtest"}))
        ->default_val("regtest");
    t.add_flag("--mine", s.testnet.mine, "Mine continuously (one thread per mining node)");
    t.add_option("--miners", s.testnet.miners, "With --mine: how many of the nodes mine")
        ->check(CLI::Range(1, kMaxTestnetNodes))
        ->default_val(1);
    t.add_option("--dir", s.testnet_dir,
                 "Keep data dirs and logs here (node-K/, node-K.log) [default: a temporary "
                 "folder removed at exit]");
    t.add_option("--http-port", s.testnet.http_port,
                 "API port of the first node; node K gets it plus K-1 (0: any free port)")
        ->default_val(0);
    t.add_option("--p2p-port", s.testnet.p2p_port,
                 "P2P port of the first node; node K gets it plus K-1 (0: any free port)")
        ->default_val(0);
    t.add_option("--log-level", s.testnet.log_level, "The nodes' log level")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->default_val("info");

    using Kind = NodeCommand::Kind;
    auto client = [&app, &s](const char* name, const char* help, Kind kind) {
        CLI::App* c = app.add_subcommand(name, help);
        add_client_options(*c, s.client);
        c->callback([&s, c, kind] {
            s.node_command.kind = kind;
            s.node_cmd = c;
        });
        return c;
    };
    client("status", "Show the node's chain, peers and miner", Kind::kStatus);
    client("peers", "List the node's connected peers", Kind::kPeers);
    client("block", "Show a block of the active chain and its transactions", Kind::kBlock)
        ->add_option("ID", s.node_command.id, "A height or a block hash")
        ->required();
    client("tx", "Show a transaction of the chain or the pool", Kind::kTx)
        ->add_option("TXID", s.node_command.id, "The transaction id")
        ->required();
    client("mempool", "List the pool's transactions, highest fee rate first", Kind::kMempool);
    CLI::App* mine =
        client("mine", "Mine N blocks now (regtest's generatetoaddress), paid to the node's wallet",
               Kind::kMine);
    mine->add_option("N", s.node_command.count, "How many blocks")
        ->check(CLI::Range(1, 1000))
        ->default_val(1);
    mine->add_option("--to", s.node_command.to, "Pay the blocks' coins to this address instead");
    client("addpeer", "Make URL a peer the node keeps (dialed now and whenever it goes)",
           Kind::kAddPeer)
        ->add_option("URL", s.node_command.id, "ws://host:port or tcp://host:port")
        ->required();

    s.events_cmd = app.add_subcommand(
        "events",
        "Follow the node's events (GET /events) as they happen, one line each; reconnects "
        "with Last-Event-ID when the stream ends");
    add_client_options(*s.events_cmd, s.client);
    s.events_cmd->add_option("--types", s.events.types,
                             "Only these, comma-separated: block, reorg, block-disconnected, "
                             "tx, tx-confirmed, peer, sync");
    s.events_cmd->add_option("--address", s.events.address,
                             "Only transactions that pay this address");
    s.events_cmd->add_option("--since", s.events_since,
                             "Start after this event number (the node sends what it still "
                             "holds, or a reset)");
    s.events_cmd->add_option("--count", s.events.limit,
                             "Stop after this many events [default: follow until Ctrl-C]");
}

Commands::~Commands() = default;

std::optional<int> Commands::run() {
    State& s = *state_;
    if (s.testnet_cmd->parsed()) {
        s.testnet.dir = s.testnet_dir;
        s.testnet.binary = s.binary;
        return run_testnet(s.testnet);
    }
    if (s.events_cmd->parsed()) {
        if (s.events_cmd->count("--since") > 0) s.events.since = s.events_since;
        return run_events(s.events, client_options(*s.events_cmd, s.client));
    }
    if (s.node_cmd != nullptr) {
        const CliOutcome outcome =
            run_node_command(s.node_command, client_options(*s.node_cmd, s.client));
        std::fputs(outcome.out.c_str(), stdout);
        if (!outcome.err.empty()) std::fprintf(stderr, "peerchain: %s", outcome.err.c_str());
        return outcome.exit_code;
    }
    return std::nullopt;
}

}  // namespace peerchain::app
