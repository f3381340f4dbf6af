// net/banner_probe.hpp: the MX prober (seed 004). Connects with a deadline,
// reads the complete greeting (multi-line aware, through the smtp_reply
// codec) with a second deadline, says QUIT and closes. It only classifies;
// what the result means is the health table's business.
#pragma once
#include "engine/router.hpp"
#include "net/asio.hpp"

#include <chrono>

namespace mxw::net {

class banner_prober final : public engine::prober {
public:
    banner_prober(asio::any_io_executor ex, std::chrono::milliseconds connect_timeout,
                  std::chrono::milliseconds banner_timeout)
        : ex_(std::move(ex)), connect_timeout_(connect_timeout), banner_timeout_(banner_timeout)
    {
    }

    asio::awaitable<engine::probe_result> probe(const std::string& address, std::uint16_t port) override;
    /// A reload: probes started from now on use these.
    void set_timeouts(std::chrono::milliseconds connect_timeout, std::chrono::milliseconds banner_timeout) noexcept
    {
        connect_timeout_ = connect_timeout;
        banner_timeout_ = banner_timeout;
    }

private:
    asio::any_io_executor ex_;
    std::chrono::milliseconds connect_timeout_;
    std::chrono::milliseconds banner_timeout_;
};

}  // namespace mxw::net
