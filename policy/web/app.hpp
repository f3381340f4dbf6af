// web/app.hpp: the pages of mxwarden-web: log in and out, the quarantine
// list, an entry, the bulk confirmation and results, the raw download and
// the health page. The server (web/http_server) reads and caps the request
// and calls app::handle(); everything the pages need from outside (the
// store, the users file, the daemon's health report, the release) comes in
// as functions, so tests drive handle() directly with a real SQLite
// quarantine and fakes for the rest. No socket, no thread, no global state.
//
// Stable names for browser tests (selenium) and for anyone scripting:
//   login:      form#login  input#login-user[name=user]  input#login-password[name=password]
//               button#login-submit  p#login-error.error
//   every page: nav a#nav-quarantine  a#nav-health  span#user  form#logout > button#logout-submit
//               p.error (what went wrong) on 4xx/5xx pages
//   list:       form#filter (GET): select[name=state] input[name=reason|domain|sender|since|q]
//               button#filter-submit; p#total; table#entries tr.entry[data-id]
//               (a td > a.entry-link to the entry); a#older (next page)
//               form#bulk (POST /quarantine/confirm): input.select[name=id] per row,
//               input#bulk-all[name=all], button#bulk-release / #bulk-delete [name=action]
//   entry:      dl#envelope  pre#headers  pre#evidence  table#history tr.event  pre#body
//               p#body-cut (shown when the body was cut)  a#download (raw)
//               form#release-form > button#release, form#delete-form > button#delete
//   confirm:    p#confirm-summary  table#confirm-entries tr.entry[data-id]
//               form#confirm-form > button#confirm, a#cancel
//   results:    div#results p.result.ok|.failed[data-id]
//   health:     table#hosts tr.host[data-address]  table#failing tr.failing[data-domain]
//               svg#chart-decisions  svg#chart-dns-failures  svg#chart-dead-hosts
//               p#health-unreachable (daemon not reachable)
#pragma once
#include "proto/health_report.hpp"
#include "store/quarantine.hpp"
#include "web/http_types.hpp"
#include "web/session.hpp"
#include "web/users.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mxw::web {

/// What one release did; `message` is for the person who asked (shown
/// escaped), e.g. "released to 2 recipients" or "already released".
struct release_outcome {
    bool ok = false;
    std::string message;
};

/// Opens the quarantine for one request: nullptr when there is none yet
/// (SQLite before the first ingest), which the pages show as empty.
/// Throws store::store_error when it cannot be opened.
using store_opener = std::function<std::unique_ptr<store::quarantine>()>;
/// The users as the file says now (the binary re-reads it when it changes).
using users_source = std::function<std::vector<web_user>()>;
/// mxwardend's health report; nullopt when the daemon cannot be reached.
using health_source = std::function<std::optional<proto::health_report>()>;
/// Releases entry `id` (the CLI's release logic), recording `by`
/// ("web:NAME") in its history.
using releaser = std::function<release_outcome(std::int64_t id, const std::string& by)>;

struct app_options {
    /// Adds "Secure" to the session cookie: set it when a TLS proxy is in
    /// front (the default listener is plain HTTP on loopback).
    bool secure_cookies = false;
    /// The cookie's Max-Age: the session table's absolute lifetime.
    std::int64_t session_max_seconds = 8 * 3600;
    /// Retry-After on a refused login: the limiter's window.
    std::int64_t login_retry_after_seconds = 300;
    /// Origins a POST may come from besides the request's own Host
    /// ("https://mail.example.com" when a proxy rewrites Host).
    std::vector<std::string> extra_origins;
    /// Entries on one list page.
    std::size_t page_size = 50;
};

/// The most entries one bulk action ("all matching this filter") touches;
/// a larger set is done in several rounds, each confirmed.
inline constexpr std::size_t max_bulk_entries = 5000;
/// How much of a message an entry page shows: its header section and its
/// body (the raw download has all of it).
inline constexpr std::size_t max_shown_header_bytes = 64 * 1024;
inline constexpr std::size_t max_shown_body_bytes = 256 * 1024;
/// Longest accepted filter value; longer is a 400.
inline constexpr std::size_t max_filter_value_bytes = 512;

struct app_deps {
    store_opener open_store;
    users_source users;
    health_source health;
    releaser release;
};

class app : public handler {
public:
    /// `sessions` and `limiter` outlive the app; the app is used from the
    /// server's one thread, like them. Hashes one password (libsodium):
    /// throws users_error when libsodium cannot start.
    app(app_deps deps, session_table& sessions, login_limiter& limiter, app_options opt = {});

    /// Never throws: a store that fails is a 503 page, anything else a 500
    /// page saying only that something went wrong.
    response handle(const request& r, std::int64_t now) override;

    struct context;  // one request, once its user is known (app.cpp)

private:
    response route(const request& r, std::int64_t now);
    response login_page(const request& r, std::int64_t now);
    response login(const request& r, std::int64_t now);

    app_deps deps_;
    session_table& sessions_;
    login_limiter& limiter_;
    app_options opt_;
    /// A hash of nothing anyone types, verified against when the name is
    /// unknown (see login).
    std::string dummy_hash_;
};

}  // namespace mxw::web
