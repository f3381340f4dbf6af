#include "cli/doctor.hpp"

#include "cli/blocking_socket.hpp"
#include "cli/dns_ask.hpp"
#include "cli/run_command.hpp"
#include "cli/verb_config.hpp"
#include "base/args.hpp"
#include "base/config.hpp"
#include "base/duration.hpp"
#include "proto/dns_message.hpp"
#include "proto/dns_rdata.hpp"
#include "proto/json.hpp"
#include "proto/sanitize.hpp"
#include "store/open_store.hpp"

#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace mxw::cli {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::string_view usage = R"(usage: mxwarden [-c FILE] [--section.key=value ...] doctor [options]

Asks every DNS server mxwardend uses (dns.forwarders, else dns.resolv-conf)
over UDP, UDP with EDNS 1232 and 4096 bytes, and TCP; checks this server's
outbound address, PTR and HELO name; lints the Postfix configuration; and
asks the daemon and the quarantine store how they are.

options:
  --name DOMAIN           a domain to look up (MX); repeatable (default
                          example.org); the smart host (A) is always asked
                          in smarthost mode
  --outbound-ip IP        the address remote servers see (default: the source
                          address towards the first DNS server)
  --helo-name NAME        default: postconf -h smtp_helo_name
  --postfix-config DIR    Postfix configuration directory (default: Postfix's own)
  --timeout DURATION      per DNS question (default 2s)
  --json                  machine-readable findings
)";

constexpr std::uint16_t type_a = 1, type_ptr = 12, type_mx = 15, type_aaaa = 28;

struct options {
    std::vector<std::string> names;
    std::string outbound_ip;
    std::string helo_name;
    std::string postfix_config;
    std::chrono::milliseconds timeout{2000};
    bool json = false;
    base::value_map overrides;  ///< --section.key=value given after "doctor"
};

using doctor::finding;
using doctor::level;

// ---- where the configuration points -------------------------------------

std::vector<dns_server> servers_in_use(const base::config& cfg, std::vector<finding>& out)
{
    std::vector<dns_server> list;
    if (!cfg.dns.forwarders.empty()) {
        for (const auto& f : cfg.dns.forwarders) {
            dns_server s;
            auto at = f.find('@');
            s.ip = f.substr(0, at);
            if (at != std::string::npos)
                s.port = static_cast<std::uint16_t>(std::stoi(f.substr(at + 1)));
            list.push_back(s);
        }
        return list;
    }
    if (cfg.dns.recursion) {
        out.push_back({"dns", "recursion", level::info,
                       "dns.recursion = yes: mxwardend asks the root and authoritative servers itself", ""});
        return list;
    }
    std::ifstream in(cfg.dns.resolv_conf);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string kw, ip;
        if (words >> kw >> ip && kw == "nameserver" && proto::canonical_address(ip))
            list.push_back(dns_server{ip, 53});
    }
    if (list.empty())
        out.push_back({"dns", cfg.dns.resolv_conf, level::fail, "no nameserver in " + cfg.dns.resolv_conf,
                       "set dns.forwarders = IP[@port] ... (mxwardend cannot resolve anything as it is)"});
    return list;
}

// One server, one name: the four questions and what they mean.
finding check_server(const dns_server& s, const std::string& name, std::uint16_t type, const base::config& cfg,
                     std::chrono::milliseconds timeout)
{
    dns_attempt plain = ask_udp(s, name, type, 0, timeout);
    dns_attempt e1232 = ask_udp(s, name, type, 1232, timeout);
    dns_attempt e4096 = ask_udp(s, name, type, 4096, timeout);
    dns_attempt tcp = ask_tcp(s, name, type, timeout);
    finding f;
    f.area = "dns";
    f.subject = s.label() + " " + (type == type_mx ? "MX " : "A ") + name;
    f.detail = "udp: " + plain.text() + ", udp+edns1232: " + e1232.text() + ", udp+edns4096: " + e4096.text() +
               ", tcp: " + tcp.text();
    if (e4096.k == dns_attempt::kind::answer && e4096.reply.has_opt)
        f.detail += "; server EDNS size " + std::to_string(e4096.reply.edns_size);
    bool udp_ok = plain.usable() || e1232.usable() || e4096.usable();
    bool udp_answers = plain.k == dns_attempt::kind::answer || plain.k == dns_attempt::kind::truncated ||
                       e1232.k == dns_attempt::kind::answer || e1232.k == dns_attempt::kind::truncated;
    bool tcp_ok = tcp.usable();
    bool truncates = e1232.k == dns_attempt::kind::truncated;
    auto mode = cfg.dns.mode;
    auto rcode_of = [](const dns_attempt& a) { return a.k == dns_attempt::kind::answer ? a.reply.rcode : std::uint8_t{0}; };
    std::uint8_t bad_rcode = 0;
    for (const dns_attempt* a : {&e1232, &tcp, &plain})
        if (rcode_of(*a) != 0 && rcode_of(*a) != 3)
            bad_rcode = rcode_of(*a);

    if (!udp_answers && !tcp_ok && tcp.k != dns_attempt::kind::answer) {
        f.lvl = level::fail;
        f.detail += " => the server does not answer at all";
        f.fix = "check dns.forwarders and the firewall (UDP and TCP port 53); while DNS is down mail waits "
                "(seed 002)";
    } else if (!udp_ok && !tcp_ok && bad_rcode != 0) {
        f.lvl = level::fail;
        f.detail += " => the server answers, but cannot resolve " + name + " (" + proto::dns_rcode_name(bad_rcode) + ")";
        f.fix = "its forwarding or recursion is broken (seed 002): fix it, or list working servers in dns.forwarders";
    } else if (!tcp_ok && truncates) {
        bool big_udp = e4096.usable();
        f.lvl = mode == dns::transport::udp_only && big_udp ? level::ok : level::fail;
        f.detail += " => the answer does not fit in 1232 bytes of UDP and TCP fails (seeds 000, 001)";
        f.fix = big_udp ? (mode == dns::transport::udp_only ? "dns.transport = udp-only already asks for 4096-byte "
                                                              "answers; also allow TCP/53 to this server if you can"
                                                            : "set dns.transport = udp-only (it asks for 4096-byte "
                                                              "answers), or allow TCP port 53 to this server")
                        : "allow TCP port 53 to this server, or use another server: even 4096-byte UDP answers "
                          "are truncated";
    } else if (!tcp_ok) {
        f.lvl = mode == dns::transport::tcp_only ? level::fail : level::warn;
        f.detail += " => TCP fails (" + tcp.text() + "); answers too big for UDP would fail";
        if (plain.k == dns_attempt::kind::truncated)
            f.detail += ", and this one already does for lookups without EDNS (Postfix's own, through libc)";
        f.fix = mode == dns::transport::tcp_only ? "set dns.transport = udp-then-tcp or udp-only: this server has no TCP"
                                                 : "allow TCP port 53 to this server (seeds 000, 001)";
    } else if (!udp_ok) {
        f.lvl = mode == dns::transport::tcp_only ? level::ok : level::fail;
        f.detail += " => UDP fails, TCP works";
        f.fix = mode == dns::transport::tcp_only ? "" : "set dns.transport = tcp-only";
    } else {
        f.lvl = level::ok;
    }
    if (f.lvl == level::ok && bad_rcode != 0) {
        f.lvl = level::fail;
        f.fix = "the server answers " + proto::dns_rcode_name(bad_rcode) + " for " + name +
                ": its forwarding or recursion is broken (seed 002)";
    }
    return f;
}

// ---- this server's identity (seed 003) ----------------------------------

std::vector<std::string> postconf(const options& o, std::vector<std::string> args)
{
    std::vector<std::string> argv{"postconf"};
    if (!o.postfix_config.empty()) {
        argv.push_back("-c");
        argv.push_back(o.postfix_config);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    auto out = capture(argv);
    std::vector<std::string> lines;
    if (!out)
        return lines;
    std::istringstream in(*out);
    std::string line;
    while (std::getline(in, line))
        lines.push_back(line);
    return lines;
}

std::string trim(std::string s)
{
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
    return s.substr(i);
}

void check_identity(const options& o, const std::vector<dns_server>& servers, std::vector<finding>& out)
{
    std::string ip = o.outbound_ip;
    std::string how = "given with --outbound-ip";
    if (ip.empty() && !servers.empty()) {
        ip = source_address_towards(servers.front());
        how = "source address towards " + servers.front().label() +
              "; pass --outbound-ip for the address remote mail servers see";
    }
    if (ip.empty() || !proto::canonical_address(ip)) {
        out.push_back({"identity", "outbound address", level::warn, "unknown", "pass --outbound-ip IP"});
        return;
    }
    out.push_back({"identity", "outbound address", level::info, ip + " (" + how + ")", ""});
    auto rev = proto::reverse_name(ip);
    std::vector<std::string> names;
    std::optional<proto::dns_reply> ptr;
    for (const auto& s : servers)
        if ((ptr = resolve(s, *rev, type_ptr, o.timeout)))
            break;
    if (!ptr) {
        out.push_back({"identity", "PTR " + ip, level::warn, "no DNS server answered the PTR question", ""});
    } else {
        for (const auto& rr : ptr->answers)
            if (rr.type == type_ptr)
                names.push_back(proto::to_lower(rr.rdata_text));
        if (names.empty()) {
            out.push_back({"identity", "PTR " + ip, level::fail,
                           "no PTR record (" + proto::dns_rcode_name(ptr->rcode) + ")",
                           "ask whoever holds " + ip + " for a PTR naming this server: many receivers refuse "
                                                       "mail from addresses without one (seed 003)"});
        } else {
            bool confirmed = false;
            for (const auto& n : names) {
                for (std::uint16_t t : {type_a, type_aaaa}) {
                    for (const auto& s : servers) {
                        auto fwd = resolve(s, n, t, o.timeout);
                        if (!fwd)
                            continue;
                        for (const auto& rr : fwd->answers)
                            if ((rr.type == type_a || rr.type == type_aaaa) &&
                                proto::canonical_address(rr.rdata_text) == proto::canonical_address(ip))
                                confirmed = true;
                        break;
                    }
                }
            }
            std::string list;
            for (const auto& n : names)
                list.append(list.empty() ? "" : ", ").append(n);
            out.push_back({"identity", "PTR " + ip, confirmed ? level::ok : level::fail,
                           list + (confirmed ? " (resolves back to " + ip + ")" : " (does not resolve back to " + ip + ")"),
                           confirmed ? "" : "make " + names.front() + " resolve to " + ip +
                                                " (forward-confirmed reverse DNS, seed 003)"});
        }
    }
    std::string helo = o.helo_name;
    if (helo.empty()) {
        auto lines = postconf(o, {"-x", "-h", "smtp_helo_name"});  // -x: expand $myhostname
        if (!lines.empty())
            helo = trim(lines.front());
    }
    if (helo.empty()) {
        out.push_back({"identity", "HELO name", level::warn, "unknown (postconf not found)", "pass --helo-name NAME"});
        return;
    }
    helo = proto::to_lower(helo);
    bool matches = std::find(names.begin(), names.end(), helo) != names.end();
    out.push_back({"identity", "HELO name", names.empty() || matches ? (matches ? level::ok : level::info) : level::warn,
                   helo + (names.empty() ? "" : matches ? " (matches the PTR)" : " (the PTR says " + names.front() + ")"),
                   names.empty() || matches ? "" : "set smtp_helo_name = " + names.front() +
                                                     " in main.cf, or change the PTR: receivers compare them (seed 003)"});
}

// ---- Postfix settings ----------------------------------------------------

void check_postfix(const options& o, const base::config& cfg, std::vector<finding>& out)
{
    auto lines = postconf(o, {"-n"});
    if (lines.empty()) {
        out.push_back({"postfix", "main.cf", level::info,
                       "postconf gave nothing" + (o.postfix_config.empty() ? std::string() : " for " + o.postfix_config) +
                           ": Postfix checks left out",
                       ""});
        return;
    }
    doctor::postfix_settings main_cf, master_cf;
    for (const auto& l : lines) {
        auto eq = l.find(" = ");
        if (eq != std::string::npos)
            main_cf[l.substr(0, eq)] = l.substr(eq + 3);
        else if (!l.empty() && l.back() == '=')
            main_cf[trim(l.substr(0, l.size() - 1))] = "";
    }
    for (const auto& l : postconf(o, {"-M"})) {
        std::istringstream words(l);
        std::string service, type;
        if (words >> service >> type)
            master_cf[service + "/" + type] = trim(l);
    }
    doctor::lint_postfix(cfg, main_cf, master_cf, out);
}

// ---- the daemon and the quarantine ------------------------------------

void check_daemon(const base::config& cfg, std::vector<finding>& out)
{
    std::string where = proto::to_string(cfg.listen_control);
    try {
        auto deadline = clock::now() + std::chrono::seconds(3);
        blocking_socket s(cfg.listen_control, deadline);
        s.write_all("status\n", deadline);
        std::string resp;
        while (resp.size() < (1 << 16) && s.read_some(resp, (1 << 16) - resp.size(), deadline)) {
        }
        std::string summary;
        std::istringstream in(resp);
        std::string line;
        while (std::getline(in, line)) {
            for (const char* k : {"route destinations", "health table entries", "dns lookup timeouts", "policy requests"}) {
                if (!line.starts_with(k))
                    continue;
                std::string squeezed;  // "policy requests:     12" -> "policy requests: 12"
                for (char c : trim(line))
                    if (c != ' ' || squeezed.empty() || squeezed.back() != ' ')
                        squeezed.push_back(c);
                summary.append(summary.empty() ? "" : ", ").append(squeezed);
            }
        }
        out.push_back({"daemon", where, level::ok, "reachable; " + summary, ""});
    } catch (const std::exception& e) {
        out.push_back({"daemon", where, level::fail, std::string("not reachable: ") + e.what(),
                       "start mxwardend (with the same configuration), or pass -c FILE"});
    }
}

// The fleet's shared store: reachable or not. The URL is not shown (it
// may carry a password); store.node is.
// A look that changes nothing (no tables made, no migration): doctor may
// run as any user, against a database other nodes are using.
void check_fleet_store(const base::config& cfg, std::vector<finding>& out)
{
    if (cfg.store.url.empty())
        return;
    const store::store_location where{cfg.quarantine.database, cfg.store.url, cfg.store.node};
    const std::string what = store::describe(where) + " as " + cfg.store.node;
    auto st = store::check_store(where);
    switch (st.what) {
    case store::store_check::kind::ok: out.push_back({"store", what, level::ok, "reachable, " + st.detail, ""}); break;
    case store::store_check::kind::absent:
        out.push_back({"store", what, level::info, "reachable, " + st.detail, "the first node to start makes them"});
        break;
    case store::store_check::kind::unreachable:
        out.push_back({"store", what, level::fail, "not reachable: " + st.detail,
                       "nodes route from what each knows alone, and ingest answers 75 (Postfix keeps the mail), "
                       "until the database is back"});
        break;
    case store::store_check::kind::newer:
        out.push_back({"store", what, level::fail, st.detail, "upgrade this node's mxwarden to the fleet's version"});
        break;
    }
}

void check_quarantine(const base::config& cfg, std::vector<finding>& out)
{
    const store::store_location where{cfg.quarantine.database, cfg.store.url, cfg.store.node};
    const auto db = store::describe(where);
    // A shared store check_fleet_store did not find usable has been
    // reported there; opening it here would make its tables.
    if (!cfg.store.url.empty() && store::check_store(where).what != store::store_check::kind::ok)
        return;
    try {
        auto q = store::open_quarantine(where, store::open_mode::read_only);
        if (!q) {
            out.push_back({"quarantine", db, level::info, "empty (no store yet)", ""});
            return;
        }
        std::int64_t held = 0, bytes = 0;
        std::map<std::string, std::int64_t> reasons;
        for (const auto& r : q->stats()) {
            if (r.state != store::entry_state::held)
                continue;
            held += r.count;
            bytes += r.bytes;
            reasons[r.reason] += r.count;
        }
        std::string detail = std::to_string(held) + " held (" + std::to_string(bytes) + " bytes)";
        for (const auto& [reason, n] : reasons)
            detail += ", " + reason + ": " + std::to_string(n);
        out.push_back({"quarantine", db, held ? level::warn : level::ok, detail,
                       held ? "review with `mxwarden quarantine list`; release what is fixed" : ""});
        // From 80 % on, a few large messages can fill it, and then every
        // quarantined message waits in the MTA's queue (ingest exits 75).
        auto use = q->usage();
        auto limit = q->max_bytes(cfg.quarantine.max_bytes);
        bool near_full = use.used_bytes >= limit / 5 * 4;
        out.push_back({"quarantine", "size", near_full ? level::warn : level::ok,
                       std::to_string(use.used_bytes) + " of " + std::to_string(limit) + " bytes (" +
                           std::to_string(limit ? use.used_bytes * 100 / limit : 100) + "% of quarantine.max-size" +
                           (cfg.quarantine.max_bytes ? ")" : ", auto)"),
                       near_full ? "release, delete or purge entries, or raise quarantine.max-size; when full, "
                                   "ingest exits 75 and quarantined mail waits in the MTA's queue"
                                 : ""});
    } catch (const std::exception& e) {
        out.push_back({"quarantine", db, level::fail, std::string("cannot read: ") + e.what(),
                       cfg.store.url.empty() ? "check the file's owner and mode"
                                             : "check store.url, that PostgreSQL runs, and that it lets this node "
                                               "in (pg_hba.conf, the password file); meanwhile ingest answers 75 "
                                               "and Postfix keeps the mail"});
    }
}

// ---- arguments and output --------------------------------------------------

constexpr base::arg_option doctor_options[] = {
    {"--help"},
    {"--json"},
    {"--name", base::takes_value},
    {"--outbound-ip", base::takes_value},
    {"--helo-name", base::takes_value},
    {"--postfix-config", base::takes_value},
    {"--timeout", base::takes_value},
};

std::optional<options> parse(const base::parsed_args& a, std::string& error)
{
    if (!a.errors.empty()) {
        error = a.errors.front();
        return std::nullopt;
    }
    if (!a.positional.empty()) {
        error = "unexpected argument '" + proto::sanitize(a.positional.front()) + "'";
        return std::nullopt;
    }
    options o;
    o.json = a.has("--json");
    o.names = a.values("--name");
    for (auto [name, to] : {std::pair{"--outbound-ip", &o.outbound_ip}, std::pair{"--helo-name", &o.helo_name},
                            std::pair{"--postfix-config", &o.postfix_config}})
        if (auto* v = a.value(name))
            *to = *v;
    if (auto* v = a.value("--timeout")) {
        auto d = base::parse_duration(*v);
        if (!d || d->count() <= 0) {
            error = "--timeout: '" + proto::sanitize(*v) + "' is not a duration";
            return std::nullopt;
        }
        o.timeout = *d;
    }
    o.overrides = a.overrides;
    return o;
}

void print(const std::vector<finding>& all, bool json)
{
    if (json) {
        proto::json_writer w;
        w.begin_object().key("checks").begin_array();
        for (const auto& f : all) {
            w.begin_object().key("area").value(f.area).key("subject").value(f.subject);
            w.key("status").value(to_string(f.lvl)).key("detail").value(f.detail).key("fix").value(f.fix);
            w.end_object();
        }
        w.end_array().end_object();
        std::cout << w.str() << "\n";
        return;
    }
    std::string area;
    for (const auto& f : all) {
        if (f.area != area) {
            std::cout << (area.empty() ? "" : "\n") << f.area << "\n";
            area = f.area;
        }
        std::cout << "  " << to_string(f.lvl) << (f.lvl == level::fail ? "  " : f.lvl == level::ok ? "    " : "  ")
                  << f.subject << ": " << proto::sanitize(f.detail, 2000) << "\n";
        if (!f.fix.empty())
            std::cout << "        fix: " << f.fix << "\n";
    }
}

}  // namespace

int run_doctor(std::span<const std::string_view> global, std::span<const std::string_view> args)
{
    auto parsed = base::parse_args(args, {doctor_options, base::config_args::overrides});
    if (parsed.has("--help")) {
        std::cout << usage;
        return 0;
    }
    std::string error;
    auto o = parse(parsed, error);
    if (!o) {
        std::cerr << "mxwarden doctor: " << error << "\n" << usage;
        return EX_USAGE;
    }
    auto vc = load_verb_config(global, o->overrides);
    if (!vc.cfg) {
        for (const auto& e : vc.errors)
            std::cerr << "mxwarden: " << e << "\n";
        return EX_CONFIG;
    }
    const auto& cfg = vc.cfg;

    std::vector<finding> all;
    auto servers = servers_in_use(*cfg, all);
    std::vector<std::pair<std::string, std::uint16_t>> questions;
    if (cfg->routing.routing_mode == engine::routing_config::mode::smarthost &&
        !proto::canonical_address(cfg->routing.smarthost))
        questions.emplace_back(cfg->routing.smarthost, type_a);
    for (const auto& n : o->names)
        questions.emplace_back(n, type_mx);
    if (o->names.empty())
        questions.emplace_back("example.org", type_mx);
    for (const auto& s : servers)
        for (const auto& [name, type] : questions)
            all.push_back(check_server(s, name, type, *cfg, o->timeout));
    check_identity(*o, servers, all);
    check_postfix(*o, *cfg, all);
    check_daemon(*cfg, all);
    check_fleet_store(*cfg, all);
    check_quarantine(*cfg, all);
    print(all, o->json);
    bool failed = std::any_of(all.begin(), all.end(), [](const finding& f) { return f.lvl == level::fail; });
    return failed ? 1 : 0;
}

}  // namespace mxw::cli
