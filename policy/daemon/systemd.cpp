#include "daemon/systemd.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace mxw::daemon {

std::vector<inherited_socket> inherited_sockets()
{
    std::vector<inherited_socket> out;
    char** names = nullptr;
    int n = ::sd_listen_fds_with_names(1, &names);
    for (int i = 0; i < n; ++i) {
        out.push_back(inherited_socket{SD_LISTEN_FDS_START + i, names && names[i] ? names[i] : "unknown"});
        std::free(names ? names[i] : nullptr);
    }
    std::free(names);
    return out;
}

bool notify(const std::string& state)
{
    return ::sd_notify(0, state.c_str()) > 0;
}

std::chrono::microseconds watchdog_ping_interval()
{
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return std::chrono::microseconds(0);
    return std::chrono::microseconds(usec / 2);
}

}  // namespace mxw::daemon
