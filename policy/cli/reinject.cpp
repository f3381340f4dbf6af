#include "cli/reinject.hpp"

#include "cli/blocking_socket.hpp"
#include "proto/reinjection.hpp"
#include "proto/sanitize.hpp"
#include "proto/smtp_reply.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace mxw::cli {
namespace {

using clock = blocking_socket::clock;

// Per-step limits for the SMTP client. RFC 5321 §4.5.3.2 suggests minutes
// per command; a local MTA answers in milliseconds, so a minute means the
// listener is stuck, and ten minutes covers the final reply to a large DATA.
constexpr auto connect_timeout = std::chrono::seconds(10);
constexpr auto command_timeout = std::chrono::seconds(60);
constexpr auto data_timeout = std::chrono::minutes(10);

class smtp_conversation {
public:
    smtp_conversation(const proto::endpoint& server)
        : sock_(server, clock::now() + connect_timeout), peer_(proto::to_string(server))
    {
    }

    proto::smtp_reply reply(std::chrono::seconds timeout)
    {
        auto deadline = clock::now() + timeout;
        decoder_.reset();
        for (;;) {
            if (!pending_.empty()) {
                auto s = decoder_.feed(pending_);
                pending_.erase(0, decoder_.consumed());
                if (s == proto::step::frame)
                    return decoder_.reply();
                if (s == proto::step::error)
                    throw std::runtime_error(peer_ + ": malformed SMTP reply (" + decoder_.error().message() + ")");
            }
            if (!sock_.read_some(pending_, 16384, deadline))
                throw std::runtime_error(peer_ + ": connection closed by the server");
        }
    }

    proto::smtp_reply command(const std::string& line, std::chrono::seconds timeout = command_timeout)
    {
        sock_.write_all(line + "\r\n", clock::now() + timeout);
        return reply(timeout);
    }

    void send(std::string_view bytes, std::chrono::seconds timeout) { sock_.write_all(bytes, clock::now() + timeout); }

    const std::string& peer() const noexcept { return peer_; }

private:
    blocking_socket sock_;
    std::string peer_;
    std::string pending_;  // bytes read but not yet decoded
    proto::smtp_reply_decoder decoder_;
};

std::string text_of(const proto::smtp_reply& r)
{
    std::string out = std::to_string(r.code);
    for (const auto& l : r.lines)
        out.append(" ").append(proto::sanitize(l));  // not " " + ...: a g++ 12 -Wrestrict false positive at -O2
    return out;
}

[[noreturn]] void refused(const smtp_conversation& c, std::string_view step, const proto::smtp_reply& r)
{
    throw std::runtime_error(c.peer() + " refused " + std::string(step) + ": " + text_of(r));
}

std::string local_name()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0')
        return "localhost";
    return buf;
}

}  // namespace

std::string reinject_smtp(const proto::endpoint& server, std::string_view sender,
                          std::span<const std::string> recipients, std::string_view message)
{
    smtp_conversation c(server);
    auto r = c.reply(command_timeout);
    if (r.code != 220)
        refused(c, "the session", r);
    r = c.command("EHLO " + local_name());
    if (r.code != 250)
        refused(c, "EHLO", r);
    bool eight_bit_ok = false;
    for (const auto& l : r.lines)
        eight_bit_ok = eight_bit_ok || proto::to_lower(l) == "8bitmime";
    std::string mail = "MAIL FROM:<" + std::string(sender) + ">";
    if (eight_bit_ok && proto::has_8bit(message))
        mail += " BODY=8BITMIME";
    r = c.command(mail);
    if (r.code != 250)
        refused(c, "the sender <" + proto::sanitize(sender) + ">", r);
    for (const auto& rcpt : recipients) {
        r = c.command("RCPT TO:<" + rcpt + ">");
        if (r.code != 250 && r.code != 251) {
            // Nothing has been delivered yet: end the transaction so the
            // whole message stays in the quarantine for a retry.
            try {
                c.command("RSET");
                c.command("QUIT");
            } catch (const std::exception&) {
                // The refusal below is what the admin needs to see.
            }
            refused(c, "the recipient <" + proto::sanitize(rcpt) + ">", r);
        }
    }
    r = c.command("DATA");
    if (r.code != 354)
        refused(c, "DATA", r);
    c.send(proto::encode_smtp_data(message), std::chrono::duration_cast<std::chrono::seconds>(data_timeout));
    r = c.reply(std::chrono::duration_cast<std::chrono::seconds>(data_timeout));
    if (r.code != 250)
        refused(c, "the message", r);
    std::string accepted = "via smtp:" + c.peer().substr(c.peer().find(':') + 1) + ": " + text_of(r);
    try {
        c.command("QUIT");
    } catch (const std::exception&) {
        // The message is accepted; a lost QUIT reply changes nothing.
    }
    return accepted;
}

std::string reinject_sendmail(const std::string& path, std::string_view sender,
                              std::span<const std::string> recipients, std::string_view message)
{
    auto args = proto::sendmail_argv(path, sender, recipients);
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw std::runtime_error(std::string("fork: ") + std::strerror(err));
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls until execv.
        if (::dup2(fds[0], 0) < 0)
            ::_exit(127);
        ::execv(path.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(fds[0]);
    // A sendmail that exits early must show up as its exit status, not as
    // a SIGPIPE that kills the CLI.
    auto old = std::signal(SIGPIPE, SIG_IGN);
    std::string_view rest = message;
    int write_errno = 0;
    while (!rest.empty()) {
        ssize_t n = ::write(fds[1], rest.data(), rest.size());
        if (n > 0) {
            rest.remove_prefix(static_cast<std::size_t>(n));
        } else if (errno != EINTR) {
            write_errno = errno;
            break;
        }
    }
    ::close(fds[1]);
    std::signal(SIGPIPE, old);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        throw std::runtime_error("cannot run " + path + " (missing or not executable?)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(path + (WIFEXITED(status) ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                                           : " was killed by signal " + std::to_string(WTERMSIG(status))));
    if (write_errno != 0)
        throw std::runtime_error(path + " exited 0 but did not read the whole message: " + std::strerror(write_errno));
    return "via sendmail " + path;
}

}  // namespace mxw::cli
