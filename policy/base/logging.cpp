#include "base/logging.hpp"

#include <syslog.h>
#include <unistd.h>

#include <cerrno>

namespace mxw::base {

namespace {
// Past this a batch is written at once, so a burst cannot grow the buffer.
constexpr std::size_t max_buffered_bytes = 64 * 1024;
}  // namespace

logger::logger(bool syslog, std::string ident) : syslog_(syslog), ident_(std::move(ident))
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
    std::string_view prefix = l == level::warning ? "warning: " : l == level::error ? "error: " : "";
    if (syslog_) {
        int prio = l == level::info ? LOG_INFO : l == level::warning ? LOG_WARNING : LOG_ERR;
        ::syslog(prio, "%s%.*s", std::string(prefix).c_str(), static_cast<int>(line.size()), line.data());
        return;
    }
    bool was_empty = buffer_.empty();
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
