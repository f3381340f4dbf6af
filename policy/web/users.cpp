// web/users.cpp: the users file's codec (pure), its atomic replacement,
// and the password hashes (libsodium).
#include "web/users.hpp"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mxw::web {
namespace {

constexpr std::string_view hash_prefix = "$argon2id$";

// sodium_init() keeps its own once-only state and is safe to call again;
// it fails only when the system cannot give it randomness.
void start_sodium()
{
    if (sodium_init() < 0)
        throw users_error("libsodium cannot start (no system randomness?)", users_error::kind::io);
}

bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '@' || c == '-';
}

// The hash is written by libsodium; this only keeps a line intact: no field
// separator, no blanks or control bytes that would make it two things.
bool hash_form_ok(std::string_view h)
{
    return h.starts_with(hash_prefix) && h.size() < crypto_pwhash_STRBYTES &&
           std::all_of(h.begin(), h.end(), [](char c) { return c > ' ' && c < 0x7f && c != ':'; });
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string errno_text(int e) { return std::strerror(e); }

// Closes the descriptor and removes the temporary file unless the rename
// took it.
class temp_file {
public:
    temp_file(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    ~temp_file()
    {
        if (fd_ >= 0)
            ::close(fd_);
        if (!path_.empty())
            ::unlink(path_.c_str());
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    int close()
    {
        int rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }
    void renamed() { path_.clear(); }

private:
    int fd_;
    std::string path_;
};

}  // namespace

std::string_view to_string(role r) noexcept { return r == role::admin ? "admin" : "reviewer"; }

std::optional<role> parse_role(std::string_view s) noexcept
{
    if (s == "admin")
        return role::admin;
    if (s == "reviewer")
        return role::reviewer;
    return std::nullopt;
}

bool valid_user_name(std::string_view name) noexcept
{
    return !name.empty() && name.size() <= max_name_bytes && std::all_of(name.begin(), name.end(), name_char);
}

std::optional<std::string> normal_domain(std::string_view domain)
{
    if (domain.empty() || domain.size() > 253)
        return std::nullopt;
    std::string out;
    out.reserve(domain.size());
    std::size_t label = 0;
    for (char c : domain) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c == '.') {
            if (label == 0 || out.back() == '-')
                return std::nullopt;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (c == '-' && label > 0)) {
            if (++label > 63)
                return std::nullopt;
        } else {
            return std::nullopt;
        }
        out.push_back(c);
    }
    // A trailing dot or hyphen: recipients never carry the root dot, so
    // "example.com." would never match and is refused rather than kept.
    if (label == 0 || out.back() == '-')
        return std::nullopt;
    return out;
}

std::string user_problem(const web_user& u)
{
    if (!valid_user_name(u.name))
        return "the name must be 1 to " + std::to_string(max_name_bytes) + " letters, digits, '.', '_', '@' or '-'";
    if (u.r == role::admin && !u.domains.empty())
        return "an admin sees every domain: give an admin no domains";
    if (u.r == role::reviewer && u.domains.empty())
        return "a reviewer needs at least one domain";
    if (u.domains.size() > max_domains_per_user)
        return "more than " + std::to_string(max_domains_per_user) + " domains";
    std::set<std::string_view> seen;
    for (const auto& d : u.domains) {
        auto n = normal_domain(d);
        if (!n || *n != d)
            return "'" + d + "' is not a lower-case domain name";
        if (!seen.insert(d).second)
            return "domain '" + d + "' is listed twice";
    }
    if (!hash_form_ok(u.hash))
        return "the password hash is not an Argon2id hash from mxwarden web-user";
    return {};
}

std::vector<web_user> parse_users(std::string_view text, std::string_view file_name)
{
    std::vector<web_user> users;
    std::set<std::string, std::less<>> names;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        auto nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        auto fail = [&](const std::string& why) {
            return users_error(std::string(file_name) + ":" + std::to_string(line_no) + ": " + why);
        };
        // Checked before anything is copied out of the line.
        if (raw.size() > max_line_bytes)
            throw fail("line longer than " + std::to_string(max_line_bytes) + " bytes");
        if (std::any_of(raw.begin(), raw.end(), [](char c) { return (c >= 0 && c < ' ' && c != '\t') || c == 0x7f; }))
            throw fail("control character in the line (a CR from a DOS editor?)");
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#')
            continue;

        std::string_view fields[4];
        for (int i = 0; i < 3; ++i) {
            auto colon = line.find(':');
            if (colon == std::string_view::npos)
                throw fail("not NAME:ROLE:DOMAINS:HASH (" + std::to_string(i + 1) + " field" + (i ? "s" : "") +
                           ")");
            fields[i] = line.substr(0, colon);
            line.remove_prefix(colon + 1);
        }
        fields[3] = line;

        web_user u;
        u.name = std::string(fields[0]);
        if (!valid_user_name(u.name))
            throw fail("user name '" + std::string(fields[0].substr(0, max_name_bytes + 1)) + "': must be 1 to " +
                       std::to_string(max_name_bytes) + " letters, digits, '.', '_', '@' or '-'");
        auto r = parse_role(fields[1]);
        if (!r)
            throw fail("user " + u.name + ": role '" + std::string(fields[1].substr(0, 32)) +
                       "' is not admin or reviewer");
        u.r = *r;
        std::string_view list = fields[2];
        while (!list.empty()) {
            auto comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
            if (u.domains.size() == max_domains_per_user)
                throw fail("user " + u.name + ": more than " + std::to_string(max_domains_per_user) + " domains");
            auto d = normal_domain(item);
            if (!d)
                throw fail("user " + u.name + ": '" + std::string(item.substr(0, 253)) + "' is not a domain name");
            u.domains.push_back(std::move(*d));
        }
        u.hash = std::string(fields[3]);
        if (auto why = user_problem(u); !why.empty())
            throw fail("user " + u.name + ": " + why);
        if (!names.insert(u.name).second)
            throw fail("user " + u.name + " is listed twice");
        if (users.size() == max_users)
            throw fail("more than " + std::to_string(max_users) + " users");
        users.push_back(std::move(u));
    }
    return users;
}

std::string format_users(const std::vector<web_user>& users)
{
    if (users.size() > max_users)
        throw users_error("more than " + std::to_string(max_users) + " users");
    std::string out = "# mxwarden-web users, written by `mxwarden web-user`: NAME:ROLE:DOMAINS:PASSWORD-HASH\n";
    std::set<std::string_view> names;
    for (const auto& u : users) {
        if (auto why = user_problem(u); !why.empty())
            throw users_error("user " + (valid_user_name(u.name) ? u.name : std::string("(bad name)")) + ": " + why);
        if (!names.insert(u.name).second)
            throw users_error("user " + u.name + " is listed twice");
        std::string line = u.name + ":" + std::string(to_string(u.r)) + ":";
        for (std::size_t i = 0; i < u.domains.size(); ++i)
            line += (i ? "," : "") + u.domains[i];
        line += ":" + u.hash + "\n";
        if (line.size() > max_line_bytes + 1)
            throw users_error("user " + u.name + ": line longer than " + std::to_string(max_line_bytes) + " bytes");
        out += line;
    }
    return out;
}

std::vector<web_user> load_users(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            throw users_error(path + ": no users file yet; create the first user with: mxwarden web-user add NAME "
                                     "--role admin",
                              users_error::kind::missing);
        throw users_error(path + ": cannot open: " + errno_text(e), users_error::kind::io);
    }
    temp_file guard(fd, "");  // closes it; an empty path removes nothing
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw users_error(path + ": cannot read: " + errno_text(errno), users_error::kind::io);
        }
        if (n == 0)
            break;
        if (text.size() + static_cast<std::size_t>(n) > max_file_bytes)
            throw users_error(path + ": larger than " + std::to_string(max_file_bytes) + " bytes; not a users file?");
        text.append(buf, static_cast<std::size_t>(n));
    }
    return parse_users(text, path);
}

void save_users(const std::string& path, const std::vector<web_user>& users)
{
    const std::string text = format_users(users);
    std::filesystem::path p(path);
    const std::string dir = p.has_parent_path() ? p.parent_path().string() : std::string(".");

    // The group mxwarden-web reads the file as: the file's own when it
    // exists (an admin may have set it), else the state directory's.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && ::stat(dir.c_str(), &st) != 0)
        throw users_error(dir + ": " + errno_text(errno), users_error::kind::cant_create);
    const gid_t group = st.st_gid;

    std::string tmpl = path + ".tmp.XXXXXX";
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0)
        throw users_error("cannot create a file next to " + path + ": " + errno_text(errno),
                          users_error::kind::cant_create);
    temp_file tmp(fd, tmpl);
    auto io_fail = [&](const std::string& what) {
        return users_error(what + " " + tmp.path() + ": " + errno_text(errno) + "; " + path + " is unchanged",
                           users_error::kind::io);
    };
    // fchmod, not the umask: the file holds hashes, which only mxwarden-web's
    // group may read.
    if (::fchmod(fd, 0640) != 0)
        throw io_fail("cannot set the mode of");
    // Changing the group needs root or membership; a file that has the
    // group already (made by a member) is fine as it is.
    if (::fchown(fd, static_cast<uid_t>(-1), group) != 0) {
        struct stat made {};
        if (::fstat(fd, &made) != 0 || made.st_gid != group)
            throw io_fail("cannot give group " + std::to_string(group) + " to");
    }
    std::string_view rest = text;
    while (!rest.empty()) {
        ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw io_fail("cannot write");
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    // The rename must not be seen before the data: without the fsync a
    // crash could leave an empty users file, and nobody could log in.
    if (::fsync(fd) != 0)
        throw io_fail("cannot sync");
    if (tmp.close() != 0)
        throw io_fail("cannot close");
    if (::rename(tmp.path().c_str(), path.c_str()) != 0)
        throw io_fail("cannot rename");
    tmp.renamed();
    // The rename itself is durable once the directory is synced.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
        int e = errno;
        if (dfd >= 0)
            ::close(dfd);
        throw users_error("cannot sync the directory " + dir + ": " + errno_text(e) + "; " + path +
                              " was written but may not survive a crash",
                          users_error::kind::io);
    }
    ::close(dfd);
}

std::string hash_password(std::string_view password)
{
    if (password.empty())
        throw users_error("the password is empty");
    if (password.size() > max_password_bytes)
        throw users_error("the password is longer than " + std::to_string(max_password_bytes) + " bytes");
    start_sodium();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw users_error("cannot hash the password: out of memory", users_error::kind::io);
    std::string h(out);
    sodium_memzero(out, sizeof out);
    return h;
}

bool verify_password(std::string_view hash, std::string_view password)
{
    if (password.size() > max_password_bytes || !hash_form_ok(hash))
        return false;
    start_sodium();
    // libsodium wants the hash NUL-terminated; hash_form_ok capped its size.
    char h[crypto_pwhash_STRBYTES] = {};
    std::memcpy(h, hash.data(), hash.size());
    return crypto_pwhash_str_verify(h, password.data(), password.size()) == 0;
}

const web_user* find_user(const std::vector<web_user>& users, std::string_view name)
{
    auto it = std::find_if(users.begin(), users.end(), [&](const web_user& u) { return u.name == name; });
    return it == users.end() ? nullptr : &*it;
}

bool may_see(const web_user& u, const std::vector<std::string>& recipients)
{
    if (u.r == role::admin)
        return true;
    // An entry without recipients belongs to no domain: only admins see it.
    if (recipients.empty())
        return false;
    for (const auto& rcpt : recipients) {
        // The last '@': a quoted local part may hold one of its own.
        auto at = rcpt.rfind('@');
        if (at == std::string::npos)
            return false;
        std::string_view domain = std::string_view(rcpt).substr(at + 1);
        if (domain.ends_with('.'))
            domain.remove_suffix(1);
        auto d = normal_domain(domain);
        if (!d || std::find(u.domains.begin(), u.domains.end(), *d) == u.domains.end())
            return false;
    }
    return true;
}

}  // namespace mxw::web
