#include "base/config.hpp"

#include "base/duration.hpp"
#include "proto/nexthop.hpp"
#include "proto/sanitize.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace po = boost::program_options;

namespace mxw::base {
namespace {

constexpr std::array<option_spec, 75> options{{
    {"daemon.state-dir", MXWARDEN_STATE_DIR, "directory for state and the control socket; relative to the working "
                                             "directory"},
    {"daemon.drain-timeout", "5s", "on SIGTERM: stop accepting, and wait this long for requests in flight to be "
                                   "answered before exiting"},
    {"log.target", "stderr", "where log lines go: stderr | syslog (facility mail)"},
    {"log.level", "info", "lowest priority logged: debug | info | warning | error"},
    {"listen.policy", "inet:127.0.0.1:10040", "Postfix policy service: inet:IP:PORT or unix:PATH"},
    {"listen.socketmap", "inet:127.0.0.1:10041", "routing lookups (Postfix transport_maps, Sendmail mailertable)"},
    {"listen.control", "", "control socket for the mxwarden CLI; empty = unix:STATE-DIR/control.sock"},
    {"listen.metrics", "inet:127.0.0.1:10043", "Prometheus metrics over HTTP (GET /metrics); empty = off"},
    {"listen.web", "inet:127.0.0.1:10044", "mxwarden-web, the quarantine's web view: inet:IP:PORT or unix:PATH"},
    {"dns.forwarders", "", "DNS servers to ask, IP[@port] separated by spaces or commas; empty = dns.resolv-conf"},
    {"dns.recursion", "no", "resolve from the root servers (yes) when dns.forwarders is empty"},
    {"dns.resolv-conf", "/etc/resolv.conf", "nameservers to use when dns.forwarders is empty (ports are ignored)"},
    {"dns.transport", "udp-then-tcp", "udp-then-tcp | tcp-only | udp-only (udp-only asks for 4096-byte EDNS answers)"},
    {"dns.timeout", "4s", "deadline of one DNS lookup"},
    {"dns.dnssec", "off", "off | validate (needs dns.trust-anchor-file)"},
    {"dns.trust-anchor-file", "/usr/share/dns/root.key", "DNSSEC root trust anchor for dns.dnssec = validate"},
    {"dns.transparent-zones", "", "special-use zones libunbound answers itself that should be asked upstream, "
                                  "e.g. an internal 10.in-addr.arpa."},
    {"dns.max-inflight", "256", "most DNS queries in flight at once; more wait their turn"},
    {"policy.deadline", "6s", "deadline for all lookups of one policy request; keep it at least 1s below milter.timeout"},
    {"policy.deadline-action", "ignore", "answer when policy.deadline passes: ignore (fail open) | tag | defer | reject | quarantine"},
    {"policy.max-connections", "1000", "most concurrent policy connections (about one per smtpd process)"},
    {"policy.idle-timeout", "600s", "close a policy connection idle this long"},
    {"policy.cache-size", "200000", "most sender domains (and client addresses) whose findings are cached"},
    {"policy.cache-max-ttl", "1h", "longest a finding is reused, whatever the DNS TTL"},
    {"policy.tempfail-ttl", "5s", "how long a temporary DNS failure is reused"},
    {"policy.tag-header", "X-Mxwarden", "header added by the tag action"},
    {"sender.check", "yes", "check that the sender domain can receive mail"},
    {"sender.null-mx", "reject", "sender domain has a null MX: reject | defer | quarantine | tag | ignore"},
    {"sender.no-domain", "defer", "sender domain does not exist or has no MX/A/AAAA: same actions"},
    {"sender.tempfail", "defer", "sender domain lookups failed temporarily: same actions"},
    {"client.check", "yes", "check that the client address has a forward-confirmed PTR"},
    {"client.no-ptr", "tag", "client address has no PTR: reject | defer | quarantine | tag | ignore"},
    {"client.not-confirmed", "tag", "PTR name does not resolve back to the client address: same actions"},
    {"client.tempfail", "tag", "PTR or forward lookups failed temporarily: same actions"},
    {"routing.mode", "mx", "mx: choose healthy MX hosts for the MTA; smarthost: send all remote mail to "
                           "routing.smarthost; off: answer nothing (the MTA routes)"},
    {"routing.steer", "transport", "transport: Postfix asks the transport map for next hops mxwarden chose; dns-filter: "
                                   "Postfix routes by the recipient domain and its smtp_dns_reply_filter (the dnsfilter "
                                   "map) drops the MX and address records of hosts found dead"},
    {"routing.smarthost", "", "smarthost mode: host[:port] or [host]:port, a name or an IP; its addresses are "
                              "probed and the last good ones kept through DNS outages and restarts"},
    {"routing.transport", "mxw", "Postfix transport named in routing answers (the smtp clone with a short greeting timeout)"},
    {"routing.quarantine-transport", "mxq", "Postfix transport for quarantined mail (routing and the quarantine action)"},
    {"routing.nexthop-form", "ip", "ip: [192.0.2.7]:25; hostname: [mx.example.com]:25 (keeps DANE and certificate names)"},
    {"routing.quarantine-after", "2h", "a destination unroutable this long has its mail quarantined instead of queued"},
    {"routing.deny-addresses", "127.0.0.0/8 0.0.0.0/8 ::1 :: 169.254.0.0/16 fe80::/10",
     "addresses never probed or handed to Postfix (a mail loop or nonsense); CIDRs"},
    {"routing.deny-local-addresses", "yes", "also deny every address of this machine's interfaces"},
    {"routing.exclude", "", "domains mxwarden never routes: example.com, or .example.com for its subdomains"},
    {"routing.max-addresses", "5", "most next hops in one answer (Postfix's smtp_mx_address_limit)"},
    {"routing.address-family", "ipv4-first", "ipv4-first | ipv6-first | ipv4-only | ipv6-only"},
    {"routing.null-mx", "bounce", "recipient domain with null MX: bounce | quarantine | postfix"},
    {"routing.nxdomain", "bounce", "recipient domain that does not exist: bounce | quarantine | postfix"},
    {"routing.tls-level", "may", "TLS level for remote mail (none | may | encrypt | verify | secure), answered in the tls map "
                                  "with match= and servername= set to the MX name when it verifies"},
    {"routing.answer-budget", "100ms", "longest a lookup waits for DNS of a new destination before answering"},
    {"routing.dns-retry", "30s", "how soon a destination whose DNS failed is asked again (meanwhile its last good "
                                 "route, or its failure, stands)"},
    {"routing.min-ttl", "60s", "shortest time a route is used before DNS is asked again (longer DNS TTLs are kept, "
                               "up to 1h)"},
    {"quarantine.database", "", "quarantine store (SQLite); empty = STATE-DIR/quarantine.db"},
    {"quarantine.retention", "30d", "released and deleted entries are purged after this; held mail is kept until "
                                    "an admin acts"},
    {"quarantine.release-via", "sendmail:/usr/sbin/sendmail", "how release re-injects: sendmail:PATH (the MTA's "
                                                              "sendmail binary) or smtp:IP:PORT"},
    {"quarantine.max-message-size", "52428800", "largest message the quarantine takes, in bytes"},
    {"quarantine.max-size", "auto", "most the store may hold, e.g. 500M or 10G (K, M, G, T: powers of 1024); auto = "
                                    "10G or 80% of (the store's file + the free disk space), whichever is lower"},
    {"store.url", "", "a store the fleet shares: a PostgreSQL connection string or URI (postgresql://mxwarden@db/"
                      "mxwarden; password from PGPASSFILE or passfile=, TLS as libpq does it); empty = SQLite on this "
                      "machine (quarantine.database)"},
    {"store.node", "", "this machine's name in a shared store (shown with each entry it quarantined); empty = the "
                       "host name"},
    {"milter.listen", "inet:127.0.0.1:10042", "where mxwarden-milter listens for the MTA: inet:IP:PORT or unix:PATH "
                                              "(Sendmail's S=inet:10042@127.0.0.1)"},
    {"milter.policy", "", "the policy service the milter asks (inet:IP:PORT or unix:PATH); empty = listen.policy"},
    {"milter.on-error", "accept", "when the daemon cannot be asked within milter.timeout: accept (logged) | "
                                  "tempfail (451 4.3.0)"},
    {"milter.timeout", "8s", "deadline of one milter request; keep it below the MTA's milter timeout (Sendmail "
                             "T=R, 10s by default) and policy.deadline at least 1s below it"},
    {"probe.connect-timeout", "10s", "TCP connect deadline of one banner probe"},
    {"probe.banner-timeout", "30s", "wait for the complete 220 greeting (postscreen and greet pauses delay it on purpose)"},
    {"probe.max-concurrent", "32", "most probes in flight, all destinations together"},
    {"probe.per-destination", "2", "most probes in flight for one destination"},
    {"probe.healthy-ttl", "10m", "re-probe a healthy host after this"},
    {"probe.dead-backoff", "1m", "first re-probe of a dead host; doubles each time"},
    {"probe.max-backoff", "1h", "longest wait between probes of a dead host"},
    {"feedback.source", "none", "Postfix's log, to learn host health from real deliveries: none | journal (the mail "
                                "facility) | file:PATH (a maillog_file)"},
    {"feedback.failures", "1", "consecutive deliveries failing after the greeting that make a host dead (probes "
                               "cannot revive it; only a delivery, or one more try after the backoff)"},
    {"web.users", "", "mxwarden-web's users file (mxwarden web-user add|passwd|del|list); empty = STATE-DIR/web-users"},
    {"web.session-idle", "30m", "a web login ends after this long without a request"},
    {"web.session-max", "12h", "a web login ends this long after it began, however busy"},
}};

class checker {
public:
    checker(const value_map& v, std::vector<std::string>& errors) : v_(v), errors_(errors) {}

    const std::string& str(std::string_view key) const
    {
        auto it = v_.find(key);
        static const std::string empty;
        return it == v_.end() ? empty : it->second;
    }
    void fail(std::string_view key, const std::string& why) const
    {
        errors_.push_back(std::string(key) + ": '" + str(key) + "' " + why);
    }
    bool yes_no(std::string_view key) const
    {
        const auto& s = str(key);
        if (s == "yes" || s == "true" || s == "1") return true;
        if (!(s == "no" || s == "false" || s == "0")) fail(key, "is not yes or no");
        return false;
    }
    std::chrono::milliseconds duration(std::string_view key) const
    {
        auto d = parse_duration(str(key));
        if (!d || d->count() == 0) {
            fail(key, "is not a positive duration (e.g. 500ms, 4s, 5m, 1h)");
            return std::chrono::milliseconds(1);
        }
        return *d;
    }
    /// For values kept in whole seconds: "500ms" would silently become 0.
    std::chrono::seconds seconds(std::string_view key) const
    {
        auto d = parse_duration(str(key));
        if (!d || *d < std::chrono::seconds(1)) {
            fail(key, d ? "must be at least 1s" : "is not a positive duration (e.g. 4s, 5m, 1h)");
            return std::chrono::seconds(1);
        }
        return std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    std::size_t count(std::string_view key) const
    {
        const auto& s = str(key);
        std::size_t n = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n == 0 || n > 100'000'000) {
            fail(key, "is not a whole number from 1 to 100000000");
            return 1;
        }
        return n;
    }
    std::optional<std::uint64_t> size_or_auto(std::string_view key) const
    {
        if (str(key) == "auto")
            return std::nullopt;
        auto n = parse_size(str(key));
        if (!n)
            fail(key, "is not auto or a size (e.g. 500M, 10G)");
        return n;
    }
    engine::action action(std::string_view key) const
    {
        auto a = engine::parse_action(str(key));
        if (!a) {
            fail(key, "is not one of reject, defer, quarantine, tag, ignore");
            return engine::action::ignore;
        }
        return *a;
    }
    std::vector<std::string> list(std::string_view key) const
    {
        std::vector<std::string> out;
        std::string item;
        for (char c : str(key) + " ") {
            if (c == ' ' || c == ',' || c == '\t') {
                if (!item.empty())
                    out.push_back(std::move(item));
                item.clear();
            } else {
                item.push_back(c);
            }
        }
        return out;
    }
    std::optional<proto::endpoint> endpoint(std::string_view key) const
    {
        auto e = proto::parse_endpoint(str(key));
        if (!e)
            fail(key, "is not inet:IP:PORT or unix:PATH");
        return e;
    }

private:
    const value_map& v_;
    std::vector<std::string>& errors_;
};

bool valid_token(std::string_view s, std::string_view extra)
{
    if (s.empty())
        return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              extra.find(c) != std::string_view::npos))
            return false;
    return true;
}

// libpq itself judges the rest when it connects; this only refuses what
// cannot be either of its two forms, so a typo fails at --check-config.
bool valid_store_url(std::string_view url)
{
    if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
        return true;
    auto eq = url.find('=');
    return eq != std::string_view::npos && eq > 0;
}

// The node name goes into every entry and every shared observation, and
// into log lines: kept to a plain token.
bool valid_node_name(std::string_view n)
{
    return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
               c == '_';
    });
}

std::string host_name()
{
    std::array<char, 256> buf{};
    if (gethostname(buf.data(), buf.size() - 1) != 0)
        return "localhost";
    return buf.data();
}

std::string absolute(const std::string& path, const std::string& cwd)
{
    std::filesystem::path p(path);
    return (p.is_absolute() ? p : std::filesystem::path(cwd) / p).lexically_normal().string();
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view s) noexcept
{
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || n == 0)
        return std::nullopt;
    std::string_view unit(p, static_cast<std::size_t>(s.data() + s.size() - p));
    int shift = 0;
    if (unit == "K" || unit == "k") shift = 10;
    else if (unit == "M" || unit == "m") shift = 20;
    else if (unit == "G" || unit == "g") shift = 30;
    else if (unit == "T" || unit == "t") shift = 40;
    else if (!unit.empty()) return std::nullopt;
    // 2^62 bytes is far past any disk; refusing more keeps the shift exact.
    if (n > (std::uint64_t{1} << (62 - shift)))
        return std::nullopt;
    return n << shift;
}

std::span<const option_spec> option_table() noexcept { return options; }

std::optional<config> build_config(const value_map& values, const std::string& cwd, std::vector<std::string>& errors)
{
    value_map v;
    for (const auto& o : options)
        v.emplace(std::string(o.key), std::string(o.default_value));
    for (const auto& [k, val] : values)
        v.insert_or_assign(k, val);
    std::size_t before = errors.size();
    checker c(v, errors);
    config cfg;

    if (c.str("daemon.state-dir").empty())
        c.fail("daemon.state-dir", "must not be empty");
    cfg.state_dir = absolute(c.str("daemon.state-dir"), cwd);
    const auto& target = c.str("log.target");
    if (target != "stderr" && target != "syslog")
        c.fail("log.target", "is not stderr or syslog");
    cfg.log_syslog = target == "syslog";
    if (auto l = parse_log_level(c.str("log.level")))
        cfg.log_level = *l;
    else
        c.fail("log.level", "is not one of debug, info, warning, error");
    cfg.drain_timeout = c.duration("daemon.drain-timeout");

    if (auto e = c.endpoint("listen.policy"))
        cfg.listen_policy = *e;
    if (auto e = c.endpoint("listen.socketmap"))
        cfg.listen_socketmap = *e;
    if (c.str("listen.control").empty()) {
        cfg.listen_control = proto::endpoint{proto::endpoint::kind::unix_socket, "", 0, cfg.state_dir + "/control.sock"};
    } else if (auto e = c.endpoint("listen.control")) {
        cfg.listen_control = *e;
    }
    if (!c.str("listen.metrics").empty())
        cfg.listen_metrics = c.endpoint("listen.metrics");
    if (cfg.listen_metrics && cfg.listen_metrics->type == proto::endpoint::kind::unix_socket)
        cfg.listen_metrics->path = absolute(cfg.listen_metrics->path, cwd);
    for (auto* e : {&cfg.listen_policy, &cfg.listen_socketmap, &cfg.listen_control})
        if (e->type == proto::endpoint::kind::unix_socket)
            e->path = absolute(e->path, cwd);

    cfg.dns.forwarders = c.list("dns.forwarders");
    for (const auto& f : cfg.dns.forwarders)
        if (!proto::valid_forwarder(f))
            errors.push_back("dns.forwarders: '" + f + "' is not IP or IP@PORT");
    cfg.dns.recursion = c.yes_no("dns.recursion");
    cfg.dns.resolv_conf = c.str("dns.resolv-conf");
    const auto& mode = c.str("dns.transport");
    if (mode == "udp-then-tcp") cfg.dns.mode = dns::transport::udp_then_tcp;
    else if (mode == "tcp-only") cfg.dns.mode = dns::transport::tcp_only;
    else if (mode == "udp-only") cfg.dns.mode = dns::transport::udp_only;
    else c.fail("dns.transport", "is not one of udp-then-tcp, tcp-only, udp-only");
    cfg.dns.timeout = c.duration("dns.timeout");
    const auto& sec = c.str("dns.dnssec");
    if (sec != "off" && sec != "validate")
        c.fail("dns.dnssec", "is not off or validate");
    cfg.dns.dnssec = sec == "validate";
    cfg.dns.trust_anchor_file = c.str("dns.trust-anchor-file");
    for (auto zone : c.list("dns.transparent-zones")) {
        if (!valid_token(zone, ".-_"))
            errors.push_back("dns.transparent-zones: '" + zone + "' is not a zone name");
        if (zone.back() != '.')
            zone.push_back('.');
        cfg.dns.transparent_zones.push_back(zone);
    }
    cfg.dns.max_inflight = c.count("dns.max-inflight");

    auto& p = cfg.policy;
    p.deadline = c.duration("policy.deadline");
    p.deadline_action = c.action("policy.deadline-action");
    cfg.policy_max_connections = c.count("policy.max-connections");
    cfg.policy_idle_timeout = c.duration("policy.idle-timeout");
    p.cache_max_entries = c.count("policy.cache-size");
    p.cache_max_ttl = c.seconds("policy.cache-max-ttl");
    p.tempfail_ttl = c.seconds("policy.tempfail-ttl");
    p.tag_header = c.str("policy.tag-header");
    if (!valid_token(p.tag_header, "-"))
        c.fail("policy.tag-header", "is not a header name (letters, digits, '-')");
    p.sender_check = c.yes_no("sender.check");
    p.client_check = c.yes_no("client.check");
    p.actions = engine::default_actions();
    auto set = [&](engine::outcome o, std::string_view key) { p.actions[static_cast<std::size_t>(o)] = c.action(key); };
    set(engine::outcome::null_mx, "sender.null-mx");
    set(engine::outcome::no_domain, "sender.no-domain");
    set(engine::outcome::sender_tempfail, "sender.tempfail");
    set(engine::outcome::no_ptr, "client.no-ptr");
    set(engine::outcome::not_confirmed, "client.not-confirmed");
    set(engine::outcome::client_tempfail, "client.tempfail");
    p.quarantine_transport = c.str("routing.quarantine-transport");
    if (!valid_token(p.quarantine_transport, "-_"))
        c.fail("routing.quarantine-transport", "is not a Postfix transport name");

    auto& r = cfg.routing;
    const auto& rmode = c.str("routing.mode");
    if (rmode == "mx") r.routing_mode = engine::routing_config::mode::mx;
    else if (rmode == "smarthost") r.routing_mode = engine::routing_config::mode::smarthost;
    else if (rmode == "off") r.routing_mode = engine::routing_config::mode::off;
    else c.fail("routing.mode", "is not mx, smarthost or off");
    if (!c.str("routing.smarthost").empty()) {
        if (auto sh = proto::parse_smarthost(c.str("routing.smarthost"))) {
            r.smarthost = sh->host;
            r.smarthost_port = sh->port;
        } else {
            c.fail("routing.smarthost", "is not host[:port] or [host]:port (a DNS name or an IP address)");
        }
    } else if (r.routing_mode == engine::routing_config::mode::smarthost) {
        c.fail("routing.smarthost", "must be set when routing.mode = smarthost");
    }
    const auto& steer = c.str("routing.steer");
    if (steer == "transport") cfg.routing.steer = steer_mode::transport;
    else if (steer == "dns-filter") cfg.routing.steer = steer_mode::dns_filter;
    else c.fail("routing.steer", "is not transport or dns-filter");
    r.transport = c.str("routing.transport");
    if (!valid_token(r.transport, "-_"))
        c.fail("routing.transport", "is not a Postfix transport name");
    r.quarantine_transport = p.quarantine_transport;
    const auto& form = c.str("routing.nexthop-form");
    if (form == "ip") r.nexthop_form = engine::routing_config::form::ip;
    else if (form == "hostname") r.nexthop_form = engine::routing_config::form::hostname;
    else c.fail("routing.nexthop-form", "is not ip or hostname");
    r.quarantine_after = c.seconds("routing.quarantine-after");
    for (const auto& item : c.list("routing.deny-addresses")) {
        if (auto range = proto::parse_cidr(item))
            r.deny.push_back(*range);
        else
            errors.push_back("routing.deny-addresses: '" + item + "' is not an address or CIDR range");
    }
    cfg.deny_local_addresses = c.yes_no("routing.deny-local-addresses");
    for (auto domain : c.list("routing.exclude")) {
        if (!valid_token(domain, ".-_"))
            errors.push_back("routing.exclude: '" + domain + "' is not a domain");
        r.exclude.push_back(proto::to_lower(domain));
    }
    r.max_addresses = c.count("routing.max-addresses");
    const auto& fam = c.str("routing.address-family");
    if (fam == "ipv4-first") r.limits.families = engine::family_order::ipv4_first;
    else if (fam == "ipv6-first") r.limits.families = engine::family_order::ipv6_first;
    else if (fam == "ipv4-only") r.limits.families = engine::family_order::ipv4_only;
    else if (fam == "ipv6-only") r.limits.families = engine::family_order::ipv6_only;
    else c.fail("routing.address-family", "is not one of ipv4-first, ipv6-first, ipv4-only, ipv6-only");
    auto unroutable = [&](std::string_view key) {
        const auto& choice = c.str(key);
        if (choice == "bounce") return engine::routing_config::unroutable::bounce;
        if (choice == "quarantine") return engine::routing_config::unroutable::quarantine;
        if (choice != "postfix") c.fail(key, "is not one of bounce, quarantine, postfix");
        return engine::routing_config::unroutable::postfix;
    };
    r.on_null_mx = unroutable("routing.null-mx");
    r.on_nxdomain = unroutable("routing.nxdomain");
    r.answer_budget = c.duration("routing.answer-budget");
    r.min_route_ttl = c.seconds("routing.min-ttl");
    r.tempfail_retry = c.seconds("routing.dns-retry");
    if (r.min_route_ttl > r.max_route_ttl)
        c.fail("routing.min-ttl", "must not be longer than 1h");
    r.tls_level = c.str("routing.tls-level");
    if (r.tls_level != "none" && r.tls_level != "may" && r.tls_level != "encrypt" && r.tls_level != "verify" &&
        r.tls_level != "secure")
        c.fail("routing.tls-level", "is not one of none, may, encrypt, verify, secure");
    auto& q = cfg.quarantine;
    q.database = c.str("quarantine.database").empty() ? cfg.state_dir + "/quarantine.db"
                                                       : absolute(c.str("quarantine.database"), cwd);
    q.retention = c.seconds("quarantine.retention");
    const auto& via = c.str("quarantine.release-via");
    if (via.starts_with("sendmail:") && via.size() > 9 && via[9] == '/') {
        q.release_via = quarantine_settings::release::sendmail;
        q.sendmail_path = via.substr(9);
    } else if (auto ep = via.starts_with("smtp:") ? proto::parse_endpoint("inet:" + via.substr(5)) : std::nullopt) {
        q.release_via = quarantine_settings::release::smtp;
        q.smtp = *ep;
    } else {
        c.fail("quarantine.release-via", "is not sendmail:/ABSOLUTE/PATH or smtp:IP:PORT");
    }
    q.max_message_bytes = c.count("quarantine.max-message-size");
    q.max_bytes = c.size_or_auto("quarantine.max-size");
    cfg.store.url = c.str("store.url");
    if (!cfg.store.url.empty() && !valid_store_url(cfg.store.url))
        c.fail("store.url", "is not a PostgreSQL URI (postgresql://...) or connection string (host=... dbname=...)");
    cfg.store.node = c.str("store.node").empty() ? host_name() : c.str("store.node");
    if (!valid_node_name(cfg.store.node))
        c.fail("store.node", "must be 1 to 64 letters, digits, '.', '-' or '_'");

    auto& m = cfg.milter;
    if (auto e = c.endpoint("milter.listen")) {
        m.listen = *e;
        if (m.listen.type == proto::endpoint::kind::unix_socket)
            m.listen.path = absolute(m.listen.path, cwd);
    }
    if (c.str("milter.policy").empty())
        m.policy = cfg.listen_policy;
    else if (auto e = c.endpoint("milter.policy"))
        m.policy = e->type == proto::endpoint::kind::unix_socket
                       ? proto::endpoint{e->type, "", 0, absolute(e->path, cwd)}
                       : *e;
    const auto& on_error = c.str("milter.on-error");
    if (on_error != "accept" && on_error != "tempfail")
        c.fail("milter.on-error", "is not accept or tempfail");
    m.on_error_tempfail = on_error == "tempfail";
    m.timeout = c.duration("milter.timeout");
    cfg.probe_connect_timeout = c.duration("probe.connect-timeout");
    cfg.probe_banner_timeout = c.duration("probe.banner-timeout");
    r.max_probes = c.count("probe.max-concurrent");
    r.max_probes_per_destination = c.count("probe.per-destination");
    cfg.health.healthy_ttl = c.seconds("probe.healthy-ttl");
    cfg.health.dead_backoff = c.seconds("probe.dead-backoff");
    cfg.health.max_backoff = c.seconds("probe.max-backoff");
    const auto& source = c.str("feedback.source");
    if (source == "journal") {
        cfg.feedback.source = feedback_settings::kind::journal;
    } else if (source.starts_with("file:") && source.size() > 5) {
        cfg.feedback.source = feedback_settings::kind::file;
        cfg.feedback.path = absolute(source.substr(5), cwd);
    } else if (source != "none") {
        c.fail("feedback.source", "is not none, journal or file:PATH");
    }
    cfg.health.delivery_failures = static_cast<std::uint32_t>(c.count("feedback.failures"));

    auto& w = cfg.web;
    if (auto e = c.endpoint("listen.web")) {
        w.listen = *e;
        if (w.listen.type == proto::endpoint::kind::unix_socket)
            w.listen.path = absolute(w.listen.path, cwd);
    }
    w.users = c.str("web.users").empty() ? cfg.state_dir + "/web-users" : absolute(c.str("web.users"), cwd);
    const std::size_t before_web = errors.size();
    w.session_idle = c.seconds("web.session-idle");
    w.session_max = c.seconds("web.session-max");
    // Compared only when both parsed: a bad one is reported once, as itself.
    if (errors.size() == before_web && w.session_idle > w.session_max)
        c.fail("web.session-idle", "must not be longer than web.session-max (" + c.str("web.session-max") + ")");

    if (errors.size() != before)
        return std::nullopt;
    return cfg;
}

std::vector<std::string> config_warnings(const config& cfg)
{
    auto text = [](std::chrono::milliseconds d) {
        return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
    };
    std::vector<std::string> out;
    // Under slow DNS the daemon answers at policy.deadline (fail open); if
    // the milter's own deadline comes first, it applies milter.on-error
    // instead, which may be a tempfail the daemon never meant.
    if (cfg.policy.deadline + milter_deadline_margin > cfg.milter.timeout)
        out.push_back("policy.deadline (" + text(cfg.policy.deadline) + ") is not at least " +
                      text(milter_deadline_margin) + " below milter.timeout (" + text(cfg.milter.timeout) +
                      "): with slow DNS the milter gives up (milter.on-error) before the daemon's own answer "
                      "arrives");
    // A Sendmail that times the milter out first skips it silently (no F=
    // flag) or tempfails: the milter must answer before that.
    if (cfg.milter.timeout >= mta_milter_read_timeout)
        out.push_back("milter.timeout (" + text(cfg.milter.timeout) + ") is not below Sendmail's default milter "
                      "read timeout (T=R:" + text(mta_milter_read_timeout) + "): raise T=R in INPUT_MAIL_FILTER, "
                      "or lower milter.timeout");
    // A smart host is named in the transport map as [address]:port, so
    // Postfix looks up no MX or address records for the filter to act on.
    if (cfg.routing.steer == steer_mode::dns_filter &&
        cfg.routing.routing_mode == engine::routing_config::mode::smarthost)
        out.push_back("routing.steer = dns-filter does nothing with routing.mode = smarthost: Postfix looks up no "
                      "MX or address records for the smart host, whose addresses come from the transport map");
    return out;
}

loaded load_values(const std::string& file, const value_map& overrides)
{
    loaded out;
    po::options_description desc;
    for (const auto& o : options)
        desc.add_options()(std::string(o.key).c_str(), po::value<std::string>());
    std::string path = file;
    if (path.empty() && std::filesystem::exists(std::string(default_config_file)))
        path = default_config_file;
    po::variables_map vm;
    if (!path.empty()) {
        std::ifstream in(path);
        if (!in) {
            out.errors.push_back(path + ": cannot read the config file");
            return out;
        }
        try {
            po::store(po::parse_config_file(in, desc, false), vm);
        } catch (const po::error& e) {
            out.errors.push_back(path + ": " + e.what());
            return out;
        }
        out.file = path;
    }
    for (const auto& o : options)
        out.values.emplace(std::string(o.key), std::string(o.default_value));
    for (const auto& [k, val] : vm)
        out.values.insert_or_assign(k, val.as<std::string>());
    for (const auto& [k, val] : overrides) {
        if (!out.values.contains(k))
            out.errors.push_back("--" + k + ": unknown key");
        else
            out.values.insert_or_assign(k, val);
    }
    return out;
}

loaded_config load_config(const std::string& file, const value_map& overrides, const std::string& cwd,
                          std::vector<std::string> prior)
{
    loaded_config out;
    out.raw = load_values(file, overrides);
    out.errors = out.raw.errors;
    out.errors.insert(out.errors.end(), std::make_move_iterator(prior.begin()), std::make_move_iterator(prior.end()));
    if (out.errors.empty())
        out.cfg = build_config(out.raw.values, cwd, out.errors);
    if (!out.errors.empty())
        out.cfg.reset();
    return out;
}

std::string format_config(const value_map& values)
{
    std::ostringstream out;
    std::string section;
    for (const auto& o : options) {
        std::string_view key = o.key;
        std::size_t dot = key.find('.');
        std::string sec(key.substr(0, dot));
        if (sec != section) {
            out << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
            section = sec;
        }
        auto it = values.find(key);
        out << key.substr(dot + 1) << " = " << (it == values.end() ? std::string(o.default_value) : it->second)
            << "\n";
    }
    return out.str();
}

std::vector<std::string> changed_keys(const value_map& before, const value_map& after)
{
    std::vector<std::string> out;
    auto value = [](const value_map& m, const option_spec& o) -> std::string_view {
        auto it = m.find(o.key);
        return it == m.end() ? o.default_value : std::string_view(it->second);
    };
    for (const auto& o : options)
        if (value(before, o) != value(after, o))
            out.emplace_back(o.key);
    return out;
}

bool needs_restart(std::string_view key) noexcept
{
    return key.starts_with("listen.") || key == "daemon.state-dir" || key == "log.target" ||
           key == "policy.cache-size" || key.starts_with("store.");
}

}  // namespace mxw::base
