#include "net/control_session.hpp"

#include "engine/report.hpp"
#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

namespace mxw::net {

std::vector<std::string> split_words(std::string_view line)
{
    std::vector<std::string> words;
    std::string w;
    for (char c : line) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (!w.empty())
                words.push_back(std::move(w));
            w.clear();
        } else {
            w.push_back(c);
        }
    }
    if (!w.empty())
        words.push_back(std::move(w));
    return words;
}

template <class Socket>
asio::awaitable<void> run_control_session(Socket sock, control_service& svc)
{
    std::string line;
    boost::system::error_code ec;
    std::size_t n = co_await asio::async_read_until(
        sock, asio::dynamic_buffer(line, proto::max_control_line_bytes), '\n',
        asio::redirect_error(asio::use_awaitable, ec));
    std::string out;
    if (ec || n == 0) {
        out = "error: request line missing or longer than " + std::to_string(proto::max_control_line_bytes) +
              " bytes\n";
    } else {
        auto words = split_words(std::string_view(line).substr(0, n));
        bool json = !words.empty() && words.back() == "json";
        if (json)
            words.pop_back();
        if (words.size() == 1 && words[0] == "ping") {
            out = "pong\n";
        } else if (words.size() == 1 && words[0] == "status") {
            out = svc.status(json);
        } else if (words.size() == 2 && words[0] == "route") {
            const std::string domain = words[1];
            out = co_await svc.router.explain(domain, json);
        } else if (words.size() == 3 && words[0] == "check" && (words[1] == "sender" || words[1] == "client")) {
            const std::string subject = words[2];
            engine::decision d;
            if (words[1] == "sender")
                d = co_await svc.engine.explain_sender(subject);
            else
                d = co_await svc.engine.explain_client(subject);
            out = json ? engine::format_json(d) : engine::format_text(d);
            svc.log.info("event=control command=check-" + words[1] + " subject=" + proto::log_value(words[2]) +
                         " action=" + std::string(engine::to_string(d.act)));
        } else {
            out = "error: unknown command '" + proto::sanitize(std::string_view(line).substr(0, n)) + "'\n";
        }
    }
    co_await asio::async_write(sock, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
}

template asio::awaitable<void> run_control_session(asio::ip::tcp::socket, control_service&);
template asio::awaitable<void> run_control_session(asio::local::stream_protocol::socket, control_service&);

}  // namespace mxw::net
