#include "cli/control_client.hpp"

#include "cli/blocking_socket.hpp"

#include <memory>

namespace mxw::cli {

std::string format_wait(std::chrono::milliseconds d)
{
    if (d.count() % 1000 == 0)
        return std::to_string(d.count() / 1000) + "s";
    return std::to_string(d.count()) + "ms";
}

std::string ask_control(const proto::endpoint& where, const proto::control_request& req,
                        std::chrono::milliseconds connect_within, std::chrono::milliseconds answer_within,
                        std::size_t max_answer)
{
    using clock = blocking_socket::clock;
    const std::string name = proto::to_string(where);
    auto timed_out = [&](std::chrono::milliseconds waited) {
        return control_timeout("mxwardend did not answer on " + name + " within " + format_wait(waited));
    };
    std::unique_ptr<blocking_socket> sock;
    try {
        // The line is short and the socket buffer empty: the write finishes
        // at once unless the daemon is wedged, which the deadline catches.
        auto deadline = clock::now() + connect_within;
        sock = std::make_unique<blocking_socket>(where, deadline);
        sock->write_all(proto::encode_control_request(req), deadline);
    } catch (const socket_timeout&) {
        throw timed_out(connect_within);
    } catch (const std::runtime_error& e) {
        throw control_unreachable(e.what());
    }
    std::string answer;
    try {
        auto deadline = clock::now() + answer_within;
        while (answer.size() <= max_answer && sock->read_some(answer, max_answer + 1 - answer.size(), deadline)) {
        }
    } catch (const socket_timeout&) {
        throw timed_out(answer_within);
    } catch (const std::runtime_error& e) {
        throw control_unreachable(e.what());
    }
    if (answer.size() > max_answer)
        throw std::runtime_error("the answer from mxwardend on " + name + " is longer than " +
                                 std::to_string(max_answer) + " bytes");
    if (answer.empty())
        throw control_unreachable(name + ": mxwardend closed the connection without answering");
    return answer;
}

}  // namespace mxw::cli
