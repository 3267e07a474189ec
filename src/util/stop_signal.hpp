// The process's stop signals: SIGINT and SIGTERM are recorded (the latest one) for a loop
// to poll, and SIGPIPE is ignored so that a peer or client that closes its socket
// mid-write gives an error instead of ending the process. Used by
// `peerchain node` and by `peerchain testnet`, which stops its nodes on Ctrl-C.
//
// Thread-safety: install_stop_signals() once, from the main thread, before other threads
// start; stop_signal() from any thread (it reads an atomic the handler writes).
#pragma once

namespace peerchain::util {

void install_stop_signals();

// The last SIGINT or SIGTERM received, or 0 while none has come.
int stop_signal() noexcept;

}  // namespace peerchain::util
