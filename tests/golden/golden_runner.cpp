// tests/golden/golden_runner.cpp: replays Postfix policy transcripts through
// the real policy session (G12; Postfix's smtpd_check.in/.ref idea).
//
//   golden_runner [--update] (NAME.in | DIR) ...
//
// NAME.in: the bytes an smtpd process sends, in Postfix's attribute format.
// NAME.ref: the bytes mxwarden must send back, every reply in order. Leading
// '#' lines of NAME.in are a header, not sent: "# config: section.key=value"
// sets a mxwarden.conf option (through the daemon's build_config), any other
// '#' line is a note for the reviewer.
//
// Each scenario runs three times over a local socket pair, each time with a
// fresh engine and cache: in lockstep (a request, then its reply, as
// Postfix's attr_clnt does), in one write (pipelined), and byte by byte; each
// must give NAME.ref exactly. DNS comes from a fixed script mirroring
// tests/integration/zones; a lookup outside it fails the scenario.
//
// --update writes NAME.ref instead of comparing (the three runs must still
// agree). Review the new .ref before committing it.
#include "base/config.hpp"
#include "base/logging.hpp"
#include "engine/policy_engine.hpp"
#include "net/asio.hpp"
#include "net/policy_session.hpp"
#include "support/scripted_resolver.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

using namespace mxw;
namespace fs = std::filesystem;
using socket_t = asio::local::stream_protocol::socket;

namespace {

// The records of tests/integration/zones (TTL 300, SOA minimum 300), plus
// the fault server's SERVFAIL name.
void load_zone_script(test::scripted_resolver& r)
{
    using dns::rrtype;
    using dns::status;
    r.mx("good.mxw.test", {{10, "mx1.mxw.test"}});
    r.mx("nullmx.mxw.test", {{0, ""}});
    r.answer("nonexist.mxw.test", rrtype::mx, status::nxdomain);
    for (auto t : {rrtype::mx, rrtype::a, rrtype::aaaa})
        r.answer("nomail.mxw.test", t, status::nodata);
    r.answer("aonly.mxw.test", rrtype::mx, status::nodata);
    r.values("aonly.mxw.test", rrtype::a, {"127.0.0.5"});
    r.answer("v6only.mxw.test", rrtype::mx, status::nodata);
    r.answer("v6only.mxw.test", rrtype::a, status::nodata);
    r.values("v6only.mxw.test", rrtype::aaaa, {"2001:db8::25"});
    r.answer("x.servfail.mxw.test", rrtype::mx, status::servfail);
    r.values("20.0.0.127.in-addr.arpa", rrtype::ptr, {"client-ok.mxw.test"});
    r.values("client-ok.mxw.test", rrtype::a, {"127.0.0.20"});
    r.values("21.0.0.127.in-addr.arpa", rrtype::ptr, {"client-forged.mxw.test"});
    r.values("client-forged.mxw.test", rrtype::a, {"127.0.0.99"});
    r.answer("22.0.0.127.in-addr.arpa", rrtype::ptr, status::nxdomain);
    r.values("23.0.0.127.in-addr.arpa", rrtype::ptr, {"client-noaddr.mxw.test"});
    r.answer("client-noaddr.mxw.test", rrtype::a, status::nxdomain);
}

// The session answers a request whose engine threw with a fail-open DUNNO,
// which a transcript cannot tell from a real one: so the scripted resolver's
// throws (unscripted lookups) are recorded here.
class strict_resolver final : public dns::resolver {
public:
    explicit strict_resolver(test::scripted_resolver& r) : script(r) {}
    asio::awaitable<dns::answer> lookup(const std::string& name, dns::rrtype type,
                                        dns::clock::time_point deadline) override
    {
        try {
            co_return co_await script.lookup(name, type, deadline);
        } catch (const std::logic_error& e) {
            unscripted.push_back(e.what());
            throw;
        }
    }
    test::scripted_resolver& script;
    std::vector<std::string> unscripted;
};

struct scenario {
    fs::path in, ref;
    engine::policy_config policy;
    std::string input;  // the bytes to send, header removed
};

std::string read_all(const fs::path& p)
{
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

std::optional<scenario> load(const fs::path& in, std::vector<std::string>& errors)
{
    scenario sc{in, fs::path(in).replace_extension(".ref"), {}, read_all(in)};
    base::value_map overrides;
    constexpr std::string_view config_tag = "# config: ";
    std::size_t pos = 0;
    while (sc.input.compare(pos, 1, "#") == 0) {
        std::size_t nl = std::min(sc.input.find('\n', pos), sc.input.size() - 1);
        std::string line = sc.input.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.starts_with(config_tag))
            continue;
        std::size_t eq = line.find('=');
        std::string key = line.substr(config_tag.size(), eq - config_tag.size());
        auto known = base::option_table();  // build_config itself would take any key
        if (eq == std::string::npos || std::none_of(known.begin(), known.end(), [&](auto& o) { return o.key == key; }))
            errors.push_back("bad config line: " + line);
        else
            overrides[key] = line.substr(eq + 1);
    }
    sc.input.erase(0, pos);
    auto cfg = base::build_config(overrides, "/", errors);
    if (!cfg || !errors.empty())
        return std::nullopt;
    sc.policy = cfg->policy;
    return sc;
}

std::size_t count_replies(const std::string& s)
{
    std::size_t n = 0;
    for (std::size_t p = s.find("\n\n"); p != std::string::npos; p = s.find("\n\n", p + 2))
        ++n;
    return n;
}

// Reads until `out` holds `want` replies; false at EOF or error (the session
// closed, e.g. after a protocol error).
asio::awaitable<bool> read_replies(socket_t& s, std::string& out, std::size_t want)
{
    std::array<char, 4096> buf;
    while (count_replies(out) < want) {
        boost::system::error_code ec;
        std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return false;
        out.append(buf.data(), n);
    }
    co_return true;
}

// Writes each piece with its own write; stops quietly when the session has
// closed (it does after a protocol error), then half-closes like a client
// that has nothing more to say. With `replies` (lockstep) it also reads them
// all, including any the session should not have sent.
asio::awaitable<void> write_pieces(socket_t& s, const std::vector<std::string_view>& pieces, std::string* replies)
{
    std::size_t asked = 0;
    for (auto p : pieces) {
        boost::system::error_code ec;
        co_await asio::async_write(s, asio::buffer(p), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            break;
        // Byte by byte: one loop turn lets the session read this byte on its
        // own (strace shows 1-byte reads), not several at once.
        if (p.size() == 1)
            co_await asio::post(s.get_executor(), asio::use_awaitable);
        // Lockstep: Postfix sends nothing more until the reply has arrived.
        if (replies && p.ends_with("\n\n") && !co_await read_replies(s, *replies, ++asked))
            break;
    }
    boost::system::error_code ignored;
    s.shutdown(socket_t::shutdown_send, ignored);
    if (replies)
        co_await read_replies(s, *replies, SIZE_MAX);
}

enum class feed { lockstep, one_write, bytewise };
constexpr std::array feeds{feed::lockstep, feed::one_write, feed::bytewise};
const char* name(feed f) { return f == feed::lockstep ? "lockstep" : f == feed::one_write ? "one write" : "byte by byte"; }

std::vector<std::string_view> split(std::string_view in, feed f)
{
    std::vector<std::string_view> out;
    if (f == feed::one_write) {
        out.push_back(in);
    } else if (f == feed::bytewise) {
        for (std::size_t i = 0; i < in.size(); ++i)
            out.push_back(in.substr(i, 1));
    } else {
        // One request per piece: each ends with its empty line.
        while (!in.empty()) {
            std::size_t blank = in.find("\n\n");
            std::size_t end = blank == std::string_view::npos ? in.size() : blank + 2;
            out.push_back(in.substr(0, end));
            in.remove_prefix(end);
        }
    }
    return out;
}

// The session's replies to `sc` fed as `f`; unscripted lookups go to `errors`.
std::string run(const scenario& sc, feed f, base::logger& log, std::vector<std::string>& errors)
{
    asio::io_context io;
    test::manual_clock clock;  // never moves: TTLs and deadlines cannot fire
    test::scripted_resolver script;
    load_zone_script(script);
    strict_resolver dns(script);
    engine::policy_engine engine(sc.policy, dns, clock.fn());
    // The idle timeout only ends a session that a bug left waiting forever.
    net::policy_service svc{engine, log, std::chrono::seconds(10)};

    socket_t server(io), client(io);
    asio::local::connect_pair(server, client);
    std::exception_ptr failed;
    auto keep_error = [&](std::exception_ptr e) { failed = failed ? failed : e; };
    std::string replies;
    // A named vector, not a temporary: see engine/client_check.hpp on g++ 12.
    const std::vector<std::string_view> pieces = split(sc.input, f);
    asio::co_spawn(io, net::run_policy_session(std::move(server), svc), keep_error);
    asio::co_spawn(io, write_pieces(client, pieces, f == feed::lockstep ? &replies : nullptr), keep_error);
    if (f != feed::lockstep)  // the reader runs alongside, as the writer never waits
        asio::co_spawn(io, read_replies(client, replies, SIZE_MAX), [&](std::exception_ptr e, bool) { keep_error(e); });
    io.run();
    if (failed)
        std::rethrow_exception(failed);
    for (auto& u : dns.unscripted)
        errors.push_back(std::string(name(f)) + ": " + u);
    return replies;
}

// Newlines shown as \n, one reply per line, so a difference is visible.
std::string visible(std::string_view s)
{
    std::string out;
    for (char c : s)
        out += c == '\n' ? std::string("\\n\n") : std::string(1, c);
    return out;
}

bool check(const scenario& sc, bool update, base::logger& log, std::vector<std::string>& errors)
{
    if (!update && !fs::exists(sc.ref))
        errors.push_back("no " + sc.ref.string() + ": write it with --update, then review it");
    std::optional<std::string> want;  // with --update, the first feed's replies
    if (!update)
        want = read_all(sc.ref);
    std::optional<std::string> shown;  // print each wrong answer once
    for (feed f : feeds) {
        std::string got = run(sc, f, log, errors);
        if (!want)
            want = got;
        if (got == *want)
            continue;
        if (!shown)
            std::cout << "--- want (" << (update ? "fed lockstep" : sc.ref.string()) << ")\n" << visible(*want);
        std::cout << "--- got, fed " << name(f) << "\n" << (got == shown ? "(the same)\n" : visible(got));
        shown = got;
        errors.push_back(std::string("replies differ, fed ") + name(f));
    }
    if (errors.empty() && update)
        std::ofstream(sc.ref, std::ios::binary) << *want;
    return errors.empty();
}

}  // namespace

int main(int argc, char** argv)
{
    bool update = false;
    std::vector<fs::path> inputs;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--update") {
            update = true;
        } else if (fs::is_directory(a)) {
            auto first = inputs.size();
            for (const auto& e : fs::directory_iterator(a))
                if (e.path().extension() == ".in")
                    inputs.push_back(e.path());
            std::sort(inputs.begin() + static_cast<std::ptrdiff_t>(first), inputs.end());
        } else {
            inputs.emplace_back(a);
        }
    }
    if (inputs.empty()) {
        std::cerr << "usage: golden_runner [--update] (NAME.in | DIR) ...\n";
        return 2;
    }
    base::logger log(false, "golden");
    bool ok = true;
    for (const auto& in : inputs) {
        std::vector<std::string> errors;
        auto sc = load(in, errors);
        bool passed = sc && check(*sc, update, log, errors);
        for (const auto& e : errors)
            std::cout << in.string() << ": " << e << "\n";
        std::cout << (passed ? "ok   " : "FAIL ") << in.string() << "\n";
        ok = ok && passed;
    }
    return ok ? 0 : 1;
}
