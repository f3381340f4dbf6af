#include "cli/postfix_names.hpp"

namespace mxw::cli {

std::string postfix_endpoint(const proto::endpoint& e)
{
    if (e.type == proto::endpoint::kind::unix_socket)
        return "unix:" + e.path;
    return "inet:" + (e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

std::string socketmap_table(std::string_view endpoint, std::string_view map)
{
    return "socketmap:" + std::string(endpoint) + ":" + std::string(map);
}

bool steers_by_dns_filter(const base::config& cfg)
{
    return cfg.routing.steer == base::steer_mode::dns_filter &&
           cfg.routing.routing_mode != engine::routing_config::mode::smarthost;
}

std::optional<std::string> dns_reply_filter_line(std::string_view socketmap_endpoint, const std::string& current)
{
    std::string filter_map = socketmap_table(socketmap_endpoint, "dnsfilter");
    if (current.find(filter_map) != std::string::npos)
        return std::nullopt;
    return "smtp_dns_reply_filter = " + (current.empty() ? filter_map : current + ", " + filter_map);
}

}  // namespace mxw::cli
