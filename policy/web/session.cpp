// web/session.cpp: session table and login limiter (see session.hpp).
#include "web/session.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace mxw::web {
namespace {

std::string random_hex()
{
    // sodium_init keeps its own once-only state; randombytes_buf needs it
    // only to pick its source, and fails for nothing once it has run.
    if (sodium_init() < 0)
        throw std::runtime_error("libsodium cannot start (no system randomness?)");
    std::array<unsigned char, 32> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::array<char, 2 * 32 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
    return std::string(hex.data(), 2 * 32);
}

}  // namespace

session_table::session_table(std::int64_t idle_seconds, std::int64_t max_seconds, std::size_t max_sessions)
    : idle_(idle_seconds), max_(max_seconds), max_sessions_(std::max<std::size_t>(max_sessions, 1))
{
}

bool session_table::expired(const session& s, std::int64_t now) const noexcept
{
    return now - s.last_seen >= idle_ || now - s.created >= max_;
}

const session& session_table::open(std::string_view user, std::int64_t now)
{
    if (sessions_.size() >= max_sessions_) {
        std::erase_if(sessions_, [&](const auto& kv) { return expired(kv.second, now); });
        while (sessions_.size() >= max_sessions_) {
            auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
                return a.second.last_seen < b.second.last_seen;
            });
            sessions_.erase(oldest);
        }
    }
    session s{random_hex(), random_hex(), std::string(user), now, now};
    // 256 random bits do not collide; the loop only makes the map's
    // uniqueness explicit.
    while (sessions_.contains(s.id))
        s.id = random_hex();
    std::string id = s.id;
    return sessions_.emplace(std::move(id), std::move(s)).first->second;
}

const session* session_table::find(std::string_view id, std::int64_t now)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return nullptr;
    if (expired(it->second, now)) {
        sessions_.erase(it);
        return nullptr;
    }
    // A clock stepped back must not make a session look fresher or older.
    it->second.last_seen = std::max(it->second.last_seen, now);
    return &it->second;
}

void session_table::close(std::string_view id)
{
    if (auto it = sessions_.find(id); it != sessions_.end())
        sessions_.erase(it);
}

void session_table::close_user(std::string_view user)
{
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.user == user; });
}

bool csrf_ok(const session& s, std::string_view token)
{
    if (s.csrf.empty() || token.size() != s.csrf.size())
        return false;
    return sodium_memcmp(s.csrf.data(), token.data(), token.size()) == 0;
}

login_limiter::login_limiter(std::size_t max_failures, std::int64_t window_seconds, std::size_t max_keys)
    : max_failures_(max_failures), window_(window_seconds), max_keys_(std::max<std::size_t>(max_keys, 1))
{
}

bool login_limiter::allowed(std::string_view key, std::int64_t now) const
{
    auto it = keys_.find(key.substr(0, max_key_bytes));
    if (it == keys_.end() || now - it->second.first >= window_)
        return true;
    return it->second.failures < max_failures_;
}

void login_limiter::failed(std::string_view key, std::int64_t now)
{
    key = key.substr(0, max_key_bytes);
    auto it = keys_.find(key);
    if (it == keys_.end()) {
        if (keys_.size() >= max_keys_) {
            auto oldest = std::min_element(keys_.begin(), keys_.end(), [](const auto& a, const auto& b) {
                return a.second.last < b.second.last;
            });
            keys_.erase(oldest);
        }
        it = keys_.emplace(std::string(key), record{}).first;
    }
    auto& r = it->second;
    if (r.failures == 0 || now - r.first >= window_) {
        r.failures = 0;
        r.first = now;
    }
    ++r.failures;
    r.last = std::max(r.last, now);
}

void login_limiter::succeeded(std::string_view key)
{
    if (auto it = keys_.find(key.substr(0, max_key_bytes)); it != keys_.end())
        keys_.erase(it);
}

}  // namespace mxw::web
