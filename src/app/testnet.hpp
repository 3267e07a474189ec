// `peerchain testnet`: a whole local network from one command. It starts N real
// `peerchain node` child processes (this same binary, re-executed), each with its own data
// directory and log under one folder, all on loopback. The first node is the seed; every
// other node is told only of it and finds the rest through address gossip. Each node
// reports the ports it bound in <data-dir>/node.json, which is how the ports of port-0
// nodes are learnt.
//
// The children run in process groups of their own, so a terminal's Ctrl-C reaches only
// this process, which then stops them in order (SIGTERM, then waits; SIGKILL after a
// grace period) and removes the folder when it made a temporary one. A child also gets
// SIGTERM if this process dies (PR_SET_PDEATHSIG), so no node outlives it.
//
// Thread-safety: run_testnet() installs process-wide signal handlers and must be called
// once, from main. The other functions are pure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peerchain::app {

inline constexpr int kMaxTestnetNodes = 64;

struct TestnetOptions {
    int nodes = 3;  // 1..kMaxTestnetNodes
    std::string network = "regtest";
    bool mine = false;            // the first `miners` nodes mine continuously
    int miners = 1;               // with --mine: how many nodes mine, one thread each
    std::filesystem::path dir;    // empty: a fresh temporary folder, removed at exit
    std::uint16_t http_port = 0;  // first node's API port; node K gets +K-1; 0: any free
    std::uint16_t p2p_port = 0;   // the same for P2P
    std::string log_level = "info";
    std::filesystem::path binary;  // the peerchain executable to start
};

// The paths of node `k` (1-based) under `dir`.
std::filesystem::path node_data_dir(const std::filesystem::path& dir, int k);
std::filesystem::path node_log_file(const std::filesystem::path& dir, int k);

// The arguments (after the program name) that start node `k`. `seed` is the URL the node
// dials ("ws://127.0.0.1:6001"), empty for the first node.
std::vector<std::string> node_arguments(const TestnetOptions& options,
                                        const std::filesystem::path& dir, int k,
                                        const std::string& seed);

// Why a node failed, from the text of its log: its last non-empty lines (at most
// `max_lines`), joined with newlines; a fixed sentence when the log is empty.
std::string failure_reason(std::string_view log_text, std::size_t max_lines = 5);

// The ports in node.json when it belongs to process `pid`; nullopt otherwise (absent,
// partly written, or a stale file of an earlier process).
struct BoundPorts {
    std::uint16_t http = 0;
    std::uint16_t p2p = 0;
};
std::optional<BoundPorts> parse_bound_ports(std::string_view node_json, long pid);

// One line for a running node: its name, explorer URL, P2P address and data dir.
std::string node_line(int k, const BoundPorts& ports, const std::filesystem::path& data_dir,
                      bool mining);

// Starts the network, prints one line per node and a line saying Ctrl-C stops it, waits for
// SIGINT or SIGTERM and stops every node. Returns 0 after a clean stop; 1 when a node
// failed to start (its reason is printed on stderr, the others are stopped) or the folder
// could not be made; 2 for bad options.
int run_testnet(TestnetOptions options);

}  // namespace peerchain::app
