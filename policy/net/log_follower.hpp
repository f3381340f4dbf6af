// net/log_follower.hpp: follows Postfix's own log on the event loop (issue
// 11) and hands every new line or journal entry to a callback; what the
// lines mean is proto/postfix_log's business, what they prove the health
// table's. Two sources: a maillog_file (appended lines, rotation,
// truncation) or the systemd journal (mail facility). Both are polled by a
// timer and read a bounded number of lines and bytes per tick, so a log
// flood never starves lookups; neither blocks, and a missing log only
// means no lines until it appears.
#pragma once
#include "net/asio.hpp"
#include "proto/postfix_log.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace mxw::net {

/// One line of the log. A file line arrives whole (program empty: split it
/// with proto::split_syslog_line); a journal entry arrives split
/// (SYSLOG_IDENTIFIER, MESSAGE). Views valid during the callback only.
struct log_record {
    std::string_view program;
    std::string_view message;
};
using log_callback = std::function<void(const log_record&)>;

struct follower_limits {
    std::chrono::milliseconds poll{250};
    std::size_t max_lines_per_tick = 2000;
    std::size_t max_bytes_per_tick = 4 * 1024 * 1024;
    /// Longer lines (entries) are skipped whole, never cut.
    std::size_t max_line_bytes = proto::max_postfix_log_line_bytes;
};

struct follower_stats {
    std::uint64_t lines = 0;    ///< handed to the callback
    std::uint64_t skipped = 0;  ///< longer than max_line_bytes
    std::uint64_t reopens = 0;  ///< rotations, truncations, journal reopens
};

/// Where lines come from: poll() reads what is new, within the limits,
/// without blocking.
class log_source {
public:
    virtual ~log_source() = default;
    virtual void poll(const follower_limits& lim, const log_callback& cb, follower_stats& st) = 0;
};

/// A maillog_file. Starts at its end (history is not replayed); a new
/// inode at `path` is read from its start once the old file is drained; a
/// file shorter than the read offset was truncated and is read again from
/// its start.
std::unique_ptr<log_source> file_source(std::string path);
/// The local journal's mail facility (SYSLOG_FACILITY=2), from its tail.
/// Errors (journald restarted, files vanished) reopen it where it stopped.
std::unique_ptr<log_source> journal_source();

/// Polls a source on `ex` until destroyed. Loop thread only.
class log_follower {
public:
    log_follower(asio::any_io_executor ex, std::unique_ptr<log_source> src, log_callback cb,
                 follower_limits lim = {});
    ~log_follower();
    log_follower(const log_follower&) = delete;
    log_follower& operator=(const log_follower&) = delete;

    [[nodiscard]] const follower_stats& stats() const noexcept;

private:
    struct state;
    std::shared_ptr<state> st_;
};

}  // namespace mxw::net
