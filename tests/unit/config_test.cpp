// Tests for base/config: the option table, build_config's defaults and
// error messages, the INI file with overrides on top, and
// the guard that keeps packaging/mxwarden.conf in step with the table (the
// sample is what operators copy, so a missing or stale key there is a bug).
#include "base/config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace base = mxw::base;
namespace fs = std::filesystem;

namespace {

const std::string cwd = "/srv/mxw";

// A private directory under /tmp, removed with everything in it.
class temp_dir {
public:
    temp_dir()
    {
        std::string tmpl = (fs::temp_directory_path() / "mxw-config-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    ~temp_dir() { fs::remove_all(path_); }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    std::string write(const std::string& name, const std::string& text) const
    {
        fs::path p = path_ / name;
        std::ofstream(p) << text;
        return p.string();
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

base::config build_ok(const base::value_map& values)
{
    std::vector<std::string> errors;
    auto cfg = base::build_config(values, cwd, errors);
    INFO((errors.empty() ? "" : errors.front()));
    REQUIRE(cfg.has_value());
    REQUIRE(errors.empty());
    return *cfg;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// The longest prefix of lower-case letters and '-' (a section or key name).
std::string_view kebab_prefix(std::string_view s)
{
    std::size_t n = 0;
    while (n < s.size() && ((s[n] >= 'a' && s[n] <= 'z') || s[n] == '-'))
        ++n;
    return s.substr(0, n);
}

// "section.lower-kebab", the key form of aesthetics.md G6. (No <regex>: with
// g++ 12 it trips -Wmaybe-uninitialized in sanitizer builds.)
bool is_key_form(std::string_view key)
{
    std::size_t dot = key.find('.');
    if (dot == std::string_view::npos)
        return false;
    std::string_view section = key.substr(0, dot);
    std::string_view name = key.substr(dot + 1);
    return !section.empty() && kebab_prefix(section) == section && section.find('-') == std::string_view::npos &&
           !name.empty() && name.front() != '-' && kebab_prefix(name) == name;
}

// "section.key" -> default as the sample config shows it: "#key = default"
// (or an active "key = value") under a "[section]" header.
std::map<std::string, std::string> sample_keys(std::istream& in)
{
    std::map<std::string, std::string> shown;
    std::string section;
    std::string text;
    while (std::getline(in, text)) {
        std::string_view line = trim(text);
        if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
            section = line.substr(1, line.size() - 2);
            continue;
        }
        if (line.starts_with('#'))
            line = trim(line.substr(1));
        std::string_view name = kebab_prefix(line);
        std::string_view rest = trim(line.substr(name.size()));
        if (name.empty() || !rest.starts_with('=') || section.empty())
            continue;
        // The first mention is the default; a later one may be an example.
        shown.emplace(section + "." + std::string(name), std::string(trim(rest.substr(1))));
    }
    return shown;
}

base::value_map table_defaults()
{
    base::value_map m;
    for (const auto& o : base::option_table())
        m.emplace(std::string(o.key), std::string(o.default_value));
    return m;
}

}  // namespace

TEST_CASE("the option table is well-formed", "[config]")
{
    std::set<std::string> seen;
    for (const auto& o : base::option_table()) {
        std::string key(o.key);
        INFO(key);
        CHECK(is_key_form(key));
        CHECK(seen.insert(key).second);
        CHECK_FALSE(o.help.empty());
    }
}

TEST_CASE("build_config with no values gives the documented defaults", "[config]")
{
    auto cfg = build_ok({});
    CHECK(cfg.state_dir == "/srv/mxw/var");
    CHECK_FALSE(cfg.log_syslog);
    CHECK(cfg.listen_policy == *mxw::proto::parse_endpoint("inet:127.0.0.1:10040"));
    CHECK(cfg.listen_control == *mxw::proto::parse_endpoint("unix:/srv/mxw/var/control.sock"));

    // The table's defaults must agree with the struct defaults that code
    // built without a config file (tests, the milter) relies on.
    const mxw::dns::unbound_options dns;
    CHECK(cfg.dns.forwarders == dns.forwarders);
    CHECK(cfg.dns.recursion == dns.recursion);
    CHECK(cfg.dns.resolv_conf == dns.resolv_conf);
    CHECK(cfg.dns.mode == mxw::dns::transport::udp_then_tcp);
    CHECK(cfg.dns.dnssec == dns.dnssec);
    CHECK(cfg.dns.trust_anchor_file == dns.trust_anchor_file);
    CHECK(cfg.dns.transparent_zones == dns.transparent_zones);
    CHECK(cfg.dns.timeout == 4s);
    CHECK(cfg.dns.timeout == dns.timeout);
    CHECK(cfg.dns.max_inflight == dns.max_inflight);

    const mxw::engine::policy_config policy;
    CHECK(cfg.policy.sender_check == policy.sender_check);
    CHECK(cfg.policy.client_check == policy.client_check);
    CHECK(cfg.policy.actions == mxw::engine::default_actions());
    CHECK(cfg.policy.deadline == policy.deadline);
    CHECK(cfg.policy.deadline_action == mxw::engine::action::ignore);
    CHECK(cfg.policy.quarantine_transport == policy.quarantine_transport);
    CHECK(cfg.policy.tag_header == policy.tag_header);
    CHECK(cfg.policy.cache_max_entries == policy.cache_max_entries);
    CHECK(cfg.policy.cache_max_ttl == policy.cache_max_ttl);
    CHECK(cfg.policy.tempfail_ttl == policy.tempfail_ttl);

    const base::config plain;
    CHECK(cfg.policy_max_connections == plain.policy_max_connections);
    CHECK(cfg.policy_idle_timeout == plain.policy_idle_timeout);
}

TEST_CASE("build_config reads valid non-default values", "[config]")
{
    auto cfg = build_ok({
        {"daemon.state-dir", "./state/../lib"},
        {"log.target", "syslog"},
        {"listen.policy", "unix:run/policy.sock"},
        {"listen.control", "inet:[::1]:10041"},
        {"dns.forwarders", "192.0.2.53, 192.0.2.54@5353\t2001:db8::53"},
        {"dns.recursion", "true"},
        {"dns.transport", "tcp-only"},
        {"dns.timeout", "1500ms"},
        {"dns.dnssec", "validate"},
        {"dns.transparent-zones", "10.in-addr.arpa 168.192.in-addr.arpa."},
        {"policy.deadline-action", "defer"},
        {"sender.null-mx", "quarantine"},
        {"client.check", "0"},
        {"routing.mode", "smarthost"},
        {"routing.smarthost", "[Relay.Example.net]:587"},
        {"quarantine.database", "q/store.db"},
        {"quarantine.release-via", "smtp:127.0.0.1:10027"},
    });
    CHECK(cfg.state_dir == "/srv/mxw/lib");
    CHECK(cfg.log_syslog);
    CHECK(cfg.listen_policy.path == "/srv/mxw/run/policy.sock");  // relative to cwd
    CHECK(cfg.listen_control == *mxw::proto::parse_endpoint("inet:[::1]:10041"));
    CHECK(cfg.dns.forwarders == std::vector<std::string>{"192.0.2.53", "192.0.2.54@5353", "2001:db8::53"});
    CHECK(cfg.dns.recursion);
    CHECK(cfg.dns.mode == mxw::dns::transport::tcp_only);
    CHECK(cfg.dns.timeout == 1500ms);
    CHECK(cfg.dns.dnssec);
    CHECK(cfg.dns.transparent_zones == std::vector<std::string>{"10.in-addr.arpa.", "168.192.in-addr.arpa."});
    CHECK(cfg.policy.deadline_action == mxw::engine::action::defer);
    CHECK(cfg.policy.actions[static_cast<std::size_t>(mxw::engine::outcome::null_mx)] ==
          mxw::engine::action::quarantine);
    CHECK_FALSE(cfg.policy.client_check);
    CHECK(cfg.routing.routing_mode == mxw::engine::routing_config::mode::smarthost);
    CHECK(cfg.routing.smarthost == "relay.example.net");
    CHECK(cfg.routing.smarthost_port == 587);
    CHECK(cfg.quarantine.database == "/srv/mxw/q/store.db");
    CHECK(cfg.quarantine.release_via == base::quarantine_settings::release::smtp);
    CHECK(cfg.quarantine.smtp == *mxw::proto::parse_endpoint("inet:127.0.0.1:10027"));
}

TEST_CASE("each invalid value gives one error that starts with its key", "[config]")
{
    struct tcase {
        std::string key;
        std::string value;
    };
    auto c = GENERATE(values<tcase>({
        {"daemon.state-dir", ""},
        {"log.target", "file"},
        {"listen.policy", "inet:localhost:10040"},
        {"listen.policy", "127.0.0.1:10040"},
        {"listen.control", "unix:"},
        {"dns.forwarders", "192.0.2.53 dns.example.org"},
        {"dns.recursion", "maybe"},
        {"dns.transport", "tcp"},
        {"dns.timeout", "4 seconds"},
        {"dns.timeout", "0s"},
        {"dns.dnssec", "on"},
        {"dns.transparent-zones", "10.in-addr.arpa/8"},
        {"dns.max-inflight", "0"},
        {"dns.max-inflight", "100000001"},
        {"policy.deadline", "soon"},
        {"policy.deadline-action", "drop"},
        {"policy.max-connections", "-1"},
        {"policy.idle-timeout", "1y"},
        {"policy.cache-size", "lots"},
        {"policy.cache-max-ttl", ""},
        {"policy.tempfail-ttl", "5x"},
        {"policy.tag-header", "X Mxwarden"},
        {"policy.tag-header", "X-Mxwarden:"},
        {"policy.tag-header", ""},
        {"sender.check", "Y"},
        {"sender.null-mx", "REJECT"},
        {"sender.no-domain", "bounce"},
        {"sender.tempfail", ""},
        {"client.check", "2"},
        {"client.no-ptr", "drop"},
        {"client.not-confirmed", "accept"},
        {"client.tempfail", "retry"},
        {"routing.quarantine-transport", "mxq:"},
        {"routing.mode", "relay"},
        {"routing.steer", "dnsfilter"},
        {"routing.steer", "Transport"},
        {"routing.smarthost", "relay.example.net:smtp"},
        {"routing.smarthost", "[2001:db8::7"},
        {"quarantine.retention", "forever"},
        {"quarantine.release-via", "sendmail"},
        {"quarantine.release-via", "smtp:localhost:25"},
        {"quarantine.max-message-size", "0"},
        {"quarantine.max-size", "10 G"},
        {"quarantine.max-size", "0"},
        {"quarantine.max-size", "-1G"},
        {"feedback.source", "syslog"},
        {"feedback.source", "file:"},
        {"feedback.source", "/var/log/mail.log"},
        {"feedback.failures", "0"},
        {"feedback.failures", "three"},
        {"listen.web", "10044"},
        {"web.session-idle", "500ms"},
        {"web.session-max", "forever"},
        {"web.session-idle", "13h"},
    }));
    INFO(c.key << " = '" << c.value << "'");
    std::vector<std::string> errors;
    CHECK_FALSE(base::build_config({{c.key, c.value}}, cwd, errors).has_value());
    REQUIRE(errors.size() == 1);
    INFO(errors.front());
    CHECK(errors.front().starts_with(c.key + ": "));
}

TEST_CASE("web.*: mxwarden-web's address, users file and login lifetimes", "[config]")
{
    auto def = build_ok({});
    CHECK(def.web.listen == *mxw::proto::parse_endpoint("inet:127.0.0.1:10044"));
    CHECK(def.web.users == "/srv/mxw/var/web-users");
    CHECK(def.web.session_idle == 30min);
    CHECK(def.web.session_max == 12h);
    const base::web_settings plain;
    CHECK(def.web.listen == plain.listen);
    CHECK(def.web.session_idle == plain.session_idle);
    CHECK(def.web.session_max == plain.session_max);

    auto cfg = build_ok({{"daemon.state-dir", "/var/lib/mxwarden"},
                         {"listen.web", "unix:run/web.sock"},
                         {"web.users", "etc/users"},
                         {"web.session-idle", "5m"},
                         {"web.session-max", "5m"}});
    CHECK(cfg.web.listen == *mxw::proto::parse_endpoint("unix:/srv/mxw/run/web.sock"));
    CHECK(cfg.web.users == "/srv/mxw/etc/users");
    CHECK(cfg.web.session_idle == 5min);
    CHECK(cfg.web.session_max == 5min);
    CHECK(build_ok({{"daemon.state-dir", "/var/lib/mxwarden"}}).web.users == "/var/lib/mxwarden/web-users");
    CHECK(base::needs_restart("listen.web"));
}

TEST_CASE("quarantine.max-size takes auto or a size with a binary suffix", "[config]")
{
    std::vector<std::string> errors;
    auto def = base::build_config({}, cwd, errors);
    REQUIRE(def);
    CHECK_FALSE(def->quarantine.max_bytes);  // auto
    auto cfg = base::build_config({{"quarantine.max-size", "500M"}}, cwd, errors);
    REQUIRE(cfg);
    CHECK(cfg->quarantine.max_bytes == 500ULL << 20);

    struct row {
        std::string_view in;
        std::optional<std::uint64_t> want;
    };
    for (auto [in, want] : std::initializer_list<row>{
             {"4096", 4096},
             {"1k", 1024},
             {"10G", 10ULL << 30},
             {"2T", 2ULL << 40},
             {"4194304T", 1ULL << 62},  // the largest accepted
             {"4194305T", std::nullopt},
             {"18446744073709551616", std::nullopt},  // past 64 bits
             {"", std::nullopt},
             {"G", std::nullopt},
             {"0M", std::nullopt},
             {"1GB", std::nullopt},
             {"1.5G", std::nullopt},
             {" 1G", std::nullopt},
         }) {
        INFO("'" << in << "'");
        CHECK(base::parse_size(in) == want);
    }
}

TEST_CASE("routing.steer chooses the transport map or the DNS reply filter", "[config]")
{
    std::vector<std::string> errors;
    auto def = base::build_config({}, cwd, errors);
    REQUIRE(def);
    CHECK(def->routing.steer == base::steer_mode::transport);
    auto filter = base::build_config({{"routing.steer", "dns-filter"}}, cwd, errors);
    REQUIRE(filter);
    CHECK(filter->routing.steer == base::steer_mode::dns_filter);
    // The rest of routing is read as before: the filter still needs the
    // same health and address rules.
    CHECK(filter->routing.routing_mode == mxw::engine::routing_config::mode::mx);
    CHECK(errors.empty());

    CHECK_FALSE(base::build_config({{"routing.steer", "dns"}}, cwd, errors).has_value());
    REQUIRE(errors.size() == 1);
    CHECK(errors.front() == "routing.steer: 'dns' is not transport or dns-filter");
}

TEST_CASE("feedback.source: none, the journal or a maillog_file", "[config]")
{
    std::vector<std::string> errors;
    auto def = base::build_config({}, cwd, errors);
    REQUIRE(def);
    CHECK(def->feedback.source == base::feedback_settings::kind::none);
    CHECK(def->health.delivery_failures == 1);
    auto j = base::build_config({{"feedback.source", "journal"}, {"feedback.failures", "3"}}, cwd, errors);
    REQUIRE(j);
    CHECK(j->feedback.source == base::feedback_settings::kind::journal);
    CHECK(j->health.delivery_failures == 3);
    auto f = base::build_config({{"feedback.source", "file:log/mail.log"}}, "/srv", errors);
    REQUIRE(f);
    CHECK(f->feedback.source == base::feedback_settings::kind::file);
    CHECK(f->feedback.path == "/srv/log/mail.log");
    CHECK(errors.empty());
}

TEST_CASE("listen.web and web.users: loopback by default, the user file in the state directory", "[config]")
{
    auto def = build_ok({});
    CHECK(def.web.listen == *mxw::proto::parse_endpoint("inet:127.0.0.1:10044"));
    CHECK(def.web.listen == base::config{}.web.listen);
    CHECK(def.web.users == "/srv/mxw/var/web-users");
    auto set = build_ok({{"listen.web", "unix:run/web.sock"}, {"web.users", "etc/users"}});
    CHECK(set.web.listen == *mxw::proto::parse_endpoint("unix:/srv/mxw/run/web.sock"));
    CHECK(set.web.users == "/srv/mxw/etc/users");
    std::vector<std::string> errors;
    CHECK_FALSE(base::build_config({{"listen.web", "localhost:10044"}}, cwd, errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].starts_with("listen.web: "));
}

TEST_CASE("store.url takes a PostgreSQL URI or connection string; store.node a plain name", "[config]")
{
    std::vector<std::string> errors;
    auto def = base::build_config({}, cwd, errors);
    REQUIRE(def);
    CHECK(def->store.url.empty());
    CHECK_FALSE(def->store.node.empty());  // the host name
    for (const char* url : {"postgresql://mxwarden@db.example.net/mxwarden", "postgres://db/mxw",
                            "host=/run/postgresql dbname=mxwarden"}) {
        auto c = base::build_config({{"store.url", url}, {"store.node", "mta-2.example.net"}}, cwd, errors);
        REQUIRE(c);
        CHECK(c->store.url == url);
        CHECK(c->store.node == "mta-2.example.net");
    }
    CHECK(errors.empty());
    CHECK_FALSE(base::build_config({{"store.url", "mysql://db/mxw"}}, cwd, errors));
    CHECK_FALSE(base::build_config({{"store.node", "a b"}}, cwd, errors));
    CHECK_FALSE(base::build_config({{"store.node", std::string(65, 'n')}}, cwd, errors));
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].starts_with("store.url: 'mysql://db/mxw' is not a PostgreSQL URI"));
    CHECK(errors[1].starts_with("store.node: 'a b' must be"));
}

TEST_CASE("smart host mode without a smart host names the missing key", "[config]")
{
    std::vector<std::string> errors;
    CHECK_FALSE(base::build_config({{"routing.mode", "smarthost"}}, cwd, errors).has_value());
    REQUIRE(errors.size() == 1);
    CHECK(errors.front() == "routing.smarthost: '' must be set when routing.mode = smarthost");
}

TEST_CASE("load_values reads an INI file and lays overrides on top", "[config][file]")
{
    temp_dir dir;
    std::string file = dir.write("mxwarden.conf", "# comment\n\n[dns]\ntransport = tcp-only\ntimeout=2s\n"
                                                  "[policy]\n  tag-header =  X-Test  \n");
    auto got = base::load_values(file, {});
    CHECK(got.errors.empty());
    CHECK(got.file == file);
    auto want = table_defaults();
    want["dns.transport"] = "tcp-only";
    want["dns.timeout"] = "2s";
    want["policy.tag-header"] = "X-Test";
    CHECK(got.values == want);

    auto over = base::load_values(file, {{"dns.timeout", "3s"}, {"log.target", "syslog"}});
    CHECK(over.errors.empty());
    want["dns.timeout"] = "3s";
    want["log.target"] = "syslog";
    CHECK(over.values == want);
}

TEST_CASE("load_values names what is wrong", "[config][file]")
{
    temp_dir dir;
    SECTION("unknown key in the file")
    {
        auto got = base::load_values(dir.write("a.conf", "[dns]\ntransport = tcp-only\nfoo = 1\n"), {});
        REQUIRE(got.errors.size() == 1);
        CHECK_THAT(got.errors.front(), Catch::Contains("dns.foo"));
    }
    SECTION("line without '='")
    {
        std::string file = dir.write("b.conf", "[dns]\ntransport tcp-only\n");
        auto got = base::load_values(file, {});
        REQUIRE(got.errors.size() == 1);
        CHECK(got.errors.front().starts_with(file + ": "));
    }
    SECTION("unknown override key")
    {
        auto got = base::load_values(dir.write("c.conf", ""), {{"dns.foo", "1"}});
        REQUIRE(got.errors.size() == 1);
        CHECK(got.errors.front().starts_with("--dns.foo: "));
    }
    SECTION("missing file")
    {
        std::string file = (dir.path() / "missing.conf").string();
        auto got = base::load_values(file, {});
        REQUIRE(got.errors.size() == 1);
        CHECK(got.errors.front().starts_with(file + ": "));
    }
}

TEST_CASE("format_config output reads back to the same values", "[config][file]")
{
    auto values = table_defaults();
    SECTION("defaults") {}
    SECTION("changed values, lists and empty ones")
    {
        values["daemon.state-dir"] = "/var/lib/mxwarden";
        values["listen.policy"] = "unix:/run/mxwarden/policy.sock";
        values["listen.control"] = "";
        values["dns.forwarders"] = "192.0.2.53 192.0.2.54@5353";
        values["dns.transport"] = "udp-only";
        values["policy.tag-header"] = "X-Test";
    }
    std::string text = base::format_config(values);
    temp_dir dir;
    auto got = base::load_values(dir.write("round.conf", text), {});
    INFO(text);
    CHECK(got.errors.empty());
    CHECK(got.values == values);
    CHECK(build_ok(got.values).dns.forwarders.size() == (values["dns.forwarders"].empty() ? 0u : 2u));
}

TEST_CASE("the sample-config reader finds commented keys under their section", "[config][sample]")
{
    std::istringstream in("# mxwarden.conf: prose, with a colon: and an = sign\n"
                          "[dns]\n"
                          "# where to ask\n"
                          "#forwarders =\n"
                          "#  transport = udp-then-tcp  \n"
                          "#transport = tcp-only\n"
                          "timeout = 4s\n"
                          "\n"
                          "[policy]\n"
                          "#tag-header = X-Mxwarden\n");
    auto shown = sample_keys(in);
    CHECK(shown == std::map<std::string, std::string>{{"dns.forwarders", ""},
                                                      {"dns.timeout", "4s"},
                                                      {"dns.transport", "udp-then-tcp"},
                                                      {"policy.tag-header", "X-Mxwarden"}});
}

TEST_CASE("packaging/mxwarden.conf documents every key with its default", "[config][sample]")
{
    const fs::path sample = fs::path(MXW_SOURCE_DIR) / "packaging" / "mxwarden.conf";
    std::ifstream in(sample);
    INFO(sample.string());
    REQUIRE(in.good());

    auto shown = sample_keys(in);

    std::set<std::string> in_sample, in_table;
    for (const auto& [k, v] : shown)
        in_sample.insert(k);
    for (const auto& o : base::option_table())
        in_table.insert(std::string(o.key));
    CHECK(in_sample == in_table);

    for (const auto& o : base::option_table()) {
        auto it = shown.find(std::string(o.key));
        if (it == shown.end())
            continue;  // reported by the set comparison above
        INFO(o.key);
        CHECK(it->second == o.default_value);
    }
}

TEST_CASE("TTLs kept in whole seconds refuse sub-second values", "[config]")
{
    for (const char* key : {"policy.cache-max-ttl", "policy.tempfail-ttl"}) {
        std::vector<std::string> errors;
        base::value_map v{{key, "500ms"}};
        CHECK_FALSE(base::build_config(v, "/tmp", errors).has_value());
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].starts_with(std::string(key) + ": '500ms' must be at least 1s"));
    }
}

TEST_CASE("the default deadlines run in order: daemon, then milter, then the MTA", "[config][warnings]")
{
    auto cfg = build_ok({});
    // The daemon's fail-open answer must reach the milter before the
    // milter's own deadline, and the milter must answer before Sendmail's
    // default milter read timeout (T=R:10s) skips or tempfails it.
    CHECK(cfg.policy.deadline + base::milter_deadline_margin <= cfg.milter.timeout);
    CHECK(cfg.milter.timeout < base::mta_milter_read_timeout);
    CHECK(base::config_warnings(cfg).empty());
}

TEST_CASE("config_warnings names deadlines that work against each other", "[config][warnings]")
{
    struct row {
        const char* label;
        base::value_map values;
        std::vector<std::string> starts;  // one per expected warning
    };
    const std::vector<row> rows = {
        {"the old defaults: 9s over 8s", {{"policy.deadline", "9s"}, {"milter.timeout", "8s"}},
         {"policy.deadline (9s) is not at least 1s below milter.timeout (8s)"}},
        {"equal", {{"policy.deadline", "8s"}, {"milter.timeout", "8s"}},
         {"policy.deadline (8s) is not at least 1s below milter.timeout (8s)"}},
        {"inside the margin", {{"policy.deadline", "7500ms"}, {"milter.timeout", "8s"}},
         {"policy.deadline (7500ms) is not at least 1s below milter.timeout (8s)"}},
        {"exactly the margin", {{"policy.deadline", "7s"}, {"milter.timeout", "8s"}}, {}},
        {"milter at Sendmail's read timeout", {{"policy.deadline", "5s"}, {"milter.timeout", "10s"}},
         {"milter.timeout (10s) is not below Sendmail's default milter read timeout (T=R:10s)"}},
        {"both", {{"policy.deadline", "20s"}, {"milter.timeout", "12s"}},
         {"policy.deadline (20s)", "milter.timeout (12s)"}},
        {"dns-filter with a smart host",
         {{"routing.steer", "dns-filter"}, {"routing.mode", "smarthost"}, {"routing.smarthost", "relay.example.net"}},
         {"routing.steer = dns-filter does nothing with routing.mode = smarthost"}},
        {"dns-filter with MX routing", {{"routing.steer", "dns-filter"}}, {}},
    };
    for (const auto& r : rows) {
        INFO(r.label);
        auto warnings = base::config_warnings(build_ok(r.values));
        REQUIRE(warnings.size() == r.starts.size());
        for (std::size_t i = 0; i < warnings.size(); ++i)
            CHECK(warnings[i].starts_with(r.starts[i]));
    }
}
