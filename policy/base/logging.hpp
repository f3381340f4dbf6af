// base/logging.hpp: the injected logger (never a global). One line per
// event, key=value after an event word. To stderr, lines are batched: the
// first line of a loop turn schedules one flush, so a busy policy service
// pays one write(2) per batch instead of one per decision.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace mxw::base {

class logger {
public:
    enum class level { info, warning, error };
    using scheduler = std::function<void(std::function<void()>)>;

    /// `syslog`: log to syslog (facility mail) as `ident`; else to stderr.
    logger(bool syslog, std::string ident);
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    /// With a scheduler, stderr lines wait for the scheduled flush (at most
    /// one loop turn); without one they are written at once.
    void set_scheduler(scheduler s) { schedule_ = std::move(s); }

    void info(std::string_view line) { write(level::info, line); }
    void warning(std::string_view line) { write(level::warning, line); }
    void error(std::string_view line) { write(level::error, line); }
    void flush();

private:
    void write(level l, std::string_view line);

    bool syslog_;
    std::string ident_;
    scheduler schedule_;
    std::string buffer_;
};

}  // namespace mxw::base
