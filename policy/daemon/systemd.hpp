// daemon/systemd.hpp: what mxwardend needs of systemd, through libsystemd:
// listening sockets handed over at start (socket activation), the state
// notifications of Type=notify (READY, RELOADING, STOPPING, STATUS) and the
// watchdog. Each call does nothing when the daemon was started by hand.
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace mxw::daemon {

struct inherited_socket {
    int fd;
    std::string name;  ///< FileDescriptorName= of the socket unit ("policy", "socketmap", ...)
};

/// The sockets systemd passed (LISTEN_FDS, LISTEN_FDNAMES), each marked
/// close-on-exec. The variables are removed, so nothing the daemon starts
/// (a release's sendmail) inherits them.
std::vector<inherited_socket> inherited_sockets();

/// Sends `state` ("READY=1\nSTATUS=...") to the service manager; false when
/// there is none (NOTIFY_SOCKET unset) or the message could not be sent.
bool notify(const std::string& state);

/// How often systemd wants a "WATCHDOG=1" (half of WatchdogSec=), or zero
/// when the watchdog is off.
std::chrono::microseconds watchdog_ping_interval();

}  // namespace mxw::daemon
