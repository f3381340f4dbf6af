#include "engine/sender_check.hpp"

#include "proto/sanitize.hpp"

#include <algorithm>

namespace mxw::engine {
namespace {

void add_evidence(finding& f, const dns::answer& a)
{
    if (!f.evidence.empty())
        f.evidence.append("; ");
    f.evidence.append(dns::describe(a));
}

std::chrono::seconds ttl_of(const dns::answer& a) { return std::chrono::seconds(a.ttl); }

}  // namespace

std::optional<std::string> sender_domain(std::string_view sender)
{
    if (sender.size() >= 2 && sender.front() == '<' && sender.back() == '>')
        sender = sender.substr(1, sender.size() - 2);
    std::size_t at = sender.rfind('@');
    if (at == std::string_view::npos)
        return std::nullopt;
    std::string_view domain = sender.substr(at + 1);
    while (!domain.empty() && domain.back() == '.')
        domain.remove_suffix(1);
    if (domain.empty() || domain.front() == '[')
        return std::nullopt;
    return proto::to_lower(domain);
}

asio::awaitable<finding> check_sender_domain(dns::resolver& r, const std::string& domain,
                                             dns::clock::time_point deadline)
{
    finding f;
    f.check = check_kind::sender;
    f.subject = domain;

    dns::answer mx = co_await r.lookup(domain, dns::rrtype::mx, deadline);
    add_evidence(f, mx);
    f.ttl = ttl_of(mx);
    switch (mx.st) {
    case dns::status::ok: {
        // RFC 7505 §3: a null MX is the only MX of the domain. A lone empty
        // exchange at another preference is read the same way (as Postfix
        // does): the domain unmistakably says it takes no mail.
        bool null_mx = mx.mx.size() == 1 && mx.mx.front().exchange.empty();
        f.result = null_mx ? outcome::null_mx : outcome::ok;
        co_return f;
    }
    case dns::status::nxdomain:
        f.result = outcome::no_domain;
        co_return f;
    case dns::status::nodata:
        break;
    default:
        f.result = outcome::sender_tempfail;
        co_return f;
    }

    // No MX: the domain still receives mail if it has an address (implicit MX).
    bool temporary = false;
    for (auto type : {dns::rrtype::a, dns::rrtype::aaaa}) {
        dns::answer addr = co_await r.lookup(domain, type, deadline);
        add_evidence(f, addr);
        if (addr.st == dns::status::ok) {
            f.result = outcome::ok;
            f.ttl = std::min(f.ttl, ttl_of(addr));
            co_return f;
        }
        if (dns::is_temporary(addr.st))
            temporary = true;
        else
            f.ttl = std::min(f.ttl, ttl_of(addr));
    }
    if (temporary) {
        f.result = outcome::sender_tempfail;
    } else {
        f.result = outcome::no_domain;
    }
    co_return f;
}

}  // namespace mxw::engine
