// Fuzz target for proto/mail_address: the envelope checks the quarantine
// applies before an address goes to sendmail's argv or an SMTP command.
//
// Input layout: byte 0 bit 0 is allow_empty; the rest is the address.
// Invariants: an accepted address fits max_envelope_address_bytes, is empty
// only when that is allowed, does not start with '-', holds no control
// byte, and has spaces and angle brackets only inside a quoted local part;
// allowing the empty address never refuses anything else; the domain is
// lower-case and holds no '@'; normalizing a sender never lengthens it and
// only strips one pair of angle brackets.
#include "proto/limits.hpp"
#include "proto/mail_address.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace proto = mxw::proto;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

// Whether byte `i` of `addr` lies inside a quoted string, by the same
// reading as the check: a quote opens only at the start or after a dot.
bool outside_quotes_only(std::string_view addr, std::string_view bytes)
{
    bool quoted = false;
    bool escaped = false;
    for (std::size_t i = 0; i < addr.size(); ++i) {
        char c = addr[i];
        if (quoted) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == '"' && (i == 0 || addr[i - 1] == '.')) {
            quoted = true;
            continue;
        }
        if (bytes.find(c) != std::string_view::npos)
            return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const bool allow_empty = (data[0] & 1) != 0;
    std::string_view addr(reinterpret_cast<const char*>(data) + 1, size - 1);

    auto why = proto::check_envelope_address(addr, allow_empty);
    if (!why) {
        require(addr.size() <= proto::max_envelope_address_bytes, "an accepted address fits the limit");
        require(!addr.empty() || allow_empty, "the empty address only when allowed");
        require(addr.empty() || addr.front() != '-', "no leading '-'");
        for (char c : addr)
            require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "no control byte");
        require(outside_quotes_only(addr, " <>"), "spaces and brackets only inside quotes");
    } else {
        require(!why->empty(), "a refusal says why");
    }
    if (!proto::check_envelope_address(addr, false))
        require(!proto::check_envelope_address(addr, true), "allow_empty refuses nothing more");

    std::string domain = proto::address_domain(addr);
    require(domain.find('@') == std::string::npos, "the domain holds no '@'");
    for (char c : domain)
        require(c < 'A' || c > 'Z', "the domain is lower-case");
    require(domain.empty() || addr.find('@') != std::string_view::npos, "a domain only after an '@'");

    std::string sender = proto::normalize_sender(addr);
    require(sender.size() <= addr.size(), "normalizing never lengthens");
    require(sender == addr || (addr.size() >= 2 && addr.front() == '<' && addr.back() == '>' &&
                               sender == addr.substr(1, addr.size() - 2)),
            "normalizing strips one pair of angle brackets, or nothing");
    return 0;
}
