#include "cli/postfix_setup.hpp"

#include "cli/postfix_names.hpp"
#include "cli/run_command.hpp"
#include "cli/verb_config.hpp"
#include "base/args.hpp"
#include "base/config.hpp"
#include "proto/sanitize.hpp"

#include <sysexits.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <span>
#include <sstream>

namespace mxw::cli {
namespace {

constexpr std::string_view usage = R"(usage: mxwarden [-c FILE] [--section.key=value ...] postfix-setup [--check | --apply]
                [--postfix-config DIR] [--pipe-user USER]

Prints the postconf commands that hook Postfix up to mxwarden, from
mxwarden's own settings (listen.policy, listen.socketmap, routing.transport,
routing.quarantine-transport):
  main.cf    check_policy_service with timeout and default_action in
             smtpd_recipient_restrictions; transport_maps; the tls map first
             in smtp_tls_policy_maps
  master.cf  the mxw smtp clone (short greeting timeout) and the mxq pipe
             that feeds the quarantine
With routing.steer = dns-filter (e.g. --routing.steer=dns-filter), Postfix
keeps routing by the recipient domain: main.cf gets smtp_dns_reply_filter
with the dnsfilter map instead of the tls map and the mxw clone.
  --check    report what is missing or conflicting (exit 1 if anything is missing)
  --apply    back up main.cf and master.cf, then run the commands; run it
             again and nothing changes. Then: postfix reload
  --pipe-user USER   the user the mxq pipe runs as (default mxwarden)
)";

bool has_word(const std::string& list, std::string_view word)
{
    std::size_t at = 0;
    auto boundary = [](char c) { return c == ' ' || c == ',' || c == '\t' || c == '{' || c == '}'; };
    while ((at = list.find(word, at)) != std::string::npos) {
        bool left = at == 0 || boundary(list[at - 1]);
        bool right = at + word.size() == list.size() || boundary(list[at + word.size()]);
        if (left && right)
            return true;
        at += word.size();
    }
    return false;
}

// A tool's stderr for one line of ours: without its trailing newlines.
std::string stderr_text(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    return proto::sanitize(s, 500);
}

// Shell-quoted, for commands printed for the admin to read or paste.
std::string shell_quote(const std::string& s)
{
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

std::vector<postconf_change> plan_postfix_setup(const setup_inputs& in,
                                                const std::vector<std::pair<std::string, std::string>>& main_list,
                                                const std::vector<std::pair<std::string, std::string>>& master_list,
                                                std::vector<std::string>& warnings)
{
    std::map<std::string, std::string> main_cf(main_list.begin(), main_list.end());
    std::map<std::string, std::string> master_cf(master_list.begin(), master_list.end());
    auto get = [&](const std::string& k) { auto it = main_cf.find(k); return it == main_cf.end() ? std::string() : it->second; };
    std::vector<postconf_change> plan;

    // 1. The policy service, wherever the admin already put it; else at the
    // end of smtpd_recipient_restrictions, i.e. after relay control.
    static const char* restriction_lists[] = {"smtpd_client_restrictions", "smtpd_helo_restrictions",
                                              "smtpd_sender_restrictions", "smtpd_recipient_restrictions",
                                              "smtpd_relay_restrictions"};
    bool policy_present = false;
    for (const char* list : restriction_lists) {
        std::string v = get(list);
        auto at = v.find(in.policy_endpoint);
        if (at == std::string::npos || v.rfind("check_policy_service", at) == std::string::npos)
            continue;
        policy_present = true;
        std::string tail = v.substr(v.rfind("check_policy_service", at));
        std::string spec = tail.substr(0, tail.find('}') == std::string::npos ? tail.find(',') : tail.find('}') + 1);
        if (spec.find("default_action") == std::string::npos || spec.find("timeout") == std::string::npos)
            warnings.push_back(std::string(list) + ": the policy service has no per-service timeout and "
                                                   "default_action; write check_policy_service { " +
                               in.policy_endpoint + ", timeout=15s, default_action=DUNNO }");
    }
    if (!policy_present) {
        std::string rcpt = get("smtpd_recipient_restrictions");
        // An explicitly empty smtpd_relay_restrictions is a pre-2.10 setup
        // where relay control lives in the recipient restrictions: without
        // it there, appending anything could open a relay.
        bool relay_list_set = main_cf.count("smtpd_relay_restrictions") > 0;
        bool relay_control = !relay_list_set || !get("smtpd_relay_restrictions").empty() ||
                             has_word(rcpt, "reject_unauth_destination") || has_word(rcpt, "defer_unauth_destination");
        std::string token = "check_policy_service { " + in.policy_endpoint + ", timeout=15s, default_action=DUNNO }";
        std::string value = rcpt.empty() ? token : rcpt + ", " + token;
        if (!relay_control)
            value = "reject_unauth_destination, " + value;
        plan.push_back({"-e", "smtpd_recipient_restrictions = " + value,
                        "the SMTP-time checks (sender domain, client PTR); DUNNO while mxwardend is down"});
    }
    for (const char* list : restriction_lists)
        for (const char* twice : {"reject_unknown_sender_domain", "reject_unknown_client_hostname",
                                  "reject_unknown_reverse_client_hostname"})
            if (has_word(get(list), twice))
                warnings.push_back(std::string(list) + " has " + twice +
                                   ": mxwarden makes the same check; keeping both doubles the DNS work and "
                                   "gives two opinions");

    // 2. Routing: after the admin's own transport tables; the tls map first.
    std::string transport_map = socketmap_table(in.socketmap_endpoint, "transport");
    std::string tm = get("transport_maps");
    if (tm.find(transport_map) == std::string::npos)
        plan.push_back({"-e", "transport_maps = " + (tm.empty() ? transport_map : tm + ", " + transport_map),
                        in.dns_filter ? "quarantine: mail for destinations unroutable too long goes to the mxq pipe"
                                      : "routing: healthy MX hosts (or the smart host) as bracketed next hops"});
    std::string tls_map = socketmap_table(in.socketmap_endpoint, "tls");
    std::string tp = get("smtp_tls_policy_maps");
    if (in.dns_filter) {
        // The parameter is global: it covers the default smtp transport
        // and every clone that does not override it.
        if (auto line = dns_reply_filter_line(in.socketmap_endpoint, get("smtp_dns_reply_filter")))
            plan.push_back({"-e", *line, "Postfix skips the MX and address records of hosts mxwarden found dead"});
        if (tp.find(tls_map) != std::string::npos)
            warnings.push_back("smtp_tls_policy_maps has " + tls_map + ": " + std::string(tls_map_unneeded) +
                               "; it can go");
    } else if (tp.find(tls_map) == std::string::npos) {
        plan.push_back({"-e", "smtp_tls_policy_maps = " + (tp.empty() ? tls_map : tls_map + ", " + tp),
                        "TLS policy for mxwarden's bracketed next hops (certificate names of the MX hosts)"});
    } else if (!tp.starts_with(tls_map)) {
        warnings.push_back("smtp_tls_policy_maps: put " + tls_map + " first: Postfix uses the first map that answers");
    }

    // 3. master.cf: the smtp clone and the quarantine pipe. chroot n: a
    // unix socketmap path must not be resolved inside the queue directory.
    if (!in.dns_filter && !master_cf.count(in.transport + "/unix")) {
        plan.push_back({"-M", in.transport + "/unix = " + in.transport + " unix - - n - - smtp",
                        "the smtp clone mxwarden's answers name"});
        for (const char* p : {"smtp_helo_timeout=30s", "smtp_connect_timeout=10s"})
            plan.push_back({"-P", in.transport + "/unix/" + p, "give up on a silent server in seconds, not 300 s"});
        plan.push_back({"-P", in.transport + "/unix/syslog_name=postfix/" + in.transport, "its own log name"});
    }
    if (!master_cf.count(in.quarantine_transport + "/unix")) {
        std::string argv = in.mxwarden_path;
        for (const auto& a : in.extra_ingest_args)
            argv += " " + a;
        argv += " quarantine ingest --queue-id ${queue_id} --reason ${nexthop} --sender ${sender} -- ${recipient}";
        plan.push_back({"-M",
                        in.quarantine_transport + "/unix = " + in.quarantine_transport +
                            " unix - n n - 10 pipe flags=Rq user=" + in.pipe_user + " null_sender= argv=" + argv,
                        "the quarantine: mail mxwarden cannot route goes to the store, not to a bounce"});
    }
    return plan;
}

int run_postfix_setup(std::span<const std::string_view> global, std::span<const std::string_view> arguments)
{
    static constexpr base::arg_option options[] = {
        {"--help"},
        {"--check"},
        {"--apply"},
        {"--postfix-config", base::takes_value},
        {"--pipe-user", base::takes_value},
    };
    auto a = base::parse_args(arguments, {options, base::config_args::overrides});
    if (a.has("--help")) {
        std::cout << usage;
        return 0;
    }
    if (!a.positional.empty())
        a.errors.push_back("unexpected '" + proto::sanitize(a.positional.front()) + "'");
    if (!a.errors.empty()) {
        for (const auto& e : a.errors)
            std::cerr << "mxwarden postfix-setup: " << e << "\n";
        std::cerr << usage;
        return EX_USAGE;
    }
    bool check = a.has("--check"), apply = a.has("--apply");
    std::string pf_dir = a.value("--postfix-config") ? *a.value("--postfix-config") : "";
    std::string pipe_user = a.value("--pipe-user") ? *a.value("--pipe-user") : "mxwarden";
    if (check && apply) {
        std::cerr << "mxwarden postfix-setup: --check or --apply, not both\n";
        return EX_USAGE;
    }
    auto vc = load_verb_config(global, a.overrides);
    if (!vc.cfg) {
        for (const auto& e : vc.errors)
            std::cerr << "mxwarden: " << e << "\n";
        return EX_CONFIG;
    }
    const auto& cfg = vc.cfg;

    std::vector<std::string> pc{"postconf"};
    if (!pf_dir.empty())
        pc.insert(pc.end(), {"-c", pf_dir});
    auto with = [&](std::vector<std::string> args) {
        auto v = pc;
        v.insert(v.end(), args.begin(), args.end());
        return v;
    };
    auto main_out = run_command(with({"-n"}));
    if (main_out.status != 0) {
        std::cerr << "mxwarden postfix-setup: postconf -n failed"
                  << (main_out.status < 0 ? " (is Postfix installed?)" : ": " + stderr_text(main_out.errors))
                  << "\n";
        return EX_UNAVAILABLE;
    }
    std::vector<std::pair<std::string, std::string>> main_cf, master_cf;
    std::istringstream lines(main_out.output);
    std::string line;
    while (std::getline(lines, line)) {
        auto eq = line.find(" =");
        if (eq != std::string::npos)
            main_cf.emplace_back(line.substr(0, eq), line.size() > eq + 3 ? line.substr(eq + 3) : "");
    }
    std::istringstream services(run_command(with({"-M"})).output);
    while (std::getline(services, line)) {
        std::istringstream words(line);
        std::string name, type;
        if (words >> name >> type)
            master_cf.emplace_back(name + "/" + type, line);
    }

    setup_inputs in;
    in.policy_endpoint = postfix_endpoint(cfg->listen_policy);
    in.socketmap_endpoint = postfix_endpoint(cfg->listen_socketmap);
    in.transport = cfg->routing.transport;
    in.quarantine_transport = cfg->routing.quarantine_transport;
    in.dns_filter = steers_by_dns_filter(*cfg);
    in.pipe_user = pipe_user;
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    in.mxwarden_path = ec ? "/usr/bin/mxwarden" : self.string();
    if (!vc.config_file.empty())
        in.extra_ingest_args = {"-c", std::filesystem::absolute(vc.config_file).string()};
    std::vector<std::string> warnings;
    for (const auto& [k, v] : vc.overrides) {
        if (!(k.starts_with("daemon.") || k.starts_with("quarantine.") || k.starts_with("store.") ||
              k.starts_with("listen.control")))
            continue;
        // master.cf splits a pipe's argv at white space, and is world-
        // readable: a connection string belongs in the config file.
        if (k.starts_with("store.") && v.find_first_of(" \t") != std::string::npos)
            warnings.push_back("--" + k + " has spaces, which master.cf cannot pass to the mxq pipe: set it in the "
                               "config file (-c) instead");
        in.extra_ingest_args.push_back("--" + k + "=" + v);
    }
    // A fleet: every node's ingest writes the one shared store, each under
    // its own name; the admin should know that before pasting.
    if (!cfg->store.url.empty())
        std::cout << "fleet: the mxq pipe stores into the shared PostgreSQL store (store.url) as node '"
                  << cfg->store.node << "'; run postfix-setup on every node, each with its own store.node\n";

    auto plan = plan_postfix_setup(in, main_cf, master_cf, warnings);
    for (const auto& w : warnings)
        std::cout << "warning: " << w << "\n";
    std::string shown_pc = pf_dir.empty() ? "postconf" : "postconf -c " + shell_quote(pf_dir);
    if (plan.empty()) {
        std::cout << "postfix-setup: Postfix is set up for mxwarden; nothing to change\n";
        return 0;
    }
    if (!apply) {
        std::cout << (check ? "missing:\n" : "# run these, then `postfix reload` (or: mxwarden postfix-setup --apply)\n");
        for (const auto& c : plan)
            std::cout << (check ? "  " : "") << shown_pc << " " << c.flag << " " << shell_quote(c.value) << "   # "
                      << c.why << "\n";
        return check ? 1 : 0;
    }

    // Backups first: a mistake must be one copy away from undone.
    auto dir_out = capture(with({"-h", "config_directory"}));
    std::string dir = dir_out ? dir_out->substr(0, dir_out->find('\n')) : pf_dir;
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (const char* f : {"main.cf", "master.cf"}) {
        std::filesystem::path src = std::filesystem::path(dir) / f;
        std::filesystem::path dst = src.string() + ".mxwarden-" + stamp;
        std::filesystem::copy_file(src, dst, std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) {
            std::cerr << "mxwarden postfix-setup: cannot back up " << src << ": " << ec.message() << "; nothing changed\n";
            return EX_CANTCREAT;
        }
        std::cout << "backup: " << dst.string() << "\n";
    }
    for (const auto& c : plan) {
        auto r = run_command(with({c.flag, c.value}));
        if (r.status != 0) {
            std::cerr << "mxwarden postfix-setup: " << shown_pc << " " << c.flag << " " << shell_quote(c.value)
                      << " failed: " << stderr_text(r.errors) << "\n(the backups above restore the rest)\n";
            return EX_SOFTWARE;
        }
        std::cout << "applied: " << c.flag << " " << c.value << "\n";
    }
    std::cout << "postfix-setup: " << plan.size() << " changes applied; now run: postfix"
              << (pf_dir.empty() ? "" : " -c " + pf_dir) << " reload\n";
    return 0;
}

}  // namespace mxw::cli
