#include "net/policy_session.hpp"

#include "engine/report.hpp"
#include "net/idle_watch.hpp"
#include "proto/policy_attrs.hpp"
#include "proto/sanitize.hpp"

#include <algorithm>
#include <array>

namespace mxw::net {
namespace {

std::string failure_reply(engine::action a)
{
    switch (a) {
    case engine::action::defer:
    case engine::action::reject: return "451 4.3.0 policy check failed, try again later";
    default: return "DUNNO";
    }
}

}  // namespace

template <class Socket>
asio::awaitable<void> run_policy_session(Socket sock, policy_service& svc)
{
    auto watch = idle_watch<Socket>::start(sock, svc.idle_timeout, &svc.sessions);
    idle_guard<Socket> guard{watch};

    proto::policy_decoder decoder;
    engine::session_state state;
    std::array<char, 8192> buf;
    // Bytes of a request not yet complete: the session is not idle then, and
    // a drain lets it finish.
    bool partial = false;
    for (;;) {
        if (!watch->set_idle(!partial))
            co_return;  // draining, and every request read so far is answered
        boost::system::error_code ec;
        std::size_t n = co_await sock.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return;  // EOF, reset, or closed for idleness: all routine
        watch->touch();
        watch->set_idle(false);
        std::string_view in(buf.data(), n);
        while (!in.empty()) {
            proto::step s = decoder.feed(in);
            in.remove_prefix(decoder.consumed());
            partial = s == proto::step::need_more;
            if (partial)
                break;
            if (s == proto::step::error) {
                ++svc.protocol_errors;
                svc.log.warning("event=protocol-error proto=policy error=" +
                                proto::log_value(decoder.error().message()) + " action=disconnect");
                co_return;
            }
            ++svc.requests;
            std::uint64_t id = svc.next_id++;
            std::string reply;
            auto started = std::chrono::steady_clock::now();
            try {
                engine::decision d;
                if (!svc.engine.decide_cached(decoder.request(), state, d))
                    d = co_await svc.engine.decide(decoder.request(), state);
                // A check DNS could not answer is worth a warning: it is
                // what an admin looks for when mail starts to be deferred.
                bool dns_trouble = d.deadline_exceeded ||
                                   std::any_of(d.findings.begin(), d.findings.end(),
                                               [](const engine::finding& f) { return engine::is_tempfail(f.result); });
                svc.log.write(dns_trouble ? base::log_level::warning : base::log_level::info,
                              engine::format_log(d, decoder.request(), id));
                reply = proto::encode_policy_reply(d.reply);
                for (const auto& f : d.findings)
                    ++svc.findings[static_cast<std::size_t>(f.check) * engine::outcome_count +
                                   static_cast<std::size_t>(f.result)];
                ++svc.actions[static_cast<std::size_t>(d.act)];
                svc.latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
            } catch (const std::exception& e) {
                // A bug in one request must not cost the mail its answer.
                reply = proto::encode_policy_reply(failure_reply(svc.failure_action));
                svc.log.error("event=request-failed id=" + std::to_string(id) + " error=" + proto::log_value(e.what()));
            }
            co_await asio::async_write(sock, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                co_return;
        }
    }
}

template asio::awaitable<void> run_policy_session(asio::ip::tcp::socket, policy_service&);
template asio::awaitable<void> run_policy_session(asio::local::stream_protocol::socket, policy_service&);

}  // namespace mxw::net
