#include "net/log_follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <utility>

namespace mxw::net {
namespace {

class file_follow final : public log_source {
public:
    explicit file_follow(std::string path) : path_(std::move(path)) {}
    ~file_follow() override { close_file(); }
    file_follow(const file_follow&) = delete;
    file_follow& operator=(const file_follow&) = delete;

    void poll(const follower_limits& lim, const log_callback& cb, follower_stats& st) override
    {
        // Only a log there at start is read from its end: one that appears
        // later is new, all of it.
        bool at_end = std::exchange(first_open_, false);
        if (fd_ < 0 && !open_file(at_end))
            return;
        budget b{lim.max_lines_per_tick, lim.max_bytes_per_tick};
        // At most one switch per tick: a rotation storm cannot spin here.
        for (int files = 0; files < 2; ++files) {
            struct stat now {};
            if (::fstat(fd_, &now) == 0 && now.st_size < offset_) {
                offset_ = 0;
                reset_line();
                ++st.reopens;
            }
            // Look for a new file before draining the old one: lines written
            // to the old file up to the switch are still read.
            bool rotated = replaced();
            if (!drain(lim, cb, st, b) || !rotated)
                return;
            if (!open_file(false))
                return;
            ++st.reopens;
        }
    }

private:
    struct budget {
        std::size_t lines;
        std::size_t bytes;
    };

    bool open_file(bool at_end)
    {
        int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            return false;
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            return false;
        }
        close_file();
        fd_ = fd;
        dev_ = st.st_dev;
        ino_ = st.st_ino;
        offset_ = at_end ? st.st_size : 0;
        reset_line();
        return true;
    }

    void close_file()
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

    void reset_line()
    {
        line_.clear();
        skipping_ = false;
    }

    /// True when `path` now names another file (rotation); a missing path
    /// is not: the writer has not created the new file yet.
    bool replaced() const
    {
        struct stat st {};
        return ::stat(path_.c_str(), &st) == 0 && (st.st_dev != dev_ || st.st_ino != ino_);
    }

    /// Reads lines until the end of the file (true) or the budget is spent
    /// (false). A partial last line waits in line_ for the rest.
    bool drain(const follower_limits& lim, const log_callback& cb, follower_stats& st, budget& b)
    {
        std::array<char, 65536> buf;
        while (b.lines > 0 && b.bytes > 0) {
            ssize_t n = ::pread(fd_, buf.data(), std::min(buf.size(), b.bytes), offset_);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return true;
            std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
            std::size_t used = 0;
            while (used < chunk.size() && b.lines > 0) {
                std::size_t nl = chunk.find('\n', used);
                std::string_view part = chunk.substr(used, nl == std::string_view::npos ? std::string_view::npos : nl - used);
                used += part.size();
                if (!skipping_ && line_.size() + part.size() > lim.max_line_bytes) {
                    skipping_ = true;
                    line_.clear();
                    ++st.skipped;
                }
                if (!skipping_)
                    line_.append(part);
                if (nl == std::string_view::npos)
                    break;
                ++used;  // the newline
                if (!skipping_) {
                    --b.lines;
                    ++st.lines;
                    cb(log_record{{}, line_});
                }
                reset_line();
            }
            offset_ += static_cast<off_t>(used);
            b.bytes -= used;
        }
        return false;
    }

    std::string path_;
    int fd_ = -1;
    dev_t dev_{};
    ino_t ino_{};
    off_t offset_ = 0;
    bool first_open_ = true;
    std::string line_;       ///< the line read so far, without its newline
    bool skipping_ = false;  ///< inside an over-long line: drop up to its newline
};

class journal_follow final : public log_source {
public:
    ~journal_follow() override { close_journal(); }
    journal_follow() = default;
    journal_follow(const journal_follow&) = delete;
    journal_follow& operator=(const journal_follow&) = delete;

    void poll(const follower_limits& lim, const log_callback& cb, follower_stats& st) override
    {
        if (!j_ && !open_journal(st))
            return;
        // Picks up rotated, added and removed journal files; a negative
        // answer means the journal is gone under us (journald restarted,
        // files deleted): reopen where we stopped, on the next tick.
        if (sd_journal_process(j_) < 0) {
            close_journal();
            return;
        }
        for (std::size_t n = 0; n < lim.max_lines_per_tick; ++n) {
            int r = sd_journal_next(j_);
            if (r < 0) {
                close_journal();
                return;
            }
            if (r == 0)
                return;
            remember_cursor();
            std::string_view program = field("SYSLOG_IDENTIFIER");
            std::string_view message = field("MESSAGE");
            if (program.empty())
                continue;
            // A field as long as the threshold may have been cut by it.
            if (message.size() > lim.max_line_bytes || message.size() + sizeof("MESSAGE=") > threshold) {
                ++st.skipped;
                continue;
            }
            ++st.lines;
            cb(log_record{program, message});
        }
    }

private:
    // sd_journal_get_data() returns at most this much of a field: anything
    // that long is over the line cap anyway, and the journal never hands us
    // a multi-megabyte MESSAGE.
    static constexpr std::size_t threshold = proto::max_postfix_log_line_bytes + 64;

    bool open_journal(follower_stats& st)
    {
        sd_journal* j = nullptr;
        if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM) < 0)
            return false;
        sd_journal_set_data_threshold(j, threshold);
        if (sd_journal_add_match(j, "SYSLOG_FACILITY=2", 0) < 0) {
            sd_journal_close(j);
            return false;
        }
        j_ = j;
        // Start at the tail (no history) the first time; after an error,
        // right after the last entry read.
        if (!cursor_.empty() && sd_journal_seek_cursor(j_, cursor_.c_str()) >= 0 && sd_journal_next(j_) > 0 &&
            sd_journal_test_cursor(j_, cursor_.c_str()) > 0) {
            ++st.reopens;
            return true;
        }
        if (sd_journal_seek_tail(j_) < 0 || sd_journal_previous(j_) < 0) {
            close_journal();
            return false;
        }
        if (!cursor_.empty())
            ++st.reopens;
        return true;
    }

    void close_journal()
    {
        if (j_)
            sd_journal_close(j_);
        j_ = nullptr;
    }

    void remember_cursor()
    {
        char* c = nullptr;
        if (sd_journal_get_cursor(j_, &c) >= 0 && c) {
            cursor_ = c;
            std::free(c);
        }
    }

    std::string_view field(std::string_view name)
    {
        const void* data = nullptr;
        std::size_t len = 0;
        std::string key(name);
        if (sd_journal_get_data(j_, key.c_str(), &data, &len) < 0)
            return {};
        std::string_view v(static_cast<const char*>(data), len);
        return v.size() > name.size() ? v.substr(name.size() + 1) : std::string_view{};
    }

    sd_journal* j_ = nullptr;
    std::string cursor_;
};

}  // namespace

std::unique_ptr<log_source> file_source(std::string path)
{
    return std::make_unique<file_follow>(std::move(path));
}

std::unique_ptr<log_source> journal_source()
{
    return std::make_unique<journal_follow>();
}

// Lives as long as the timer's handler: the follower may be destroyed with
// a tick already queued.
struct log_follower::state {
    asio::steady_timer timer;
    std::unique_ptr<log_source> src;
    log_callback cb;
    follower_limits lim;
    follower_stats stats;
    bool stopped = false;

    state(asio::any_io_executor ex, std::unique_ptr<log_source> s, log_callback c, follower_limits l)
        : timer(std::move(ex)), src(std::move(s)), cb(std::move(c)), lim(l)
    {
    }

    static void schedule(const std::shared_ptr<state>& self)
    {
        self->timer.expires_after(self->lim.poll);
        self->timer.async_wait([self](boost::system::error_code) {
            if (self->stopped)
                return;
            self->src->poll(self->lim, self->cb, self->stats);
            schedule(self);
        });
    }
};

log_follower::log_follower(asio::any_io_executor ex, std::unique_ptr<log_source> src, log_callback cb,
                           follower_limits lim)
    : st_(std::make_shared<state>(std::move(ex), std::move(src), std::move(cb), lim))
{
    // The first poll opens the log at its end right away, so that lines
    // written from now on are seen.
    st_->src->poll(st_->lim, st_->cb, st_->stats);
    state::schedule(st_);
}

log_follower::~log_follower()
{
    st_->stopped = true;
    st_->timer.cancel();
}

const follower_stats& log_follower::stats() const noexcept
{
    return st_->stats;
}

}  // namespace mxw::net
