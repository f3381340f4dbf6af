// web/users.hpp: who may use mxwarden-web and what each may see. The
// users file (web.users) holds one user a line, written by `mxwarden
// web-user` and read by mxwarden-web:
//
//   users-file = *(comment / blank / user)
//   comment    = *WSP "#" *VCHAR-or-WSP LF
//   user       = name ":" role ":" [domain *("," domain)] ":" hash LF
//   name       = 1*64 (ALPHA / DIGIT / "." / "_" / "@" / "-")
//   role       = "admin" / "reviewer"      ; an admin has no domains, a reviewer at least one
//   domain     = DNS name, stored lower case (labels of a-z 0-9 "-" "_", at most 253 bytes)
//   hash       = "$argon2id$" ...          ; libsodium's crypto_pwhash_str text, which has no ":"
//
// Limits: max_line_bytes a line, max_users users, max_domains_per_user
// domains a user, max_file_bytes the file. Passwords are hashed with
// Argon2id (libsodium); the file never holds one in clear.
#pragma once
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mxw::web {

inline constexpr std::size_t max_line_bytes = 8192;
inline constexpr std::size_t max_users = 1000;
inline constexpr std::size_t max_domains_per_user = 256;
inline constexpr std::size_t max_name_bytes = 64;
/// max_users lines of max_line_bytes would be 8 MiB; no real file comes near
/// this, and load_users refuses to read more.
inline constexpr std::size_t max_file_bytes = 4 * 1024 * 1024;
/// Longer passwords are refused (CLI) or never match (verify_password):
/// a login form must not make us hash megabytes.
inline constexpr std::size_t max_password_bytes = 1024;

enum class role { admin, reviewer };

struct web_user {
    std::string name;
    role r = role::reviewer;
    std::vector<std::string> domains;  ///< lower case; empty for an admin
    std::string hash;                  ///< crypto_pwhash_str text ("$argon2id$...")
    bool operator==(const web_user&) const = default;
};

/// Messages are for an admin: "FILE:LINE: why" for a parse error.
class users_error : public std::runtime_error {
public:
    enum class kind {
        syntax,      ///< the file or a user is malformed
        missing,     ///< load_users: the file does not exist
        cant_create, ///< save_users: no temporary file could be made next to it
        io,          ///< reading, writing, syncing or renaming failed
    };
    explicit users_error(const std::string& what, kind k = kind::syntax) : std::runtime_error(what), kind_(k) {}
    [[nodiscard]] kind why() const noexcept { return kind_; }

private:
    kind kind_;
};

/// "admin" / "reviewer", and back (nullopt for anything else).
std::string_view to_string(role r) noexcept;
std::optional<role> parse_role(std::string_view s) noexcept;

/// 1 to max_name_bytes of [A-Za-z0-9._@-].
bool valid_user_name(std::string_view name) noexcept;

/// `domain` lower-cased when it is a DNS name mxwarden can match a
/// recipient against, else nullopt.
std::optional<std::string> normal_domain(std::string_view domain);

/// Why `u` cannot be stored (name, role and domains, hash form), or "" when
/// it can. parse_users and format_users both apply it.
std::string user_problem(const web_user& u);

/// Pure. Throws users_error naming `file_name` and the line.
std::vector<web_user> parse_users(std::string_view text, std::string_view file_name);

/// Pure; parse_users(format_users(u)) == u. Throws users_error for a user
/// parse_users would refuse, so a bad file is never written.
std::string format_users(const std::vector<web_user>& users);

/// Reads and parses the file. A missing file is kind::missing, with a
/// message saying how to create the first user.
std::vector<web_user> load_users(const std::string& path);

/// Replaces the file atomically: a temporary file in the same directory,
/// fsync, rename, fsync of the directory. Mode 0640; the group is the
/// existing file's, or for a new file the directory's (the state directory
/// belongs to the group mxwarden-web runs as).
void save_users(const std::string& path, const std::vector<web_user>& users);

/// Argon2id with libsodium's interactive limits. Throws users_error for an
/// empty password, one longer than max_password_bytes, or when libsodium
/// cannot start or runs out of memory.
std::string hash_password(std::string_view password);

/// Constant time (libsodium). False for a wrong password, a malformed hash,
/// and a password longer than max_password_bytes.
bool verify_password(std::string_view hash, std::string_view password);

/// The user called exactly `name` (names are case-sensitive), or nullptr.
/// The pointer lives as long as `users` is not changed.
const web_user* find_user(const std::vector<web_user>& users, std::string_view name);

/// An admin sees every entry. A reviewer sees an entry only when it has
/// recipients and every one of their domains (case-blind) is one of the
/// reviewer's: one recipient outside them hides the whole message, which
/// holds every recipient's address.
bool may_see(const web_user& u, const std::vector<std::string>& recipients);

}  // namespace mxw::web
