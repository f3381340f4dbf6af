// base/logging.hpp: the injected logger (never a global). One line per
// event, key=value after an event word. To stderr, lines are batched: the
// first line of a loop turn schedules one flush, so a busy policy service
// pays one write(2) per batch instead of one per decision.
//
// Every line has a priority. Through syslog it is the syslog priority; on a
// stderr that systemd connected to the journal (JOURNAL_STREAM names it) each
// line starts with the "<N>" prefix journald reads as the priority, so
// `journalctl -p warning` shows DNS failures and dead hosts.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mxw::base {

enum class log_level { debug, info, warning, error };

/// "debug" | "info" | "warning" | "error".
std::optional<log_level> parse_log_level(std::string_view s) noexcept;
std::string_view to_string(log_level l) noexcept;

class logger {
public:
    using level = log_level;
    using scheduler = std::function<void(std::function<void()>)>;

    /// `syslog`: log to syslog (facility mail) as `ident`; else to stderr,
    /// with journald priority prefixes when stderr is the journal.
    logger(bool syslog, std::string ident, level threshold = level::info);
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    /// With a scheduler, stderr lines wait for the scheduled flush (at most
    /// one loop turn); without one they are written at once.
    void set_scheduler(scheduler s) { schedule_ = std::move(s); }
    /// Lines below `l` are dropped (log.level; a reload may change it).
    void set_threshold(level l) noexcept { threshold_ = l; }
    [[nodiscard]] bool enabled(level l) const noexcept { return l >= threshold_; }

    void debug(std::string_view line) { write(level::debug, line); }
    void info(std::string_view line) { write(level::info, line); }
    void warning(std::string_view line) { write(level::warning, line); }
    void error(std::string_view line) { write(level::error, line); }
    void write(level l, std::string_view line);
    void flush();

private:
    bool syslog_;
    bool journal_prefix_;
    level threshold_;
    std::string ident_;
    scheduler schedule_;
    std::string buffer_;
};

/// True when file descriptor `fd` is the stream JOURNAL_STREAM ("DEV:INODE")
/// names: systemd connected it to journald.
bool is_journal_stream(int fd, const char* journal_stream) noexcept;

}  // namespace mxw::base
