// web/session.hpp: mxwarden-web's login sessions, their CSRF tokens, and
// the brake on password guessing. All in memory and bounded: a restart logs
// everyone out, and no number of requests grows them past their caps.
// Times are passed in (Unix seconds); nothing here reads a clock, so the
// tests decide what time it is. Loop thread only: nothing is locked.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace mxw::web {

struct session {
    std::string id;    ///< 64 hex digits (256 random bits): the cookie value
    std::string csrf;  ///< 64 hex digits: every form and state-changing request carries it
    std::string user;
    std::int64_t created = 0;
    std::int64_t last_seen = 0;
};

class session_table {
public:
    /// A session ends `idle_seconds` after it was last used, and
    /// `max_seconds` after it was opened however busy it is. At most
    /// `max_sessions` live at once (at least 1).
    session_table(std::int64_t idle_seconds, std::int64_t max_seconds, std::size_t max_sessions);

    /// A new session for `user`, with an id and a CSRF token from the
    /// system's randomness. When the table is full, expired sessions go
    /// first, then the one unused the longest. The reference lives until
    /// the next call that changes the table.
    const session& open(std::string_view user, std::int64_t now);

    /// The live session `id`, its last_seen moved to `now`; nullptr when
    /// unknown or expired (an expired one is dropped). The pointer lives
    /// until the next call that changes the table.
    const session* find(std::string_view id, std::int64_t now);

    void close(std::string_view id);
    /// Ends every session of `user`: after a password change or removal.
    void close_user(std::string_view user);
    [[nodiscard]] std::size_t size() const noexcept { return sessions_.size(); }

private:
    [[nodiscard]] bool expired(const session& s, std::int64_t now) const noexcept;

    std::int64_t idle_;
    std::int64_t max_;
    std::size_t max_sessions_;
    std::map<std::string, session, std::less<>> sessions_;  ///< by id
};

/// Whether `token` is the session's CSRF token, in constant time. False
/// when the lengths differ or the session has none.
bool csrf_ok(const session& s, std::string_view token);

/// Counts failed logins per key within a fixed window: after
/// `max_failures` failures, the key is refused until `window_seconds` have
/// passed since its first failure. The caller asks once for the client
/// address and once for the user name, with a prefix that keeps the two
/// kinds apart ("ip:", "user:"), so a guesser is slowed whether it tries
/// many names from one address or one name from many. At most `max_keys`
/// keys are remembered; a new key past that drops the one that failed
/// longest ago (an attacker flooding keys can thus erase records, but
/// never grow memory). Keys are kept to their first max_key_bytes.
class login_limiter {
public:
    static constexpr std::size_t max_key_bytes = 256;

    login_limiter(std::size_t max_failures, std::int64_t window_seconds, std::size_t max_keys);
    [[nodiscard]] bool allowed(std::string_view key, std::int64_t now) const;
    void failed(std::string_view key, std::int64_t now);
    /// Forgets the key's failures.
    void succeeded(std::string_view key);
    [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }

private:
    struct record {
        std::size_t failures = 0;
        std::int64_t first = 0;  ///< the window's start: the first failure in it
        std::int64_t last = 0;   ///< the latest failure: the oldest goes first when full
    };
    std::size_t max_failures_;
    std::int64_t window_;
    std::size_t max_keys_;
    std::map<std::string, record, std::less<>> keys_;
};

}  // namespace mxw::web
