#include "cli/web_user_cli.hpp"

#include "cli/verb_config.hpp"
#include "base/args.hpp"
#include "proto/json.hpp"
#include "proto/sanitize.hpp"
#include "web/users.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <stdexcept>
#include <sysexits.h>

#include <fcntl.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

namespace mxw::cli {
namespace {

constexpr std::string_view usage = R"(usage: mxwarden [-c FILE] [--section.key=value ...] web-user VERB ...

verbs:
  add NAME --role admin|reviewer [--domains example.com,example.org]
                  a new user of mxwarden-web. An admin sees and acts on
                  every entry; a reviewer (who needs --domains) only on
                  entries whose recipients are all in those domains.
  passwd NAME     a new password for NAME
  del NAME        remove NAME
  list [--json]   the users, their roles and domains (never the hashes)

The users file is web.users (default STATE-DIR/web-users). The password is
read from standard input (one line) when it is not a terminal, else from
the terminal without echo, twice. Exit 64 for bad usage, 65 for a bad name,
role, domain or password, 67 for an unknown user, 73 when the file cannot
be created, 74 when it cannot be read or written.
)";

constexpr base::arg_option options[] = {{"--role", base::takes_value}, {"--domains", base::takes_value},
                                        {"--json"}};

// A refusal with its exit status, thrown from anywhere in a verb.
struct failure : std::runtime_error {
    failure(int s, const std::string& what) : std::runtime_error(what), status(s) {}
    int status;
};

int status_of(const web::users_error& e, int when_missing)
{
    switch (e.why()) {
    case web::users_error::kind::syntax: return EX_DATAERR;
    case web::users_error::kind::missing: return when_missing;
    case web::users_error::kind::cant_create: return EX_CANTCREAT;
    case web::users_error::kind::io: break;
    }
    return EX_IOERR;
}

// One line from `fd`, without its line end. Reading stops at max+1 bytes:
// nothing longer is a password we take, and a runaway pipe is not read to
// its end.
std::string read_line(int fd)
{
    std::string line;
    char c = 0;
    for (;;) {
        ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw failure(EX_IOERR, std::string("cannot read the password: ") + std::strerror(errno));
        if (n == 0 || c == '\n')
            break;
        line.push_back(c);
        if (line.size() > web::max_password_bytes)
            throw failure(EX_DATAERR, "the password is longer than " + std::to_string(web::max_password_bytes) +
                                          " bytes");
    }
    // A line from a DOS-edited file: a web form never sends the CR.
    if (line.ends_with('\r'))
        line.pop_back();
    return line;
}

// Echo off while the password is typed, back on however the read ends.
class no_echo {
public:
    explicit no_echo(int fd) : fd_(fd)
    {
        if (::tcgetattr(fd_, &saved_) != 0)
            throw failure(EX_IOERR, std::string("cannot set up the terminal: ") + std::strerror(errno));
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        if (::tcsetattr(fd_, TCSAFLUSH, &quiet) != 0)
            throw failure(EX_IOERR, std::string("cannot switch the terminal's echo off: ") + std::strerror(errno));
    }
    ~no_echo() { ::tcsetattr(fd_, TCSAFLUSH, &saved_); }
    no_echo(const no_echo&) = delete;
    no_echo& operator=(const no_echo&) = delete;

private:
    int fd_;
    termios saved_{};
};

std::string ask_password(const std::string& name)
{
    std::string password;
    if (!::isatty(STDIN_FILENO)) {
        password = read_line(STDIN_FILENO);
    } else {
        std::string again;
        {
            no_echo quiet(STDIN_FILENO);
            std::cerr << "password for " << name << ": " << std::flush;
            password = read_line(STDIN_FILENO);
            if (!password.empty()) {
                std::cerr << "again: " << std::flush;
                again = read_line(STDIN_FILENO);
            }
        }
        if (!password.empty() && again != password)
            throw failure(EX_DATAERR, "the two passwords differ; nothing changed");
    }
    if (password.empty())
        throw failure(EX_DATAERR, "the password is empty; nothing changed");
    return password;
}

// Serialises the read-modify-write of concurrent web-user runs. The lock
// is on the directory, not the file: the file is replaced by a rename, and
// a lock on the old one would not stop a second writer.
class dir_lock {
public:
    explicit dir_lock(const std::string& users_path)
    {
        std::filesystem::path p(users_path);
        std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
        fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_ < 0)
            throw failure(EX_CANTCREAT, "cannot open the directory of " + users_path + ": " + std::strerror(errno));
        if (::flock(fd_, LOCK_EX) != 0) {
            int e = errno;
            ::close(fd_);
            throw failure(EX_IOERR, "cannot lock " + dir + ": " + std::strerror(e));
        }
    }
    ~dir_lock() { ::close(fd_); }
    dir_lock(const dir_lock&) = delete;
    dir_lock& operator=(const dir_lock&) = delete;

private:
    int fd_ = -1;
};

std::vector<web::web_user> load(const std::string& path, int when_missing)
{
    try {
        return web::load_users(path);
    } catch (const web::users_error& e) {
        throw failure(status_of(e, when_missing), e.what());
    }
}

// Under the lock: the file as it is now (none yet counts as empty for
// `add`), changed by `change`, saved.
void update(const std::string& path, bool may_be_new, const std::function<void(std::vector<web::web_user>&)>& change)
{
    dir_lock lock(path);
    std::vector<web::web_user> users;
    try {
        users = web::load_users(path);
    } catch (const web::users_error& e) {
        if (!(may_be_new && e.why() == web::users_error::kind::missing))
            throw failure(status_of(e, EX_NOUSER), e.what());
    }
    change(users);
    try {
        web::save_users(path, users);
    } catch (const web::users_error& e) {
        throw failure(status_of(e, EX_IOERR), e.what());
    }
}

std::string hash(const std::string& password)
{
    try {
        return web::hash_password(password);
    } catch (const web::users_error& e) {
        throw failure(status_of(e, EX_IOERR), e.what());
    }
}

std::vector<std::string> parse_domains(std::string_view list)
{
    std::vector<std::string> out;
    std::set<std::string, std::less<>> seen;
    for (;;) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        auto d = web::normal_domain(item);
        if (!d)
            throw failure(EX_DATAERR, "--domains: '" + proto::sanitize(item) + "' is not a domain name");
        if (!seen.insert(*d).second)
            throw failure(EX_DATAERR, "--domains: " + *d + " is listed twice");
        out.push_back(std::move(*d));
        if (out.size() > web::max_domains_per_user)
            throw failure(EX_DATAERR, "--domains: more than " + std::to_string(web::max_domains_per_user) +
                                          " domains");
        if (comma == std::string_view::npos)
            return out;
        list.remove_prefix(comma + 1);
    }
}

// A name given on the command line: one that cannot be valid cannot be a
// user either.
const std::string& checked_name(const std::string& name, int status)
{
    if (!web::valid_user_name(name))
        throw failure(status, "'" + proto::sanitize(name) + "' is not a user name (1 to " +
                                  std::to_string(web::max_name_bytes) + " letters, digits, '.', '_', '@' or '-')");
    return name;
}

std::string describe(const web::web_user& u)
{
    if (u.r == web::role::admin)
        return "admin";
    std::string s = "reviewer of ";
    for (std::size_t i = 0; i < u.domains.size(); ++i)
        s += (i ? ", " : "") + u.domains[i];
    return s;
}

int add(const base::parsed_args& a, const std::string& path)
{
    const std::string& name = checked_name(a.positional.at(1), EX_DATAERR);
    const std::string* role_text = a.value("--role");
    if (!role_text)
        throw failure(EX_USAGE, "add needs --role admin or --role reviewer");
    auto r = web::parse_role(*role_text);
    if (!r)
        throw failure(EX_DATAERR, "--role: '" + proto::sanitize(*role_text) + "' is not admin or reviewer");
    const std::string* domains = a.value("--domains");
    if (*r == web::role::admin && domains)
        throw failure(EX_USAGE, "an admin sees every domain: leave out --domains, or use --role reviewer");
    if (*r == web::role::reviewer && !domains)
        throw failure(EX_USAGE, "a reviewer needs --domains example.com[,example.org...]: the domains whose mail "
                                "it may see");
    web::web_user u{name, *r, domains ? parse_domains(*domains) : std::vector<std::string>{}, {}};

    // Refused before the password is asked for; asked again under the lock.
    auto refuse_existing = [&](const std::vector<web::web_user>& users) {
        if (web::find_user(users, name))
            throw failure(EX_DATAERR, "web user " + name + " exists already; change the password with "
                                      "mxwarden web-user passwd " + name + ", the role with del and add");
    };
    if (std::filesystem::exists(path))
        refuse_existing(load(path, EX_IOERR));
    u.hash = hash(ask_password(name));
    update(path, true, [&](std::vector<web::web_user>& users) {
        refuse_existing(users);
        if (users.size() == web::max_users)
            throw failure(EX_CANTCREAT, "there are " + std::to_string(web::max_users) + " users already, the most "
                                        "the file holds");
        users.push_back(u);
    });
    std::cout << "web user " << name << " added (" << describe(u) << ") to " << path << "\n";
    return 0;
}

web::web_user& existing(std::vector<web::web_user>& users, const std::string& name, const std::string& path)
{
    auto it = std::find_if(users.begin(), users.end(), [&](const web::web_user& u) { return u.name == name; });
    if (it == users.end())
        throw failure(EX_NOUSER, "no web user " + name + " in " + path);
    return *it;
}

int passwd(const base::parsed_args& a, const std::string& path)
{
    const std::string& name = checked_name(a.positional.at(1), EX_NOUSER);
    auto users = load(path, EX_NOUSER);
    existing(users, name, path);
    std::string h = hash(ask_password(name));
    update(path, false, [&](std::vector<web::web_user>& now) { existing(now, name, path).hash = h; });
    std::cout << "web user " << name << ": password changed in " << path << "\n";
    return 0;
}

int del(const base::parsed_args& a, const std::string& path)
{
    const std::string& name = checked_name(a.positional.at(1), EX_NOUSER);
    update(path, false, [&](std::vector<web::web_user>& users) {
        existing(users, name, path);
        std::erase_if(users, [&](const web::web_user& u) { return u.name == name; });
    });
    std::cout << "web user " << name << " removed from " << path << "\n";
    return 0;
}

int list(const base::parsed_args& a, const std::string& path)
{
    auto users = load(path, EX_NOINPUT);
    if (a.has("--json")) {
        proto::json_writer j;
        j.begin_array();
        for (const auto& u : users) {
            j.begin_object().key("name").value(u.name).key("role").value(web::to_string(u.r)).key("domains");
            j.begin_array();
            for (const auto& d : u.domains)
                j.value(d);
            j.end_array().end_object();
        }
        j.end_array();
        std::cout << j.str() << "\n";
        return 0;
    }
    std::size_t width = 4;
    for (const auto& u : users)
        width = std::max(width, u.name.size());
    for (const auto& u : users) {
        std::cout << u.name << std::string(width + 2 - u.name.size(), ' ') << web::to_string(u.r);
        for (std::size_t i = 0; i < u.domains.size(); ++i)
            std::cout << (i ? "," : (u.r == web::role::reviewer ? "  " : " ")) << u.domains[i];
        std::cout << "\n";
    }
    return 0;
}

}  // namespace

int run_web_user(std::span<const std::string_view> global, std::span<const std::string_view> args)
{
    if (std::find(args.begin(), args.end(), "--help") != args.end() ||
        std::find(args.begin(), args.end(), "-h") != args.end()) {
        std::cout << usage;
        return 0;
    }
    auto a = base::parse_args(args, {options, base::config_args::overrides});
    const std::string verb = a.positional.empty() ? "" : a.positional.front();
    const bool known = verb == "add" || verb == "passwd" || verb == "del" || verb == "list";
    const std::size_t want_positional = verb == "list" ? 1 : 2;
    if (a.errors.empty() && !known)
        a.errors.push_back(verb.empty() ? "no verb given" : "unknown verb '" + proto::sanitize(verb) + "'");
    if (a.errors.empty() && a.positional.size() != want_positional)
        a.errors.push_back(a.positional.size() < want_positional ? verb + " needs a user name"
                                                                   : "unexpected '" +
                                                                         proto::sanitize(a.positional.back()) + "'");
    for (const auto& [opt, value] : a.options)
        if ((opt == "--json" && verb != "list") || ((opt == "--role" || opt == "--domains") && verb != "add"))
            a.errors.push_back(opt + " does not go with " + (verb.empty() ? "no verb" : verb));
    if (!a.errors.empty()) {
        for (const auto& e : a.errors)
            std::cerr << "mxwarden web-user: " << e << "\n";
        std::cerr << usage;
        return EX_USAGE;
    }
    auto vc = load_verb_config(global, a.overrides);
    if (!vc.cfg) {
        for (const auto& e : vc.errors)
            std::cerr << "mxwarden: " << e << "\n";
        return EX_CONFIG;
    }
    const std::string& path = vc.cfg->web.users;
    try {
        if (verb == "add")
            return add(a, path);
        if (verb == "passwd")
            return passwd(a, path);
        if (verb == "del")
            return del(a, path);
        return list(a, path);
    } catch (const failure& e) {
        std::cerr << "mxwarden web-user " << verb << ": " << e.what() << "\n";
        return e.status;
    } catch (const std::exception& e) {
        std::cerr << "mxwarden web-user " << verb << ": " << e.what() << "\n";
        return EX_SOFTWARE;
    }
}

}  // namespace mxw::cli
