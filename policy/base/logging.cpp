#include "base/logging.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace mxw::base {

namespace {
// Past this a batch is written at once, so a burst cannot grow the buffer.
constexpr std::size_t max_buffered_bytes = 64 * 1024;

int syslog_priority(log_level l) noexcept
{
    switch (l) {
    case log_level::debug: return LOG_DEBUG;
    case log_level::info: return LOG_INFO;
    case log_level::warning: return LOG_WARNING;
    case log_level::error: return LOG_ERR;
    }
    return LOG_INFO;
}
}  // namespace

std::optional<log_level> parse_log_level(std::string_view s) noexcept
{
    for (auto l : {log_level::debug, log_level::info, log_level::warning, log_level::error})
        if (s == to_string(l))
            return l;
    return std::nullopt;
}

std::string_view to_string(log_level l) noexcept
{
    switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    }
    return "info";
}

bool is_journal_stream(int fd, const char* journal_stream) noexcept
{
    if (!journal_stream)
        return false;
    std::string_view js(journal_stream);
    auto colon = js.find(':');
    if (colon == std::string_view::npos)
        return false;
    unsigned long long dev = 0, ino = 0;
    auto d = std::from_chars(js.data(), js.data() + colon, dev);
    auto i = std::from_chars(js.data() + colon + 1, js.data() + js.size(), ino);
    if (d.ec != std::errc{} || d.ptr != js.data() + colon || i.ec != std::errc{} || i.ptr != js.data() + js.size())
        return false;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return false;
    return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

logger::logger(bool syslog, std::string ident, level threshold)
    : syslog_(syslog),
      journal_prefix_(!syslog && is_journal_stream(STDERR_FILENO, std::getenv("JOURNAL_STREAM"))),
      threshold_(threshold),
      ident_(std::move(ident))
{
    if (syslog_)
        ::openlog(ident_.c_str(), LOG_PID | LOG_NDELAY, LOG_MAIL);
}

logger::~logger()
{
    flush();
    if (syslog_)
        ::closelog();
}

void logger::write(level l, std::string_view line)
{
    if (!enabled(l))
        return;
    // The word stays in the text too: plain files and `mxwardend 2>log` have
    // no priorities, and grep for "warning:" is what admins do there.
    std::string_view prefix = l == level::warning ? "warning: " : l == level::error ? "error: " : "";
    if (syslog_) {
        ::syslog(syslog_priority(l), "%s%.*s", std::string(prefix).c_str(), static_cast<int>(line.size()),
                 line.data());
        return;
    }
    bool was_empty = buffer_.empty();
    if (journal_prefix_) {
        char p[4] = {'<', static_cast<char>('0' + syslog_priority(l)), '>', '\0'};
        buffer_.append(p, 3);
    }
    buffer_.append(prefix).append(line).push_back('\n');
    if (!schedule_ || buffer_.size() > max_buffered_bytes)
        flush();
    else if (was_empty)
        schedule_([this] { flush(); });
}

void logger::flush()
{
    std::size_t off = 0;
    while (off < buffer_.size()) {
        ssize_t n = ::write(STDERR_FILENO, buffer_.data() + off, buffer_.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;  // nowhere to log to; dropping beats blocking mail
        off += static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

}  // namespace mxw::base
