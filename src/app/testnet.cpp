#include "app/testnet.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "node/config.hpp"
#include "util/stop_signal.hpp"

extern char** environ;

namespace peerchain::app {

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Settings `peerchain node` also reads from the environment. The testnet passes each node
// its settings as flags; these must not leak in from the shell (a PEERS or MINE there
// would change every node).
constexpr const char* kNodeEnvNames[] = {
    "HTTP_PORT", "P2P_PORT",   "PEERS",        "DATA_DIR",    "NETWORK",
    "HTTP_BIND", "P2P_BIND",   "MINE",         "MINE_TO",     "MINER_THREADS",
    "LOG_LEVEL", "TRANSPORTS", "MAX_OUTBOUND", "MAX_INBOUND", "EXTERNAL_ADDRESS"};

constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopGrace = std::chrono::seconds(30);
constexpr auto kPoll = std::chrono::milliseconds(50);
// The end of a log that failure_reason() reads.
constexpr std::size_t kLogTail = 16 * 1024;

bool stop_requested() { return util::stop_signal() != 0; }

struct Child {
    int k = 0;
    pid_t pid = -1;
    bool running = false;
    int status = 0;  // waitpid's, once it exited
    BoundPorts ports;
    std::filesystem::path data_dir;
    std::filesystem::path log;
};

std::string read_tail(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return {};
    const std::streamoff size = in.tellg();
    const std::streamoff start = size > static_cast<std::streamoff>(kLogTail)
                                     ? size - static_cast<std::streamoff>(kLogTail)
                                     : 0;
    in.seekg(start);
    std::string text(static_cast<std::size_t>(size - start), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text;
}

std::string read_small(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::string text(64 * 1024, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text;
}

std::string exit_text(int status) {
    if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
}

// Starts `binary args...` with stdout and stderr appended to `log`. Returns the pid, or
// -1 with errno set.
pid_t spawn(const std::filesystem::path& binary, const std::vector<std::string>& args,
            const std::filesystem::path& log) {
    // Everything the child needs is built before fork(): after it, only async-signal-safe
    // calls.
    std::vector<std::string> argv_text;
    argv_text.push_back(binary.string());
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        bool drop = false;
        for (const char* name : kNodeEnvNames) {
            const std::size_t n = std::strlen(name);
            if (std::strncmp(*e, name, n) == 0 && (*e)[n] == '=') drop = true;
        }
        if (!drop) envp.push_back(*e);
    }
    envp.push_back(nullptr);

    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(1);
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        ::signal(SIGPIPE, SIG_DFL);
        ::execve(argv[0], argv.data(), envp.data());
        const char msg[] = "peerchain testnet: could not start the node binary\n";
        [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        ::_exit(127);
    }
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return pid;
}

// Reaps `c` if it exited. Returns whether it still runs.
bool still_running(Child& c) {
    if (!c.running) return false;
    int status = 0;
    const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid) {
        c.running = false;
        c.status = status;
    }
    return c.running;
}

enum class StartResult { kStarted, kFailed, kInterrupted, kTimedOut };

StartResult wait_started(Child& c) {
    const auto deadline = Clock::now() + kStartTimeout;
    while (Clock::now() < deadline) {
        if (stop_requested()) return StartResult::kInterrupted;
        if (!still_running(c)) return StartResult::kFailed;
        if (auto ports = parse_bound_ports(read_small(node::node_info_file(c.data_dir)), c.pid)) {
            c.ports = *ports;
            return StartResult::kStarted;
        }
        std::this_thread::sleep_for(kPoll);
    }
    return StartResult::kTimedOut;
}

void report_failure(const Child& c, const std::string& what) {
    std::fprintf(stderr, "peerchain testnet: node-%d %s; the end of %s:\n%s\n", c.k, what.c_str(),
                 c.log.string().c_str(), failure_reason(read_tail(c.log)).c_str());
}

// SIGTERM to every running child, then waits; SIGKILL to those still running after the
// grace period.
void stop_all(std::vector<Child>& children) {
    for (auto& c : children) {
        if (still_running(c)) ::kill(c.pid, SIGTERM);
    }
    const auto deadline = Clock::now() + kStopGrace;
    for (;;) {
        bool any = false;
        for (auto& c : children) any = still_running(c) || any;
        if (!any) return;
        if (Clock::now() >= deadline) break;
        std::this_thread::sleep_for(kPoll);
    }
    for (auto& c : children) {
        if (still_running(c)) {
            std::fprintf(stderr, "peerchain testnet: node-%d did not stop within %llds; killed\n",
                         c.k, static_cast<long long>(kStopGrace.count()));
            ::kill(c.pid, SIGKILL);
            int status = 0;
            ::waitpid(c.pid, &status, 0);
            c.running = false;
            c.status = status;
        }
    }
}

std::string make_temp_dir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "peerchain-testnet-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return {};
    return pattern;
}

// Starts node `k` and waits until it reports its ports. On failure prints why.
StartResult start_node(const TestnetOptions& options, const std::filesystem::path& dir, int k,
                       const std::string& seed, std::vector<Child>& children) {
    Child c;
    c.k = k;
    c.data_dir = node_data_dir(dir, k);
    c.log = node_log_file(dir, k);
    std::error_code ec;
    std::filesystem::create_directories(c.data_dir, ec);
    c.pid = spawn(options.binary, node_arguments(options, dir, k, seed), c.log);
    if (c.pid < 0) {
        std::fprintf(stderr, "peerchain testnet: cannot start node-%d: %s\n", k,
                     std::strerror(errno));
        return StartResult::kFailed;
    }
    c.running = true;
    children.push_back(c);
    return StartResult::kStarted;
}

}  // namespace

std::filesystem::path node_data_dir(const std::filesystem::path& dir, int k) {
    return dir / ("node-" + std::to_string(k));
}

std::filesystem::path node_log_file(const std::filesystem::path& dir, int k) {
    return dir / ("node-" + std::to_string(k) + ".log");
}

std::vector<std::string> node_arguments(const TestnetOptions& options,
                                        const std::filesystem::path& dir, int k,
                                        const std::string& seed) {
    auto port = [k](std::uint16_t base) {
        return base == 0 ? std::string("0") : std::to_string(base + k - 1);
    };
    std::vector<std::string> args = {"node",
                                     "--network",
                                     options.network,
                                     "--data-dir",
                                     node_data_dir(dir, k).string(),
                                     "--http-bind",
                                     "127.0.0.1",
                                     "--http-port",
                                     port(options.http_port),
                                     "--p2p-bind",
                                     "127.0.0.1",
                                     "--p2p-port",
                                     port(options.p2p_port),
                                     "--miner-threads",
                                     "1",
                                     "--log-level",
                                     options.log_level};
    if (!seed.empty()) {
        args.push_back("--peers");
        args.push_back(seed);
    }
    if (options.mine && k <= options.miners) args.push_back("--mine");
    return args;
}

std::string failure_reason(std::string_view log_text, std::size_t max_lines) {
    std::vector<std::string_view> lines;
    while (!log_text.empty() && lines.size() < max_lines) {
        std::size_t end = log_text.size();
        while (end > 0 && (log_text[end - 1] == '\n' || log_text[end - 1] == '\r' ||
                           log_text[end - 1] == ' ')) {
            --end;
        }
        log_text = log_text.substr(0, end);
        if (log_text.empty()) break;
        const std::size_t nl = log_text.rfind('\n');
        const std::size_t start = nl == std::string_view::npos ? 0 : nl + 1;
        lines.push_back(log_text.substr(start));
        log_text = log_text.substr(0, start);
    }
    if (lines.empty()) return "(the node wrote nothing to its log)";
    std::string out;
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        if (!out.empty()) out += '\n';
        out += "  ";
        out += *it;
    }
    return out;
}

std::optional<BoundPorts> parse_bound_ports(std::string_view node_json, long pid) {
    boost::system::error_code ec;
    const json::value doc = json::parse(node_json, ec);
    if (ec || !doc.is_object()) return std::nullopt;
    const json::object& obj = doc.as_object();
    auto integer = [&obj](std::string_view name) -> std::optional<std::int64_t> {
        const json::value* v = obj.if_contains(name);
        if (v == nullptr || !v->is_int64()) return std::nullopt;
        return v->as_int64();
    };
    const auto file_pid = integer("pid");
    const auto http = integer("httpPort");
    const auto p2p = integer("p2pPort");
    if (!file_pid || *file_pid != pid || !http || !p2p) return std::nullopt;
    if (*http < 1 || *http > 65535 || *p2p < 1 || *p2p > 65535) return std::nullopt;
    return BoundPorts{static_cast<std::uint16_t>(*http), static_cast<std::uint16_t>(*p2p)};
}

std::string node_line(int k, const BoundPorts& ports, const std::filesystem::path& data_dir,
                      bool mining) {
    return "node-" + std::to_string(k) + "  http://127.0.0.1:" + std::to_string(ports.http) +
           "/  p2p ws://127.0.0.1:" + std::to_string(ports.p2p) + "  data " + data_dir.string() +
           (mining ? "  (mining)" : "");
}

int run_testnet(TestnetOptions options) {
    if (options.nodes < 1 || options.nodes > kMaxTestnetNodes) {
        std::fprintf(stderr, "peerchain testnet: --nodes must be 1 to %d\n", kMaxTestnetNodes);
        return 2;
    }
    if (options.http_port != 0 && options.http_port + options.nodes - 1 > 65535) {
        std::fprintf(stderr, "peerchain testnet: --http-port leaves no room for %d nodes\n",
                     options.nodes);
        return 2;
    }
    if (options.p2p_port != 0 && options.p2p_port + options.nodes - 1 > 65535) {
        std::fprintf(stderr, "peerchain testnet: --p2p-port leaves no room for %d nodes\n",
                     options.nodes);
        return 2;
    }
    util::install_stop_signals();

    const bool temporary = options.dir.empty();
    std::filesystem::path dir = options.dir;
    if (temporary) {
        dir = make_temp_dir();
        if (dir.empty()) {
            std::fprintf(stderr, "peerchain testnet: cannot make a temporary folder: %s\n",
                         std::strerror(errno));
            return 1;
        }
    } else {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (!ec) dir = std::filesystem::absolute(dir, ec);
        if (ec) {
            std::fprintf(stderr, "peerchain testnet: cannot make %s: %s\n", dir.string().c_str(),
                         ec.message().c_str());
            return 1;
        }
    }

    std::vector<Child> children;
    children.reserve(static_cast<std::size_t>(options.nodes));
    int exit_code = 0;
    auto fail = [&](Child& c, StartResult r) {
        if (r == StartResult::kFailed)
            report_failure(c, "exited at start (" + exit_text(c.status) + ")");
        if (r == StartResult::kTimedOut) report_failure(c, "did not start within 60 s");
        exit_code = r == StartResult::kInterrupted ? 0 : 1;
    };

    // The seed first: the others need its P2P port. Then the rest at once.
    std::string seed;
    bool started = true;
    if (start_node(options, dir, 1, "", children) != StartResult::kStarted) {
        started = false;
        exit_code = 1;
    } else if (auto r = wait_started(children[0]); r != StartResult::kStarted) {
        fail(children[0], r);
        started = false;
    } else {
        seed = "ws://127.0.0.1:" + std::to_string(children[0].ports.p2p);
    }
    for (int k = 2; started && k <= options.nodes; ++k) {
        if (start_node(options, dir, k, seed, children) != StartResult::kStarted) {
            started = false;
            exit_code = 1;
        }
    }
    for (std::size_t i = 1; started && i < children.size(); ++i) {
        if (auto r = wait_started(children[i]); r != StartResult::kStarted) {
            fail(children[i], r);
            started = false;
        }
    }

    if (started) {
        for (const auto& c : children) {
            std::printf(
                "%s\n",
                node_line(c.k, c.ports, c.data_dir, options.mine && c.k <= options.miners).c_str());
        }
        std::printf("%d %s node%s running; logs in %s/node-K.log%s. Press Ctrl-C to stop %s.\n",
                    options.nodes, options.network.c_str(), options.nodes == 1 ? "" : "s",
                    dir.string().c_str(), temporary ? " (removed at exit)" : "",
                    options.nodes == 1 ? "it" : "them all");
        std::fflush(stdout);
        // A node that dies meanwhile is reported; the others keep running.
        while (!stop_requested()) {
            bool any = false;
            for (auto& c : children) {
                if (c.running && !still_running(c)) {
                    report_failure(c, "exited (" + exit_text(c.status) + ")");
                    exit_code = 1;
                }
                any = any || c.running;
            }
            if (!any) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        std::printf("stopping %d node%s...\n", options.nodes, options.nodes == 1 ? "" : "s");
        std::fflush(stdout);
    }
    stop_all(children);
    if (temporary) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    if (started) {
        std::printf("stopped\n");
        std::fflush(stdout);
    }
    return exit_code;
}

}  // namespace peerchain::app
