#include "engine/client_check.hpp"

#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

#include <algorithm>
#include <vector>

namespace mxw::engine {
namespace {

bool known(const std::string& name) { return !name.empty() && name != "unknown"; }

void add_evidence(finding& f, const dns::answer& a)
{
    if (!f.evidence.empty())
        f.evidence.append("; ");
    f.evidence.append(dns::describe(a));
}

}  // namespace

bool settled_by_postfix(const client_info& c) noexcept { return known(c.client_name); }

finding verified_by_postfix(const client_info& c)
{
    finding f;
    f.check = check_kind::client;
    f.result = outcome::ok;
    f.subject = c.address;
    f.evidence = "postfix client_name=" + proto::sanitize(c.client_name);
    return f;
}

asio::awaitable<finding> check_client_ptr(dns::resolver& r, const client_info& c, dns::clock::time_point deadline)
{
    finding f;
    f.check = check_kind::client;
    auto address = proto::canonical_address(c.address);
    f.subject = address ? *address : c.address;
    if (!address) {
        f.result = outcome::skipped;
        co_return f;
    }
    if (settled_by_postfix(c))
        co_return verified_by_postfix(c);

    std::vector<std::string> names;
    std::chrono::seconds ttl{86400};
    if (known(c.reverse_client_name)) {
        // Postfix found a PTR but could not confirm it: only the forward
        // lookup needs repeating to tell a mismatch from a DNS hiccup.
        names.push_back(proto::to_lower(c.reverse_client_name));
        f.evidence = "postfix reverse_client_name=" + proto::sanitize(c.reverse_client_name);
    } else {
        const std::string rev = *proto::reverse_name(*address);
        dns::answer ptr = co_await r.lookup(rev, dns::rrtype::ptr, deadline);
        add_evidence(f, ptr);
        ttl = std::chrono::seconds(ptr.ttl);
        if (ptr.st == dns::status::nxdomain || ptr.st == dns::status::nodata ||
            (ptr.st == dns::status::ok && ptr.values.empty())) {
            f.result = outcome::no_ptr;
            f.ttl = ttl;
            co_return f;
        }
        if (ptr.st != dns::status::ok) {
            f.result = outcome::client_tempfail;
            co_return f;
        }
        names = ptr.values;
        // A PTR set this large is abuse; checking a few keeps the work bounded.
        if (names.size() > proto::max_ptr_names_checked)
            names.resize(proto::max_ptr_names_checked);
    }

    bool v6 = address->find(':') != std::string::npos;
    bool temporary = false;
    for (const auto& name : names) {
        dns::answer fwd = co_await r.lookup(name, v6 ? dns::rrtype::aaaa : dns::rrtype::a, deadline);
        add_evidence(f, fwd);
        if (dns::is_temporary(fwd.st)) {
            temporary = true;
            continue;
        }
        ttl = std::min(ttl, std::chrono::seconds(fwd.ttl));
        for (const auto& v : fwd.values) {
            if (proto::canonical_address(v) == address) {
                f.result = outcome::ok;
                f.ttl = ttl;
                co_return f;
            }
        }
    }
    if (temporary) {
        f.result = outcome::client_tempfail;
    } else {
        f.result = outcome::not_confirmed;
        f.ttl = ttl;
    }
    co_return f;
}

}  // namespace mxw::engine
