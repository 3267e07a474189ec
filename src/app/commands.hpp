// The command-line wiring (CLI11) of the commands beside `peerchain node` and `peerchain
// wallet`: `peerchain testnet` (app/testnet.hpp) and the client commands over the HTTP API
// (app/node_cli.hpp). main.cpp adds them and, once parsed, runs the one that was given.
//
// Thread-safety: for main's thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace peerchain::app {

class Commands {
  public:
    // Adds the commands to `app`; `program` is argv[0], the fallback path of this binary.
    Commands(CLI::App& app, const char* program);
    ~Commands();
    Commands(const Commands&) = delete;
    Commands& operator=(const Commands&) = delete;

    // After parsing: the exit code of the command given, or nullopt when none of these was.
    std::optional<int> run();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace peerchain::app
