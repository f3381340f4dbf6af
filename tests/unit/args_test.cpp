// Tests for base/args: the one command-line parser of mxwardend, the
// mxwarden CLI and its verbs, and mxwarden-milter: declared options, the
// shared -c FILE and --section.key=value arguments, positional arguments,
// "--", stopping at a verb, and the errors.
#include "base/args.hpp"
#include "base/config.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace mxw;

namespace {

constexpr base::arg_option daemon_flags[] = {{"-h"}, {"--help"}, {"--version"}, {"--check-config"}, {"--json"}};
constexpr base::arg_option ingest_options[] = {
    {"--reason", base::takes_value}, {"--sender", base::takes_value}, {"-f", base::takes_value},
    {"--name", base::takes_value}, {"--dry-run"},
};

base::parsed_args parse(std::vector<std::string_view> args, std::span<const base::arg_option> options = daemon_flags,
                        base::config_args config = base::config_args::all)
{
    return base::parse_args(args, {options, config});
}

}  // namespace

TEST_CASE("parse_args splits config file, overrides, options and positional arguments", "[args]")
{
    CHECK(parse({"-c", "/etc/x.conf"}).config_file == "/etc/x.conf");
    CHECK(parse({"--config", "/etc/x.conf"}).config_file == "/etc/x.conf");
    CHECK(parse({"--config=/etc/y.conf"}).config_file == "/etc/y.conf");

    auto a = parse({"--dns.transport=tcp-only", "--dns.timeout", "3s", "--json", "status", "example.org", "-h",
                    "--version", "--check-config"});
    CHECK(a.errors.empty());
    CHECK(a.overrides == base::value_map{{"dns.timeout", "3s"}, {"dns.transport", "tcp-only"}});
    CHECK(a.options == std::vector<std::pair<std::string, std::string>>{
                           {"--json", ""}, {"-h", ""}, {"--version", ""}, {"--check-config", ""}});
    CHECK(a.has("--json"));
    CHECK_FALSE(a.has("--help"));
    CHECK(a.positional == std::vector<std::string>{"status", "example.org"});
    CHECK(a.rest == 9);

    // The last of a repeated override wins, as in the file.
    CHECK(parse({"--dns.timeout=1s", "--dns.timeout=2s"}).overrides.at("dns.timeout") == "2s");
    // An empty value is passed on; build_config judges it.
    CHECK(parse({"--listen.control="}).overrides.at("listen.control").empty());
    // A value is the next argument, whatever it looks like.
    CHECK(parse({"--dns.timeout", "--json"}).overrides.at("dns.timeout") == "--json");
}

TEST_CASE("parse_args takes values attached or separate, and repeated", "[args]")
{
    auto a = parse({"--reason=dns", "--sender", "-x@example.org", "--name", "a.example", "--name=b.example",
                    "--dry-run", "rcpt@example.org"},
                   ingest_options);
    REQUIRE(a.errors.empty());
    CHECK(*a.value("--reason") == "dns");
    CHECK(*a.value("--sender") == "-x@example.org");
    CHECK(*a.value("--name") == "b.example");
    CHECK(a.values("--name") == std::vector<std::string>{"a.example", "b.example"});
    CHECK(a.value("--queue-id") == nullptr);
    CHECK(a.values("--queue-id").empty());
    CHECK(a.has("--dry-run"));
    CHECK(a.positional == std::vector<std::string>{"rcpt@example.org"});

    // Sendmail's prog mailer: -fSENDER or -f SENDER.
    CHECK(*parse({"-fa@example.org"}, ingest_options).value("-f") == "a@example.org");
    CHECK(*parse({"-f", "<>"}, ingest_options).value("-f") == "<>");
    CHECK(*parse({"--sender="}, ingest_options).value("--sender") == "");
}

TEST_CASE("parse_args: \"--\" ends the options, \"-\" and \"\" are positional", "[args]")
{
    auto a = parse({"--dry-run", "-", "", "--", "--sender", "-oQ/tmp", "--"}, ingest_options);
    REQUIRE(a.errors.empty());
    CHECK(a.has("--dry-run"));
    CHECK_FALSE(a.has("--sender"));
    CHECK(a.positional == std::vector<std::string>{"-", "", "--sender", "-oQ/tmp", "--"});
}

TEST_CASE("parse_args stops at the first positional argument when asked", "[args]")
{
    std::vector<std::string_view> args{"-c", "x.conf", "--dns.timeout", "3s", "doctor", "--name", "example.org"};
    auto a = base::parse_args(args, {daemon_flags, base::config_args::all, true});
    CHECK(a.errors.empty());
    CHECK(a.rest == 4);
    CHECK(a.config_file == "x.conf");
    CHECK(a.overrides.at("dns.timeout") == "3s");
    CHECK(a.positional.empty());
    CHECK(a.options.empty());

    std::vector<std::string_view> none{"--json"};
    CHECK(base::parse_args(none, {daemon_flags, base::config_args::all, true}).rest == 1);
}

TEST_CASE("parse_args names what is wrong", "[args]")
{
    struct tcase {
        std::vector<std::string_view> args;
        base::config_args config;
        std::string error;
    };
    auto c = GENERATE(values<tcase>({
        {{"--bogus"}, base::config_args::all, "unknown option --bogus"},
        {{"--bogus=1"}, base::config_args::all, "unknown option --bogus=1"},
        {{"-x"}, base::config_args::all, "unknown option -x"},
        {{"-hx"}, base::config_args::all, "unknown option -hx"},
        {{"--json=yes"}, base::config_args::all, "--json takes no value"},
        {{"--reason"}, base::config_args::all, "--reason needs a value"},
        {{"-f"}, base::config_args::all, "-f needs a value"},
        {{"-c"}, base::config_args::all, "-c needs a value"},
        {{"--config"}, base::config_args::all, "--config needs a value"},
        {{"--dns.timeout"}, base::config_args::all, "--dns.timeout needs a value"},
        // A verb's arguments: -c FILE goes before the verb.
        {{"-c", "x.conf"}, base::config_args::overrides, "unknown option -c"},
        {{"--dns.timeout=1s"}, base::config_args::none, "unknown option --dns.timeout=1s"},
        // Text from the command line is made safe to print.
        {{"--a\nb"}, base::config_args::all, "unknown option --a\\x0ab"},
    }));
    constexpr base::arg_option options[] = {{"--json"}, {"--reason", base::takes_value}, {"-f", base::takes_value}};
    auto a = base::parse_args(c.args, {options, c.config});
    REQUIRE(a.errors.size() == 1);
    CHECK(a.errors.front() == c.error);
}

TEST_CASE("override keys are checked where the file's keys are", "[args][config]")
{
    for (std::vector<std::string_view> args : {std::vector<std::string_view>{"--foo.bar=1"},
                                               std::vector<std::string_view>{"--dns.nonsense", "x"}}) {
        auto a = parse(args);
        REQUIRE(a.errors.empty());
        auto loaded = base::load_values("/dev/null", a.overrides);
        REQUIRE(loaded.errors.size() == 1);
        INFO(loaded.errors.front());
        CHECK(loaded.errors.front().starts_with(std::string(args.front().substr(0, args.front().find('=')))));
    }
}
