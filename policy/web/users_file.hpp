// web/users_file.hpp: the users file as mxwarden-web sees it while it runs.
// `mxwarden web-user add|passwd|del` rewrites the file (atomically, by
// rename); the pages ask for the users on every request, and this re-reads
// the file only when its modification time, size or inode changed, so an
// edit takes effect at the next request without a restart. Reads the file:
// not pure, but no thread and no global state.
#pragma once
#include "web/users.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mxw::web {

class users_file {
public:
    explicit users_file(std::string path);

    /// The users as the file says now. A missing file is no users (nobody
    /// can log in). A file that cannot be parsed keeps the last list read
    /// (a hand edit half done must not lock everyone out, nor let anyone
    /// in); `last_error()` says why.
    const std::vector<web_user>& current();
    [[nodiscard]] const std::string& last_error() const noexcept { return error_; }

private:
    struct stamp {
        bool exists = false;
        std::int64_t mtime_ns = 0;
        std::int64_t size = 0;
        std::uint64_t inode = 0;
        bool operator==(const stamp&) const = default;
    };
    stamp look() const;

    std::string path_;
    std::optional<stamp> seen_;  ///< what the file looked like when last read; unset before the first read
    std::vector<web_user> users_;
    std::string error_;
};

}  // namespace mxw::web
