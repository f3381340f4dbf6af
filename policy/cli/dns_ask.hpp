// cli/dns_ask.hpp: one DNS question to one server over one transport,
// blocking with a deadline, for `mxwarden doctor`: it must see what a
// server really does over UDP, UDP with EDNS, and TCP, which a resolver
// library hides behind its retries and fallbacks. The daemon never uses
// this (libunbound does its DNS).
#pragma once
#include "proto/dns_message.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace mxw::cli {

struct dns_server {
    std::string ip;
    std::uint16_t port = 53;
    [[nodiscard]] std::string label() const { return ip + (port == 53 ? "" : "@" + std::to_string(port)); }
};

// What one question over one transport got.
struct dns_attempt {
    enum class kind { answer, truncated, timeout, refused, error } k = kind::error;
    proto::dns_reply reply;
    std::string why;  // for timeout/refused/error
    [[nodiscard]] bool usable() const { return k == kind::answer && (reply.rcode == 0 || reply.rcode == 3); }
    [[nodiscard]] std::string text() const
    {
        switch (k) {
        case kind::answer:
            if (reply.rcode != 0)
                return proto::dns_rcode_name(reply.rcode);
            return "ok (" + std::to_string(reply.answers.size()) + (reply.answers.size() == 1 ? " record)" : " records)");
        case kind::truncated: return "truncated";
        case kind::timeout: return "no answer";
        case kind::refused: return "refused";
        case kind::error: return "error: " + why;
        }
        return "?";
    }
};

/// UDP, with an OPT record advertising `edns` bytes when it is not 0.
dns_attempt ask_udp(const dns_server& s, const std::string& name, std::uint16_t type, std::uint16_t edns,
                std::chrono::milliseconds timeout);
dns_attempt ask_tcp(const dns_server& s, const std::string& name, std::uint16_t type, std::chrono::milliseconds timeout);
/// The answer a stub resolver would settle on: UDP with EDNS, TCP on TC.
std::optional<proto::dns_reply> resolve(const dns_server& s, const std::string& name, std::uint16_t type,
                                        std::chrono::milliseconds timeout);
/// The local address the kernel picks towards `s` (nothing is sent), or "".
std::string source_address_towards(const dns_server& s);

}  // namespace mxw::cli
