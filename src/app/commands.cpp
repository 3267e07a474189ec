#include "app/commands.hpp"

#include <unistd.h>

#include <string>

#include "app/testnet.hpp"

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

}  // namespace

struct Commands::State {
    std::filesystem::path binary;
    TestnetOptions testnet;
    std::string testnet_dir;
    CLI::App* testnet_cmd = nullptr;
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
}

Commands::~Commands() = default;

std::optional<int> Commands::run() {
    State& s = *state_;
    if (s.testnet_cmd->parsed()) {
        s.testnet.dir = s.testnet_dir;
        s.testnet.binary = s.binary;
        return run_testnet(s.testnet);
    }
    return std::nullopt;
}

}  // namespace peerchain::app
