// Tests for proto/postfix_log: the Postfix smtp client log decoder behind the
// health source `delivery` (issue 11). The outcomes come from real Postfix
// 3.7 logs in tests/unit/data/postfix_log/, one file per fake next hop
// (tests/integration/capture_postfix_log.sh made them); the rest are the
// syslog shapes, the journal input, the caps and malformed lines.
#include "proto/postfix_log.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using mxw::proto::delivery_event;
using mxw::proto::delivery_outcome;
namespace proto = mxw::proto;
namespace fs = std::filesystem;

namespace {

struct want {
    delivery_outcome outcome;
    std::string host;
    std::string address;
    std::string stage;
};

std::vector<std::string> fixture_lines(const std::string& name)
{
    std::ifstream in(fs::path(MXW_SOURCE_DIR) / "tests" / "unit" / "data" / "postfix_log" / (name + ".log"));
    REQUIRE(in);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line.front() != '#')
            lines.push_back(line);
    REQUIRE(!lines.empty());
    return lines;
}

std::optional<delivery_event> parse_line(std::string_view line)
{
    auto s = proto::split_syslog_line(line);
    if (!s)
        return std::nullopt;
    return proto::parse_smtp_message(s->program, s->message);
}

std::optional<delivery_event> smtp(std::string_view message)
{
    return proto::parse_smtp_message("postfix/smtp", message);
}

}  // namespace

TEST_CASE("postfix_log: every outcome from real Postfix 3.7 log lines", "[postfix_log]")
{
    using o = delivery_outcome;
    struct fixture {
        std::string name;  // the smtp_peers.py mode, or the DNS case, that produced the file
        std::vector<want> events;
    };
    const std::vector<fixture> fixtures = {
        {"ok", {{o::sent, "127.0.0.31", "127.0.0.31", ""}}},
        {"starttls", {{o::sent, "127.0.0.30", "127.0.0.30", ""}}},
        // The "connect to" line counts; the status line that follows says relay=none.
        {"refused", {{o::refused, "127.0.0.32", "127.0.0.32", "connect"}}},
        {"silent", {{o::greeting_timeout, "127.0.0.21", "127.0.0.21", "greeting"}}},
        {"greet421", {{o::greeting_4xx, "127.0.0.22", "127.0.0.22", "greeting"}}},
        {"greet554", {{o::greeting_5xx, "127.0.0.23", "127.0.0.23", "greeting"}}},
        {"reset", {{o::lost, "127.0.0.24", "127.0.0.24", "greeting"}}},
        {"hang-ehlo", {{o::timeout, "127.0.0.25", "127.0.0.25", "ehlo"}}},
        // The "SSL_connect error" line counts; "Cannot start TLS" names no host.
        {"reset-starttls", {{o::tls_failure, "127.0.0.26", "127.0.0.26", "tls"}}},
        {"mail421", {{o::lost, "127.0.0.27", "127.0.0.27", "mail"}}},
        {"drop-data", {{o::lost, "127.0.0.28", "127.0.0.28", "end-of-data"}}},
        // A 550 to RCPT is about the recipient; the host answered.
        {"rcpt550", {}},
        // The only MX fails: its trouble is only in the status=deferred line.
        {"dns-silent-only", {{o::greeting_timeout, "mx1.mxw.test", "127.0.0.2", "greeting"}}},
        // The first MX fails and Postfix moves on: a line of its own, then sent via mx2.
        {"dns-silent-then-ok",
         {{o::greeting_timeout, "mx1.mxw.test", "127.0.0.2", "greeting"}, {o::sent, "mx2.mxw.test", "127.0.0.3", ""}}},
    };
    for (const auto& f : fixtures) {
        SECTION(f.name)
        {
            std::vector<delivery_event> got;
            for (const auto& line : fixture_lines(f.name)) {
                INFO(line);
                auto s = proto::split_syslog_line(line);
                REQUIRE(s);  // every maillog_file line has the syslog shape
                auto ev = proto::parse_smtp_message(s->program, s->message);
                if (!ev)
                    continue;
                CHECK(s->program.ends_with("/smtp"));
                // Only the connect and TLS lines come before Postfix knows a queue ID.
                bool before_queue_id = s->message.starts_with("connect to ") || s->message.starts_with("SSL_connect");
                CHECK(ev->queue_id.empty() == before_queue_id);
                CHECK(ev->port == 25);
                CHECK(!ev->detail.empty());
                got.push_back(*ev);
            }
            REQUIRE(got.size() == f.events.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                CHECK(got[i].outcome == f.events[i].outcome);
                CHECK(got[i].host == f.events[i].host);
                CHECK(got[i].address == f.events[i].address);
                CHECK(got[i].stage == f.events[i].stage);
            }
        }
    }
}

TEST_CASE("postfix_log: the fields of a status=sent line", "[postfix_log]")
{
    auto ev = parse_line("Dec  6 07:00:00 host postfix/smtp[123]: 3F1A2B4C5D: to=<a@b.example>, "
                         "relay=MX.Example.COM[192.0.2.1]:2525, conn_use=2, delay=1.2, delays=0.01/0/0.5/0.7, "
                         "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)");
    REQUIRE(ev);
    CHECK(ev->outcome == delivery_outcome::sent);
    CHECK(ev->host == "mx.example.com");
    CHECK(ev->address == "192.0.2.1");
    CHECK(ev->port == 2525);
    CHECK(ev->stage.empty());
    CHECK(ev->queue_id == "3F1A2B4C5D");
    CHECK(ev->detail == "250 2.0.0 Ok: queued as X");
}

TEST_CASE("postfix_log: split_syslog_line shapes", "[postfix_log]")
{
    struct row {
        std::string label, line, program, message;
    };
    const std::vector<row> ok = {
        {"RFC 3164, day padded with a space", "Dec  6 07:00:00 mx postfix/smtp[123]: ABC: text", "postfix/smtp",
         "ABC: text"},
        {"maillog_file, day with a zero", "Dec 06 19:53:11 mta postfix/relay/smtp[28200]: x", "postfix/relay/smtp",
         "x"},
        {"RFC 3339", "2024-12-06T07:00:00.123456+01:00 mx postfix-out/smtp[9]: connect to", "postfix-out/smtp",
         "connect to"},
        {"no pid", "Dec 16 07:00:00 mx postfix/smtp: hello", "postfix/smtp", "hello"},
        {"trailing LF", "Dec 16 07:00:00 mx postfix/smtp[1]: hello\n", "postfix/smtp", "hello"},
    };
    for (const auto& r : ok) {
        INFO(r.label);
        auto s = proto::split_syslog_line(r.line);
        REQUIRE(s);
        CHECK(s->program == r.program);
        CHECK(s->message == r.message);
    }
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"empty", ""},
        {"only a timestamp", "Dec  6 07:00:00"},
        {"no host", "Dec  6 07:00:00 postfix/smtp[1]:"},
        {"no colon after the tag", "Dec  6 07:00:00 mx postfix/smtp[1] hello"},
        {"pid not a number", "Dec  6 07:00:00 mx postfix/smtp[1x]: hello"},
        {"pid not closed", "Dec  6 07:00:00 mx postfix/smtp[1: hello"},
        {"bad month", "December 6 07:00:00 mx postfix/smtp[1]: hello"},
        {"bad RFC 3339", "2024/12/06 mx postfix/smtp[1]: hello"},
        {"bad time", "Dec  6 0700 mx postfix/smtp[1]: hello"},
    };
    for (const auto& [label, line] : bad) {
        INFO(label);
        CHECK_FALSE(proto::split_syslog_line(line));
    }
}

TEST_CASE("postfix_log: journal input and which programs are read", "[postfix_log]")
{
    const std::string msg = "connect to mx[192.0.2.1]:25: Connection refused";
    for (std::string_view program : {"postfix/smtp", "postfix-out/smtp", "postfix/relay/smtp", "postfix/mxw/smtp"}) {
        INFO(program);
        auto ev = proto::parse_smtp_message(program, msg);
        REQUIRE(ev);
        CHECK(ev->outcome == delivery_outcome::refused);
    }
    for (std::string_view program : {"postfix/smtpd", "postfix/lmtp", "postfix/qmgr", "smtp", "/smtp", "postfix/smtp2",
                                     "postfix/smtp/x", ""}) {
        INFO(program);
        CHECK_FALSE(proto::parse_smtp_message(program, msg));
    }
    CHECK_FALSE(parse_line("Dec  6 07:00:00 mx postfix/qmgr[5]: ABC: from=<a@b>, size=1, nrcpt=1 (queue active)"));
    CHECK_FALSE(parse_line("Dec  6 07:00:00 mx postfix/smtpd[5]: connect to mx[192.0.2.1]:25: Connection refused"));
}

TEST_CASE("postfix_log: trouble messages", "[postfix_log]")
{
    using o = delivery_outcome;
    struct row {
        std::string message;
        o outcome;
        std::string address;
        std::uint16_t port;
        std::string stage;
    };
    const std::vector<row> rows = {
        {"connect to mx[2001:DB8::1]:25: Connection timed out", o::connect_timeout, "2001:db8::1", 25, "connect"},
        {"connect to mx[2001:db8::1]:587: Connection refused", o::refused, "2001:db8::1", 587, "connect"},
        {"ABC: conversation with mx[2001:db8::2] timed out while receiving the initial server greeting",
         o::greeting_timeout, "2001:db8::2", 25, "greeting"},
        {"ABC: conversation with mx[192.0.2.1]:2525 timed out while sending MAIL FROM", o::timeout, "192.0.2.1", 2525,
         "mail"},
        {"ABC: conversation with mx[192.0.2.1] timed out after STARTTLS", o::timeout, "192.0.2.1", 25, "starttls"},
        {"ABC: conversation with mx[192.0.2.1] timed out while sending message body", o::timeout, "192.0.2.1", 25,
         "data"},
        {"ABC: lost connection with mx[192.0.2.1] after EHLO", o::lost, "192.0.2.1", 25, "ehlo"},
        {"ABC: lost connection with mx[192.0.2.1] while performing the EHLO handshake", o::lost, "192.0.2.1", 25,
         "ehlo"},
        {"ABC: lost connection with mx[192.0.2.1] while sending RCPT TO", o::lost, "192.0.2.1", 25, "rcpt"},
        {"ABC: host mx[192.0.2.1] said: 421 4.7.0 bye (in reply to RCPT TO command)", o::lost, "192.0.2.1", 25,
         "rcpt"},
        {"ABC: host mx[192.0.2.1] said: 421 4.7.0 bye (in reply to end of DATA command)", o::lost, "192.0.2.1", 25,
         "end-of-data"},
        {"ABC: host mx[192.0.2.1] said: 454 4.7.0 TLS not available (in reply to STARTTLS command)", o::tls_failure,
         "192.0.2.1", 25, "starttls"},
        {"ABC: host mx[192.0.2.1] refused to talk to me: 421 busy", o::greeting_4xx, "192.0.2.1", 25, "greeting"},
        {"SSL_connect error to mx[2001:db8::3]:25: -1", o::tls_failure, "2001:db8::3", 25, "tls"},
    };
    for (const auto& r : rows) {
        INFO(r.message);
        auto ev = smtp(r.message);
        REQUIRE(ev);
        CHECK(ev->outcome == r.outcome);
        CHECK(ev->host == "mx");
        CHECK(ev->address == r.address);
        CHECK(ev->port == r.port);
        CHECK(ev->stage == r.stage);
    }
}

TEST_CASE("postfix_log: lines that are no host failure, or not well formed", "[postfix_log]")
{
    const std::vector<std::string> none = {
        "connect to mx[192.0.2.1]:25: Network is unreachable",
        "connect to mx[192.0.2.1]:25: No route to host",
        "connect to mx[999.0.2.1]:25: Connection refused",
        "connect to mx[192.0.2.1]:0: Connection refused",
        "connect to mx[192.0.2.1]:65536: Connection refused",
        "connect to mx[192.0.2.1:25: Connection refused",
        "connect to m x[192.0.2.1]:25: Connection refused",
        "connect to [192.0.2.1]:25: Connection refused",
        "ABC: host mx[192.0.2.1] said: 450 4.2.0 busy (in reply to RCPT TO command)",
        "ABC: host mx[192.0.2.1] said: 552 too big (in reply to end of DATA command)",
        "ABC: host mx[192.0.2.1] said: 421 bye (in reply to QUIT command)",
        "ABC: host mx[192.0.2.1] said: 421 bye",
        "ABC: host mx[192.0.2.1] refused to talk to me: 250 what",
        "ABC: lost connection with mx[192.0.2.1] while sending QUIT",
        "ABC: conversation with mx[192.0.2.1] timed out",
        "ABC: Cannot start TLS: handshake failure",
        "warning: connect to mx[192.0.2.1]:25: Connection refused",
        "ABC: to=<a@b>, relay=none, delay=1, delays=1/0/0/0, dsn=4.4.1, status=deferred (connect to "
        "mx[192.0.2.1]:25: Connection refused)",
        "ABC: to=<a@b>, relay=mx[192.0.2.1]:25, delay=1, delays=1/0/0/0, dsn=4.7.5, status=deferred (Cannot start "
        "TLS: handshake failure)",
        // The reason names another address than the relay.
        "ABC: to=<a@b>, relay=mx[192.0.2.1]:25, delay=1, delays=1/0/0/0, dsn=4.4.2, status=deferred (lost "
        "connection with mx[192.0.2.9] while receiving the initial server greeting)",
        "ABC: to=<a@b>, relay=mx[192.0.2.1]:25, delay=1, delays=1/0/0/0, dsn=2.0.0, status=expired (x)",
        "ABC: to=<a@b>, relay=mx[192.0.2.1]:25, delay=1, delays=1/0/0, dsn=2.0.0, status=sent (250 ok)",
        "ABC: to=<a@b>, relay=mx[192.0.2.1]:25, delay=1, delays=1/0/0/0, dsn=2.0.0, status=sent (250 ok",
        // A recipient address that imitates the fields makes the line ambiguous.
        "ABC: to=<\"x, relay=ok[192.0.2.7]:25, delay=1, delays=1/0/0/0, dsn=2.0.0, status=sent (\"@b>, "
        "relay=mx[192.0.2.1]:25, delay=1, delays=1/0/0/0, dsn=4.4.2, status=deferred (lost connection with "
        "mx[192.0.2.1] while receiving the initial server greeting)",
        "",
        "ABC: ",
        "to=<",
    };
    for (const auto& m : none) {
        INFO(m);
        CHECK_FALSE(smtp(m));
    }
}

TEST_CASE("postfix_log: caps", "[postfix_log]")
{
    const std::string head = "Dec  6 07:00:00 mx postfix/smtp[1]: ABC: host mx[192.0.2.1] said: 421 ";
    const std::string tail = " (in reply to MAIL FROM command)";
    auto line_of = [&](std::size_t size) { return head + std::string(size - head.size() - tail.size(), 'x') + tail; };

    auto at_limit = parse_line(line_of(proto::max_postfix_log_line_bytes));
    REQUIRE(at_limit);
    CHECK(at_limit->detail.size() == 512);  // the detail is capped, the line is not refused
    CHECK_FALSE(proto::split_syslog_line(line_of(proto::max_postfix_log_line_bytes + 1)));
    std::string message(proto::max_postfix_log_line_bytes + 1, 'x');
    CHECK_FALSE(smtp(message));

    CHECK(smtp("connect to " + std::string(255, 'a') + "[192.0.2.1]:25: Connection refused"));
    CHECK_FALSE(smtp("connect to " + std::string(256, 'a') + "[192.0.2.1]:25: Connection refused"));
    CHECK(smtp(std::string(32, 'A') + ": lost connection with mx[192.0.2.1] after EHLO")->queue_id.size() == 32);
    CHECK_FALSE(smtp(std::string(33, 'A') + ": lost connection with mx[192.0.2.1] after EHLO"));
    const std::string program = std::string(123, 'p') + "/smtp";
    CHECK(proto::parse_smtp_message(program, "connect to mx[192.0.2.1]:25: Connection refused"));
    CHECK_FALSE(proto::parse_smtp_message("p" + program, "connect to mx[192.0.2.1]:25: Connection refused"));
}

TEST_CASE("postfix_log: every truncation of real lines and embedded NULs", "[postfix_log]")
{
    for (const char* name : {"dns-silent-then-ok", "drop-data", "reset-starttls", "refused"}) {
        for (const auto& line : fixture_lines(name)) {
            for (std::size_t n = 0; n <= line.size(); ++n) {
                auto ev = parse_line(std::string_view(line).substr(0, n));
                if (ev) {
                    CHECK(!ev->address.empty());
                    CHECK(ev->detail.size() <= 512);
                }
            }
            std::string with_nul = line;
            with_nul.insert(with_nul.find('[', with_nul.find("]: ")) + 2, 1, '\0');
            CHECK_FALSE(parse_line(with_nul));
        }
    }
}

TEST_CASE("postfix_log: outcome names", "[postfix_log]")
{
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < proto::delivery_outcome_count; ++i)
        names.insert(proto::to_string(static_cast<delivery_outcome>(i)));
    CHECK(names.size() == proto::delivery_outcome_count);
    CHECK(proto::to_string(delivery_outcome::greeting_timeout) == "greeting-timeout");
}
