// web/users_file.cpp: re-reading the users file when it changes (see
// users_file.hpp).
#include "web/users_file.hpp"

#include <sys/stat.h>

namespace mxw::web {

users_file::users_file(std::string path) : path_(std::move(path)) {}

users_file::stamp users_file::look() const
{
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0)
        return {};
    return {true, static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
            static_cast<std::int64_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino)};
}

const std::vector<web_user>& users_file::current()
{
    const stamp now = look();
    if (seen_ && *seen_ == now)
        return users_;
    seen_ = now;
    if (!now.exists) {
        users_.clear();
        error_ = "no users file " + path_;
        return users_;
    }
    try {
        users_ = load_users(path_);
        error_.clear();
    } catch (const users_error& e) {
        if (e.why() == users_error::kind::missing)
            users_.clear();
        error_ = e.what();
    }
    return users_;
}

}  // namespace mxw::web
