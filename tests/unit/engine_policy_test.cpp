// The policy engine: actions and reply texts, caching by TTL, per-message
// tagging, protocol states, and the request deadline.
#include "engine/policy_engine.hpp"
#include "engine/report.hpp"
#include "support/scripted_resolver.hpp"

using namespace mxw;
using dns::rrtype;
using dns::status;
using engine::action;
using engine::outcome;

namespace {

struct fixture {
    test::manual_clock clock;
    test::scripted_resolver r{&clock};
    engine::policy_config cfg = [] {
        engine::policy_config c;
        c.actions = engine::default_actions();
        return c;
    }();

    fixture()
    {
        // Client 192.0.2.7 is verified by Postfix in most requests below.
        r.mx("good.example", {{10, "mx.good.example"}}, 300);
        r.mx("nullmx.example", {{0, ""}});
        r.answer("gone.example", rrtype::mx, status::nxdomain);
        r.answer("flaky.example", rrtype::mx, status::servfail);
        r.answer("20.2.0.192.in-addr.arpa", rrtype::ptr, status::nxdomain);
    }

    static proto::policy_request req(std::string sender, std::string state = "RCPT", std::string instance = "i1")
    {
        proto::policy_request q;
        q.protocol_state = std::move(state);
        q.sender = std::move(sender);
        q.client_address = "192.0.2.7";
        q.client_name = "mail.client.example";
        q.reverse_client_name = "mail.client.example";
        q.instance = std::move(instance);
        q.queue_id = "4ABC";
        return q;
    }

    engine::decision decide(engine::policy_engine& e, const proto::policy_request& q, engine::session_state& st)
    {
        return test::run(e.decide(q, st));
    }
};

}  // namespace

TEST_CASE_METHOD(fixture, "default actions and their replies")
{
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    struct row {
        const char* sender;
        action want;
        std::string_view reply_prefix;
    };
    const row rows[] = {
        {"a@good.example", action::ignore, "DUNNO"},
        {"a@nullmx.example", action::reject, "550 5.7.27 sender domain nullmx.example does not accept mail"},
        {"a@gone.example", action::defer, "450 4.1.8 sender domain gone.example"},
        {"a@flaky.example", action::defer, "451 4.4.3 cannot verify sender domain flaky.example"},
        {"", action::ignore, "DUNNO"},  // bounces are never checked
    };
    for (const auto& row : rows) {
        INFO(row.sender);
        auto d = decide(e, req(row.sender), st);
        CHECK(d.act == row.want);
        CHECK(d.reply.starts_with(row.reply_prefix));
    }
}

TEST_CASE_METHOD(fixture, "configured actions: reject, quarantine, tag, ignore")
{
    SECTION("no-domain rejected")
    {
        cfg.actions[static_cast<std::size_t>(outcome::no_domain)] = action::reject;
        engine::policy_engine e(cfg, r, clock.fn());
        engine::session_state st;
        CHECK(decide(e, req("a@gone.example"), st).reply.starts_with("550 5.1.8 "));
    }
    SECTION("null MX quarantined through the mxq transport")
    {
        cfg.actions[static_cast<std::size_t>(outcome::null_mx)] = action::quarantine;
        engine::policy_engine e(cfg, r, clock.fn());
        engine::session_state st;
        CHECK(decide(e, req("a@nullmx.example"), st).reply == "FILTER mxq:sender-null-mx");
    }
    SECTION("tempfail ignored")
    {
        cfg.actions[static_cast<std::size_t>(outcome::sender_tempfail)] = action::ignore;
        engine::policy_engine e(cfg, r, clock.fn());
        engine::session_state st;
        CHECK(decide(e, req("a@flaky.example"), st).reply == "DUNNO");
    }
}

TEST_CASE_METHOD(fixture, "the most severe finding decides")
{
    cfg.actions[static_cast<std::size_t>(outcome::no_ptr)] = action::tag;
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    auto q = req("a@nullmx.example");
    q.client_address = "192.0.2.20";
    q.client_name = q.reverse_client_name = "unknown";
    auto d = decide(e, q, st);
    REQUIRE(d.findings.size() == 2);
    CHECK(d.act == action::reject);
    CHECK(d.findings[static_cast<std::size_t>(d.decisive)].result == outcome::null_mx);
}

TEST_CASE_METHOD(fixture, "tag: one PREPEND per message, none at END-OF-MESSAGE")
{
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    auto q = req("a@good.example");
    q.client_address = "192.0.2.20";
    q.client_name = q.reverse_client_name = "unknown";
    CHECK(decide(e, q, st).reply == "PREPEND X-Mxwarden: client=no-ptr 192.0.2.20");
    CHECK(decide(e, q, st).reply == "DUNNO");  // second recipient, same message
    q.instance = "i2";
    CHECK(decide(e, q, st).reply.starts_with("PREPEND "));
    q.instance = "i3";
    q.protocol_state = "END-OF-MESSAGE";
    CHECK(decide(e, q, st).reply == "DUNNO");
}

TEST_CASE_METHOD(fixture, "peer text in the tag header is sanitized")
{
    r.mx("we\x01ird.example", {{0, ""}});
    cfg.actions[static_cast<std::size_t>(outcome::null_mx)] = action::tag;
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    CHECK(decide(e, req("a@we\x01ird.example"), st).reply == "PREPEND X-Mxwarden: sender=null-mx we\\x01ird.example");
}

TEST_CASE_METHOD(fixture, "protocol states")
{
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    SECTION("VRFY and ETRN are not judged")
    {
        auto d = decide(e, req("a@nullmx.example", "VRFY"), st);
        CHECK(d.reply == "DUNNO");
        CHECK(r.queries.empty());
    }
    SECTION("at CONNECT only the client is checked")
    {
        auto d = decide(e, req("a@nullmx.example", "CONNECT"), st);
        REQUIRE(d.findings.size() == 1);
        CHECK(d.findings[0].check == engine::check_kind::client);
    }
    SECTION("MAIL and DATA check the sender too")
    {
        CHECK(decide(e, req("a@nullmx.example", "MAIL"), st).act == action::reject);
        CHECK(decide(e, req("a@nullmx.example", "DATA"), st).act == action::reject);
    }
}

TEST_CASE_METHOD(fixture, "findings are cached for their TTL (smtpd_delay_reject asks once per recipient)")
{
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    CHECK_FALSE(decide(e, req("a@good.example"), st).from_cache);
    CHECK(decide(e, req("b@GOOD.example"), st).from_cache);
    CHECK(r.queries.size() == 1);
    CHECK(e.sender_cache_size() == 1);
    clock.now += std::chrono::seconds(301);
    CHECK_FALSE(decide(e, req("a@good.example"), st).from_cache);
    CHECK(r.queries.size() == 2);
}

TEST_CASE_METHOD(fixture, "temporary failures are cached only briefly")
{
    cfg.tempfail_ttl = std::chrono::seconds(5);
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    decide(e, req("a@flaky.example"), st);
    decide(e, req("a@flaky.example"), st);
    CHECK(r.queries.size() == 1);
    clock.now += std::chrono::seconds(6);
    decide(e, req("a@flaky.example"), st);
    CHECK(r.queries.size() == 2);
}

TEST_CASE_METHOD(fixture, "cache TTL is capped by cache_max_ttl")
{
    r.mx("long.example", {{10, "mx.long.example"}}, 86400);
    cfg.cache_max_ttl = std::chrono::seconds(60);
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    decide(e, req("a@long.example"), st);
    clock.now += std::chrono::seconds(61);
    decide(e, req("a@long.example"), st);
    CHECK(r.queries.size() == 2);
}

TEST_CASE_METHOD(fixture, "the request deadline answers the fail-open action and caches nothing")
{
    r.cost_per_lookup(std::chrono::seconds(10));
    cfg.deadline = std::chrono::seconds(9);
    SECTION("default: fail open")
    {
        engine::policy_engine e(cfg, r, clock.fn());
        engine::session_state st;
        auto d = decide(e, req("a@good.example"), st);
        CHECK(d.deadline_exceeded);
        CHECK(d.reply == "DUNNO");
        CHECK(e.sender_cache_size() == 0);
        auto line = engine::format_log(d, req("a@good.example"), 1);
        CHECK(line.find("deadline=exceeded") != std::string::npos);
    }
    SECTION("configured: defer")
    {
        cfg.deadline_action = action::defer;
        engine::policy_engine e(cfg, r, clock.fn());
        engine::session_state st;
        CHECK(decide(e, req("a@good.example"), st).reply.starts_with("451 4.4.3 "));
    }
}

TEST_CASE_METHOD(fixture, "a DNS timeout inside the deadline is a temporary failure")
{
    r.answer("slow.example", rrtype::mx, status::timeout);
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    auto d = decide(e, req("a@slow.example"), st);
    CHECK_FALSE(d.deadline_exceeded);
    CHECK(d.reply.starts_with("451 4.4.3 "));
}

TEST_CASE_METHOD(fixture, "explain bypasses the cache and reports the evidence")
{
    engine::policy_engine e(cfg, r, clock.fn());
    test::run(e.explain_sender("x@nullmx.example"));
    auto d = test::run(e.explain_sender("x@nullmx.example"));
    CHECK(r.queries.size() == 2);
    CHECK(d.act == action::reject);
    auto text = engine::format_text(d);
    CHECK(text.find("evidence: MX nullmx.example ok ttl=300 [0 .]") != std::string::npos);
    auto json = engine::format_json(d);
    CHECK(json.find(R"("result":"null-mx")") != std::string::npos);
    CHECK(json.find(R"("reply":"550 5.7.27 )") != std::string::npos);
}

TEST_CASE_METHOD(fixture, "the decision log line names queue id, check, DNS evidence and action")
{
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    auto q = req("a@nullmx.example");
    auto line = engine::format_log(decide(e, q, st), q, 42);
    CHECK(line.starts_with("decision id=42 queue_id=4ABC state=RCPT client=192.0.2.7 sender=a@nullmx.example"));
    CHECK(line.find(" check=sender result=null-mx subject=nullmx.example dns=\"MX nullmx.example ok ttl=300 [0 .]\"") !=
          std::string::npos);
    CHECK(line.find(" client_result=ok action=reject reply=\"550 5.7.27 ") != std::string::npos);
}

TEST_CASE_METHOD(fixture, "the cached fast path agrees with the full path and never resolves")
{
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    engine::decision fast;
    CHECK_FALSE(e.decide_cached(req("a@nullmx.example"), st, fast));  // nothing cached yet
    auto full = decide(e, req("a@nullmx.example"), st);
    auto queries = r.queries.size();
    engine::decision again;
    REQUIRE(e.decide_cached(req("b@nullmx.example"), st, again));
    CHECK(again.reply == full.reply);
    CHECK(again.from_cache);
    CHECK(r.queries.size() == queries);
    engine::decision vrfy;
    CHECK(e.decide_cached(req("a@gone.example", "VRFY"), st, vrfy));
    CHECK(vrfy.reply == "DUNNO");
}

TEST_CASE_METHOD(fixture, "no PREPEND or FILTER before MAIL FROM: Postfix would skip them")
{
    cfg.actions[static_cast<std::size_t>(outcome::no_ptr)] = action::tag;
    engine::policy_engine e(cfg, r, clock.fn());
    engine::session_state st;
    auto q = req("a@good.example", "CONNECT", "");
    q.client_address = "192.0.2.20";
    q.client_name = q.reverse_client_name = "unknown";
    CHECK(decide(e, q, st).reply == "DUNNO");
    q.protocol_state = "EHLO";
    CHECK(decide(e, q, st).reply == "DUNNO");
    q.protocol_state = "RCPT";
    q.instance = "i1";
    CHECK(decide(e, q, st).reply.starts_with("PREPEND "));
}
