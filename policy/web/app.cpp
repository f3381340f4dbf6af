// web/app.cpp: the routes of mxwarden-web (see app.hpp). Every page is
// built from escaped text; nothing a message or a form holds reaches the
// markup unescaped. Access is decided here, on every request, from the
// users file as it is now: a reviewer's list is filtered by the store to
// their domains, and an entry they may not see answers 404 whatever asks
// for it (a page, the download, an id smuggled into a bulk form), so its
// existence is not revealed.
#include "web/app.hpp"

#include "base/duration.hpp"
#include "proto/form.hpp"
#include "proto/json_indent.hpp"
#include "proto/sanitize.hpp"
#include "store/error.hpp"
#include "web/html.hpp"
#include "web/svg_chart.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <exception>
#include <set>
#include <string_view>

namespace mxw::web {

namespace {

constexpr std::string_view cookie_name = "mxw_session";

struct http_error {
    unsigned status;
    std::string message;  // text, escaped when shown
};

[[noreturn]] void fail(unsigned status, std::string message) { throw http_error{status, std::move(message)}; }

std::string status_title(unsigned s)
{
    switch (s) {
    case 400: return "Bad request";
    case 403: return "Forbidden";
    case 404: return "Not found";
    case 405: return "Method not allowed";
    case 429: return "Too many attempts";
    case 503: return "Store unavailable";
    default: return "Error";
    }
}

response html_page(unsigned status, std::string_view title, std::string_view body,
                   const std::optional<nav_user>& nav, std::string_view active = "")
{
    response out;
    out.status = status;
    out.body = layout(title, body, nav, active);
    return out;
}

response error_page(const http_error& e, const std::optional<nav_user>& nav)
{
    std::string body = "<p class=\"error\">" + escape(e.message) + "</p>\n";
    if (nav)
        body += "<p><a href=\"/quarantine\">Back to the quarantine</a></p>";
    else
        body += "<p><a href=\"/login\">Log in</a></p>";
    return html_page(e.status, status_title(e.status), body, nav);
}

response redirect(std::string location)
{
    response out;
    out.status = 303;
    out.headers.emplace_back("Location", std::move(location));
    out.content_type = "text/plain; charset=utf-8";
    out.body = "See Other\n";
    return out;
}

std::optional<std::int64_t> parse_id(std::string_view s)
{
    std::int64_t v = 0;
    // At most 18 digits: no overflow, and no id is longer.
    if (s.empty() || s.size() > 18)
        return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0)
        return std::nullopt;
    return v;
}

std::string format_time(std::int64_t t)
{
    if (t <= 0)
        return "-";
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string format_age(std::int64_t then, std::int64_t now)
{
    if (then <= 0)
        return "-";
    const std::int64_t d = std::max<std::int64_t>(now - then, 0);
    if (d < 120)
        return std::to_string(d) + " s";
    if (d < 7200)
        return std::to_string(d / 60) + " min";
    if (d < 2 * 86400)
        return std::to_string(d / 3600) + " h";
    return std::to_string(d / 86400) + " d";
}

/// A duration back from `now` ("2h", "7d"), or a UTC date or date and time:
/// the same forms as `mxwarden quarantine list --since`.
std::optional<std::int64_t> parse_since(std::string_view s, std::int64_t now)
{
    if (auto d = base::parse_duration(s))
        return now - std::chrono::duration_cast<std::chrono::seconds>(*d).count();
    std::string str(s);
    for (const char* fmt : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
        std::tm tm{};
        const char* end = strptime(str.c_str(), fmt, &tm);
        if (end && *end == '\0')
            return static_cast<std::int64_t>(timegm(&tm));
    }
    return std::nullopt;
}

std::string hidden(std::string_view name, std::string_view value)
{
    return "<input type=\"hidden\" name=\"" + escape(name) + "\" value=\"" + escape(value) + "\">";
}

std::string cookie_header(std::string_view id, std::int64_t max_age, bool secure)
{
    std::string c(cookie_name);
    c += '=';
    c += id;
    c += "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
    if (secure)
        c += "; Secure";
    return c;
}

std::optional<std::string> session_cookie(const request& r)
{
    auto cookies = proto::parse_cookies(r.cookie);
    if (!cookies)
        return std::nullopt;
    return proto::form_value(*cookies, cookie_name);
}

/// The request's form: the query for GET, the body for POST.
proto::form_fields form_of(const request& r)
{
    const bool post = r.method == "POST";
    if (post && !r.body.empty() && r.content_type != "application/x-www-form-urlencoded")
        fail(400, "this form must be sent as application/x-www-form-urlencoded");
    auto f = proto::parse_form(post ? r.body : r.query);
    if (!f)
        fail(400, "the form or query string is malformed");
    return std::move(*f);
}

/// "scheme://host[:port]" -> "host[:port]", lower case; "" when not that shape.
std::string origin_host(std::string_view origin)
{
    auto p = origin.find("://");
    if (p == std::string_view::npos)
        return "";
    auto host = origin.substr(p + 3);
    if (host.empty() || host.find_first_of("/?#@") != std::string_view::npos)
        return "";
    return proto::to_lower(host);
}

/// The login form; after a failure it keeps the name and says only that
/// the pair was wrong (never which half).
std::string login_form(std::string_view name, bool failed)
{
    std::string b;
    if (failed)
        b += "<p class=\"error\" id=\"login-error\">wrong user name or password</p>";
    b += "<form id=\"login\" class=\"login\" method=\"post\" action=\"/login\">"
         "<label>User name <input type=\"text\" id=\"login-user\" name=\"user\" autocomplete=\"username\" "
         "required value=\"";
    b += escape(name);
    b += "\"></label><label>Password <input type=\"password\" id=\"login-password\" name=\"password\" "
         "autocomplete=\"current-password\" required></label>"
         "<button id=\"login-submit\" type=\"submit\">Log in</button></form>";
    return b;
}

// ---- the quarantine filter --------------------------------------------------

/// The list filter as the form sent it, kept verbatim for links and hidden
/// fields, and as the store reads it.
struct filter_fields {
    std::string state = "held", reason, domain, sender, since, q;
    store::list_filter filter;
};

filter_fields read_filter(const proto::form_fields& f, const web_user& u, std::int64_t now)
{
    filter_fields out;
    auto take = [&](std::string_view name, std::string& into) {
        if (auto v = proto::form_value(f, name)) {
            if (v->size() > max_filter_value_bytes)
                fail(400, std::string(name) + ": longer than " + std::to_string(max_filter_value_bytes) + " bytes");
            into = *v;
        }
    };
    take("state", out.state);
    take("reason", out.reason);
    take("domain", out.domain);
    take("sender", out.sender);
    take("since", out.since);
    take("q", out.q);
    if (out.state.empty())
        out.state = "held";
    if (out.state != "all") {
        auto st = store::parse_entry_state(out.state);
        if (!st)
            fail(400, "state: '" + out.state + "' is not one of held, releasing, released, deleted, all");
        out.filter.state = st;
    }
    if (!out.reason.empty())
        out.filter.reason = out.reason;
    if (!out.domain.empty())
        out.filter.domain = out.domain;
    if (!out.sender.empty())
        out.filter.sender = out.sender == "<>" ? "" : out.sender;
    if (!out.q.empty())
        out.filter.text = out.q;
    if (!out.since.empty()) {
        out.filter.since = parse_since(out.since, now);
        if (!out.filter.since)
            fail(400, "since: '" + out.since + "' is neither a duration (2h, 7d) nor a date (2026-12-01)");
    }
    // A reviewer's view is cut to their domains here, never from the form.
    if (u.r != role::admin)
        out.filter.only_domains = u.domains;
    return out;
}

std::string filter_query(const filter_fields& ff)
{
    std::string q = "state=" + proto::form_encode(ff.state);
    auto add = [&](std::string_view name, const std::string& v) {
        if (!v.empty())
            q += "&" + std::string(name) + "=" + proto::form_encode(v);
    };
    add("reason", ff.reason);
    add("domain", ff.domain);
    add("sender", ff.sender);
    add("since", ff.since);
    add("q", ff.q);
    return q;
}

std::string filter_hidden(const filter_fields& ff)
{
    return hidden("state", ff.state) + hidden("reason", ff.reason) + hidden("domain", ff.domain) +
           hidden("sender", ff.sender) + hidden("since", ff.since) + hidden("q", ff.q);
}

}  // namespace

// ---- one authenticated request ----------------------------------------------

struct app::context {
    const request& r;
    std::int64_t now;
    const session& s;
    web_user user;
    app_deps& deps;
    const app_options& opt;
    std::unique_ptr<store::quarantine> store_{};
    bool store_opened = false;

    [[nodiscard]] nav_user nav() const { return {user.name, std::string(to_string(user.r)), s.csrf}; }
    [[nodiscard]] std::string by() const { return "web:" + user.name; }

    /// nullptr: no store yet.
    store::quarantine* store()
    {
        if (!store_opened) {
            store_ = deps.open_store();
            store_opened = true;
        }
        return store_.get();
    }

    /// The entry, if it exists and this user may see it; else 404.
    store::entry_details visible_entry(std::int64_t id)
    {
        auto* q = store();
        std::optional<store::entry_details> d;
        if (q)
            d = q->find(id);
        if (!d || !may_see(user, d->recipients))
            fail(404, "no entry " + std::to_string(id));
        return std::move(*d);
    }

    response page(std::string_view title, std::string_view body, std::string_view active = "") const
    {
        return html_page(200, title, body, nav(), active);
    }
};

namespace {

using context = app::context;

std::string entry_row(const store::entry_summary& e, std::int64_t now, bool checkbox)
{
    const std::string id = std::to_string(e.id);
    std::string row = "<tr class=\"entry\" data-id=\"" + id + "\">";
    if (checkbox)
        row += "<td><input type=\"checkbox\" class=\"select\" name=\"id\" value=\"" + id +
               "\" aria-label=\"select entry " + id + "\"></td>";
    row += "<td><a class=\"entry-link\" href=\"/quarantine/" + id + "\">" + id + "</a></td>";
    row += "<td title=\"" + format_time(e.created) + "\">" + format_age(e.created, now) + "</td>";
    row += "<td class=\"state\">" + std::string(store::to_string(e.state)) + "</td>";
    row += "<td class=\"reason\">" + escape(e.reason) + "</td>";
    row += "<td class=\"sender\">" + (e.sender.empty() ? std::string("&lt;&gt;") : escape(e.sender)) + "</td>";
    row += "<td class=\"recipient\">" + escape(e.first_recipient);
    if (e.recipient_count > 1)
        row += " (+" + std::to_string(e.recipient_count - 1) + ")";
    row += "</td><td class=\"subject\">" + escape(e.subject) + "</td>";
    row += "<td class=\"num\">" + std::to_string(e.size) + "</td>";
    row += "<td class=\"node\">" + escape(e.node) + "</td></tr>\n";
    return row;
}

constexpr std::string_view entry_head =
    "<th>Id</th><th>Age</th><th>State</th><th>Reason</th><th>Sender</th><th>Recipient</th>"
    "<th>Subject</th><th>Size</th><th>Node</th>";

response quarantine_list(context& c)
{
    const auto form = form_of(c.r);
    const filter_fields ff = read_filter(form, c.user, c.now);
    store::page_request pr;
    if (auto b = proto::form_value(form, "before"); b && !b->empty()) {
        pr.before_id = parse_id(*b);
        if (!pr.before_id)
            fail(400, "before: '" + *b + "' is not an entry id");
    }
    // One more than a page tells whether there is an older one.
    pr.limit = c.opt.page_size + 1;
    std::vector<store::entry_summary> rows;
    std::int64_t total = 0;
    if (auto* q = c.store()) {
        rows = q->page(ff.filter, pr);
        total = q->count(ff.filter);
    }
    const bool older = rows.size() > c.opt.page_size;
    if (older)
        rows.resize(c.opt.page_size);

    std::string b;
    b += "<form id=\"filter\" class=\"filter\" method=\"get\" action=\"/quarantine\">";
    b += "<label>State<select name=\"state\">";
    for (std::string_view s : {"held", "releasing", "released", "deleted", "all"}) {
        b += "<option value=\"" + std::string(s) + "\"";
        if (ff.state == s)
            b += " selected";
        b += ">" + std::string(s) + "</option>";
    }
    b += "</select></label>";
    auto input = [&](std::string_view name, std::string_view label, const std::string& v, std::string_view hint) {
        b += "<label>" + std::string(label) + "<input type=\"text\" name=\"" + std::string(name) + "\" value=\"" +
             escape(v) + "\" placeholder=\"" + std::string(hint) + "\"></label>";
    };
    input("reason", "Reason", ff.reason, "dns-failure");
    input("domain", "Recipient domain", ff.domain, "example.org");
    input("sender", "Sender", ff.sender, "a@example.com");
    input("since", "Since", ff.since, "24h or 2026-12-01");
    input("q", "Search", ff.q, "sender, recipient, subject");
    b += "<button id=\"filter-submit\" type=\"submit\">Filter</button></form>\n";

    b += "<p id=\"total\">" + std::to_string(total) + (total == 1 ? " entry" : " entries") + " match.</p>\n";
    b += "<form id=\"bulk\" method=\"post\" action=\"/quarantine/confirm\">" + hidden("csrf", c.s.csrf) +
         filter_hidden(ff);
    b += "<table id=\"entries\"><thead><tr><th></th>";
    b += entry_head;
    b += "</tr></thead><tbody>\n";
    for (const auto& e : rows)
        b += entry_row(e, c.now, true);
    b += "</tbody></table>\n";
    if (rows.empty())
        b += "<p class=\"notice\" id=\"empty\">No entries.</p>";
    b += "<div class=\"actions\"><label><input type=\"checkbox\" id=\"bulk-all\" name=\"all\" value=\"1\"> all " +
         std::to_string(total) + " matching this filter</label>";
    b += "<button id=\"bulk-release\" type=\"submit\" name=\"action\" value=\"release\">Release…</button>";
    b += "<button id=\"bulk-delete\" type=\"submit\" name=\"action\" value=\"delete\">Delete…</button></div></form>\n";
    if (older)
        b += "<p><a id=\"older\" href=\"/quarantine?" + escape(filter_query(ff)) +
             "&amp;before=" + std::to_string(rows.back().id) + "\">Older entries</a></p>";
    if (pr.before_id)
        b += "<p><a id=\"newest\" href=\"/quarantine?" + escape(filter_query(ff)) + "\">Newest entries</a></p>";
    return c.page("Quarantine", b, "quarantine");
}

/// The header section and the body of a raw message: split at the first
/// empty line (CRLF or LF mail).
std::pair<std::string_view, std::string_view> split_message(std::string_view m)
{
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] != '\n')
            continue;
        std::size_t j = i + 1;
        if (j < m.size() && m[j] == '\r')
            ++j;
        if (j < m.size() && m[j] == '\n')
            return {m.substr(0, i + 1), m.substr(j + 1)};
        if (j == m.size())
            break;
    }
    return {m, {}};
}

response entry_page(context& c, std::int64_t id)
{
    const auto d = c.visible_entry(id);
    const auto& s = d.summary;
    const std::string ids = std::to_string(id);
    std::string b;
    b += "<dl id=\"envelope\" class=\"envelope\">";
    auto item = [&](std::string_view k, const std::string& v_html) {
        b += "<dt>" + std::string(k) + "</dt><dd>" + v_html + "</dd>";
    };
    item("Sender", s.sender.empty() ? "&lt;&gt;" : escape(s.sender));
    std::string rcpts;
    for (const auto& r : d.recipients)
        rcpts += (rcpts.empty() ? "" : "<br>") + escape(r);
    item("Recipients", rcpts);
    item("Subject", escape(s.subject));
    item("From", escape(d.header_from));
    item("Message-ID", escape(d.message_id));
    item("Queue id", escape(d.queue_id));
    item("Reason", escape(s.reason) + (d.reason_text.empty() ? "" : ": " + escape(d.reason_text)));
    item("Node", escape(s.node));
    item("State", std::string(store::to_string(s.state)));
    item("Attempts", std::to_string(s.attempts));
    item("Size", std::to_string(s.size) + " bytes");
    item("Quarantined", format_time(s.created));
    item("Updated", format_time(s.updated));
    b += "</dl>\n";

    b += "<div class=\"actions\">";
    if (s.state == store::entry_state::held) {
        b += "<form id=\"release-form\" method=\"post\" action=\"/quarantine/confirm\">" + hidden("csrf", c.s.csrf) +
             hidden("id", ids) + hidden("action", "release") +
             "<button id=\"release\" type=\"submit\">Release…</button></form>";
    }
    if (s.state != store::entry_state::deleted) {
        b += "<form id=\"delete-form\" method=\"post\" action=\"/quarantine/confirm\">" + hidden("csrf", c.s.csrf) +
             hidden("id", ids) + hidden("action", "delete") +
             "<button id=\"delete\" type=\"submit\">Delete…</button></form>";
    }
    if (d.has_message)
        b += "<a id=\"download\" href=\"/quarantine/" + ids + "/raw\">Download raw message</a>";
    b += "</div>\n";

    b += "<h2>History</h2><table id=\"history\"><thead><tr><th>When</th><th>Event</th><th>Detail</th></tr></thead><tbody>";
    for (const auto& h : d.history)
        b += "<tr class=\"event\"><td>" + format_time(h.at) + "</td><td>" + escape(h.event) + "</td><td>" +
             escape(h.detail) + "</td></tr>";
    b += "</tbody></table>\n";

    b += "<h2>Evidence</h2>";
    if (d.evidence.empty())
        b += "<p class=\"notice\" id=\"no-evidence\">None recorded.</p>";
    else {
        auto pretty = proto::indent_json(d.evidence);
        b += "<pre id=\"evidence\">" + escape_pre(pretty ? *pretty : d.evidence) + "</pre>";
    }

    // The message itself, as text only: the HTML of a quarantined message is
    // never rendered and nothing it links to is ever loaded.
    std::optional<std::string> raw;
    if (d.has_message)
        if (auto* q = c.store())
            raw = q->message(id);
    if (!raw) {
        b += "<p class=\"notice\" id=\"no-message\">The message is no longer stored.</p>";
    } else {
        auto [head, body] = split_message(*raw);
        b += "<h2>Headers</h2><pre id=\"headers\">" + escape_pre(head.substr(0, max_shown_header_bytes)) + "</pre>";
        if (head.size() > max_shown_header_bytes)
            b += "<p class=\"notice\" id=\"headers-cut\">The header section is cut at " +
                 std::to_string(max_shown_header_bytes) + " bytes; download the message for all of it.</p>";
        b += "<h2>Body</h2><pre id=\"body\">" + escape_pre(body.substr(0, max_shown_body_bytes)) + "</pre>";
        if (body.size() > max_shown_body_bytes)
            b += "<p class=\"notice\" id=\"body-cut\">The body is cut at " + std::to_string(max_shown_body_bytes) +
                 " of " + std::to_string(body.size()) + " bytes; download the message for all of it.</p>";
    }
    return c.page("Entry " + ids, b, "quarantine");
}

response raw_message(context& c, std::int64_t id)
{
    (void)c.visible_entry(id);
    std::optional<std::string> raw;
    if (auto* q = c.store())
        raw = q->message(id);
    if (!raw)
        fail(404, "entry " + std::to_string(id) + " holds no message any more");
    response out;
    // Never message/rfc822 or text/*: a browser must not render it.
    out.content_type = "application/octet-stream";
    out.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"mxwarden-" + std::to_string(id) + ".eml\"");
    out.body = std::move(*raw);
    return out;
}

/// What a bulk form asks for: the action and the entries, each checked
/// against what this user may see (404 for any other).
struct bulk_request {
    std::string action;
    bool all = false;
    std::optional<filter_fields> ff;
    std::vector<store::entry_summary> entries;
    std::int64_t matching = 0;  // all: how many match (may exceed entries)
};

bulk_request read_bulk(context& c, const proto::form_fields& form, std::size_t show_limit)
{
    bulk_request br;
    br.action = proto::form_value(form, "action").value_or("");
    if (br.action != "release" && br.action != "delete")
        fail(400, "action: must be release or delete");
    br.all = proto::form_value(form, "all").value_or("") == "1";
    auto* q = c.store();
    if (br.all) {
        br.ff = read_filter(form, c.user, c.now);
        if (!q)
            return br;
        br.matching = q->count(br.ff->filter);
        store::page_request pr;
        pr.limit = std::min(show_limit, store::max_page_entries);
        while (br.entries.size() < show_limit) {
            auto page = q->page(br.ff->filter, pr);
            if (page.empty())
                break;
            pr.before_id = page.back().id;
            for (auto& e : page) {
                if (br.entries.size() >= show_limit)
                    break;
                // The store already cut a reviewer's filter to their
                // domains; each entry is checked again here, where the
                // rule lives, before anything is done to it.
                if (c.user.r != role::admin) {
                    auto d = q->find(e.id);
                    if (!d || !may_see(c.user, d->recipients))
                        continue;
                }
                br.entries.push_back(std::move(e));
            }
        }
        return br;
    }
    std::set<std::int64_t> seen;
    for (const auto& v : proto::form_values(form, "id")) {
        auto id = parse_id(v);
        if (!id)
            fail(400, "id: '" + v + "' is not an entry id");
        if (!seen.insert(*id).second)
            continue;
        if (seen.size() > max_bulk_entries)
            fail(400, "more than " + std::to_string(max_bulk_entries) + " entries at once");
        br.entries.push_back(c.visible_entry(*id).summary);
    }
    if (br.entries.empty())
        fail(400, "no entries selected: tick some, or \"all matching this filter\"");
    br.matching = static_cast<std::int64_t>(br.entries.size());
    return br;
}

response confirm_page(context& c)
{
    const auto form = form_of(c.r);
    constexpr std::size_t shown = 20;
    const auto br = read_bulk(c, form, shown);
    const std::int64_t n = br.all ? std::min<std::int64_t>(br.matching, max_bulk_entries) : br.matching;
    std::string b = "<p id=\"confirm-summary\">" + std::string(br.action == "release" ? "Release " : "Delete ") +
                    std::to_string(n) + (n == 1 ? " entry" : " entries");
    if (br.all)
        b += " matching the filter";
    b += "?";
    if (br.all && br.matching > static_cast<std::int64_t>(max_bulk_entries))
        b += " (" + std::to_string(br.matching) + " match; the newest " + std::to_string(max_bulk_entries) +
             " are done now, the rest in another round)";
    b += "</p>\n<table id=\"confirm-entries\"><thead><tr>";
    b += entry_head;
    b += "</tr></thead><tbody>";
    for (std::size_t i = 0; i < br.entries.size() && i < shown; ++i)
        b += entry_row(br.entries[i], c.now, false);
    b += "</tbody></table>";
    if (n > static_cast<std::int64_t>(shown))
        b += "<p class=\"notice\">and " + std::to_string(n - static_cast<std::int64_t>(shown)) + " more.</p>";
    b += "<form id=\"confirm-form\" method=\"post\" action=\"/quarantine/action\">" + hidden("csrf", c.s.csrf) +
         hidden("action", br.action);
    if (br.all)
        b += hidden("all", "1") + filter_hidden(*br.ff);
    else
        for (const auto& e : br.entries)
            b += hidden("id", std::to_string(e.id));
    b += "<div class=\"actions\"><button id=\"confirm\" type=\"submit\">" +
         std::string(br.action == "release" ? "Release" : "Delete") +
         "</button><a id=\"cancel\" href=\"/quarantine\">Cancel</a></div></form>";
    return c.page("Confirm", b, "quarantine");
}

response action_page(context& c)
{
    const auto form = form_of(c.r);
    const auto br = read_bulk(c, form, max_bulk_entries);
    const std::string by = c.by();
    std::string b = "<div id=\"results\">\n";
    std::size_t ok = 0;
    for (const auto& e : br.entries) {
        const std::string id = std::to_string(e.id);
        release_outcome res;
        if (br.action == "release") {
            res = c.deps.release(e.id, by);
        } else {
            auto* q = c.store();
            res.ok = q && q->remove(e.id, c.now, by);
            res.message = res.ok ? "deleted" : "already deleted";
        }
        ok += res.ok ? 1 : 0;
        b += "<p class=\"result " + std::string(res.ok ? "ok" : "failed") + "\" data-id=\"" + id +
             "\"><a href=\"/quarantine/" + id + "\">" + id + "</a>: " + escape(res.message) + "</p>\n";
    }
    b += "</div>\n<p id=\"results-summary\">" + std::to_string(ok) + " of " + std::to_string(br.entries.size()) +
         " done.</p><p><a href=\"/quarantine\">Back to the quarantine</a></p>";
    return c.page(br.action == "release" ? "Released" : "Deleted", b, "quarantine");
}

response health_page(context& c)
{
    auto rep = c.deps.health();
    std::string b;
    if (!rep) {
        b += "<p class=\"error\" id=\"health-unreachable\">mxwardend cannot be reached on its control socket: "
             "no health report. Is the daemon running?</p>";
        return c.page("Health", b, "health");
    }
    b += "<p class=\"notice\">Report of " + format_time(rep->now) + ".</p>";
    b += "<div class=\"charts\">";
    std::vector<chart_bucket> dec, dns, dead;
    for (const auto& a : rep->activity) {
        dec.push_back({a.start, a.decisions});
        dns.push_back({a.start, a.dns_failures});
        dead.push_back({a.start, a.dead_hosts});
    }
    auto chart = [&](std::string title, std::string id, const std::vector<chart_bucket>& v) {
        b += svg_bar_chart({std::move(title), std::move(id), rep->now, rep->bucket_seconds, 86400}, v);
    };
    chart("Decisions, last 24 h", "chart-decisions", dec);
    chart("DNS failures, last 24 h", "chart-dns-failures", dns);
    chart("Dead hosts, last 24 h", "chart-dead-hosts", dead);
    b += "</div>\n";

    b += "<h2>Failing destinations</h2>";
    if (rep->failing.empty())
        b += "<p class=\"notice\" id=\"no-failing\">None.</p>";
    b += "<table id=\"failing\"><thead><tr><th>Domain</th><th>Status</th><th>Since</th><th>Detail</th></tr></thead><tbody>";
    for (const auto& f : rep->failing)
        b += "<tr class=\"failing\" data-domain=\"" + escape(f.domain) + "\"><td>" + escape(f.domain) + "</td><td>" +
             escape(f.status) + "</td><td title=\"" + format_time(f.since) + "\">" + format_age(f.since, rep->now) +
             "</td><td>" + escape(f.detail) + "</td></tr>";
    b += "</tbody></table>\n";

    b += "<h2>Hosts</h2>";
    b += "<table id=\"hosts\"><thead><tr><th>Address</th><th>Names</th><th>State</th><th>Source</th>"
         "<th>Last outcome</th><th>Age</th></tr></thead><tbody>";
    for (const auto& h : rep->hosts) {
        std::string names;
        for (const auto& n : h.names)
            names += (names.empty() ? "" : ", ") + escape(n);
        b += "<tr class=\"host\" data-address=\"" + escape(h.address) + "\"><td>" + escape(h.address) + "</td><td>" +
             names + "</td><td class=\"state-" + escape(h.state) + "\">" + escape(h.state) + "</td><td>" +
             escape(h.source) + "</td><td>" + escape(h.last_outcome) + "</td><td title=\"" + format_time(h.last_at) +
             "\">" + format_age(h.last_at, rep->now) + "</td></tr>";
    }
    b += "</tbody></table>";
    return c.page("Health", b, "health");
}

}  // namespace

// ---- app ------------------------------------------------------------------------

app::app(app_deps deps, session_table& sessions, login_limiter& limiter, app_options opt)
    : deps_(std::move(deps)), sessions_(sessions), limiter_(limiter), opt_(std::move(opt)),
      dummy_hash_(hash_password("mxwarden-web: no such user"))
{
    if (opt_.page_size == 0 || opt_.page_size > store::max_page_entries - 1)
        opt_.page_size = 50;
}

response app::handle(const request& r, std::int64_t now)
{
    try {
        return route(r, now);
    } catch (const http_error& e) {
        return error_page(e, std::nullopt);
    } catch (const store::store_error& e) {
        return error_page({503, "the quarantine store cannot be used now: " + proto::sanitize(e.what())},
                          std::nullopt);
    } catch (const std::exception&) {
        return error_page({500, "something went wrong on the server; the request was not completed"}, std::nullopt);
    }
}

response app::login_page(const request& r, std::int64_t now)
{
    (void)r;
    (void)now;
    return html_page(200, "Log in", login_form("", false), std::nullopt);
}

response app::login(const request& r, std::int64_t now)
{
    const auto form = form_of(r);
    const std::string name = proto::form_value(form, "user").value_or("");
    const std::string password = proto::form_value(form, "password").value_or("");
    const std::string peer_key = "ip:" + r.peer;
    const std::string user_key = "user:" + name.substr(0, max_name_bytes + 1);
    if (!limiter_.allowed(peer_key, now) || !limiter_.allowed(user_key, now)) {
        auto out = error_page({429, "too many failed logins; wait a few minutes and try again"}, std::nullopt);
        out.headers.emplace_back("Retry-After", std::to_string(opt_.login_retry_after_seconds));
        return out;
    }
    const auto users = deps_.users();
    const web_user* u = find_user(users, name);
    // An unknown name costs one Argon2id verification too, so the answer's
    // time does not tell which names exist.
    bool ok = false;
    if (u)
        ok = verify_password(u->hash, password);
    else
        (void)verify_password(dummy_hash_, password);
    if (!ok) {
        limiter_.failed(peer_key, now);
        limiter_.failed(user_key, now);
        return html_page(403, "Log in", login_form(name, true), std::nullopt);
    }
    limiter_.succeeded(user_key);
    // A fresh id on every login: a session id planted before it (fixation)
    // is closed, never promoted.
    if (auto old = session_cookie(r))
        sessions_.close(*old);
    const session& s = sessions_.open(u->name, now);
    auto out = redirect("/");
    out.headers.emplace_back("Set-Cookie", cookie_header(s.id, opt_.session_max_seconds, opt_.secure_cookies));
    return out;
}

response app::route(const request& r, std::int64_t now)
{
    const bool get = r.method == "GET" || r.method == "HEAD";
    const bool post = r.method == "POST";
    if (!get && !post)
        fail(405, "only GET and POST are served here");

    if (r.path == "/static/style.css") {
        if (!get)
            fail(405, "the stylesheet is read with GET");
        response out;
        out.content_type = "text/css; charset=utf-8";
        out.body = std::string(stylesheet);
        return out;
    }

    // A cross-site POST is refused before anything else looks at it. The
    // session cookie is SameSite=Strict already; this holds for browsers
    // that ignore SameSite and for the login form, which has no session.
    if (post && !r.origin.empty()) {
        const std::string oh = origin_host(r.origin);
        bool ours = !oh.empty() && oh == proto::to_lower(r.host);
        for (const auto& o : opt_.extra_origins)
            ours = ours || proto::to_lower(o) == proto::to_lower(r.origin);
        if (!ours)
            fail(403, "this form was sent from another site (Origin " + r.origin + "); refused");
    }

    if (r.path == "/login")
        return post ? login(r, now) : login_page(r, now);

    // Everything else needs a live session of a user who still exists.
    const session* s = nullptr;
    std::optional<web_user> user;
    if (auto id = session_cookie(r))
        s = sessions_.find(*id, now);
    if (s) {
        const auto users = deps_.users();
        if (const web_user* u = find_user(users, s->user))
            user = *u;
        else {
            // Deleted from the users file (web-user del): every session of
            // theirs ends now.
            // (A copy: closing frees the session the name is read from.)
            const std::string gone = s->user;
            s = nullptr;
            sessions_.close_user(gone);
        }
    }
    if (!s) {
        if (post)
            fail(403, "your session has expired or you are not logged in; log in and try again");
        return redirect("/login");
    }
    context c{r, now, *s, std::move(*user), deps_, opt_};
    try {
        if (post) {
            const auto form = form_of(r);
            const auto token = proto::form_value(form, "csrf");
            if (!token || !csrf_ok(*s, *token))
                fail(403, "this form is stale or was not sent from this site (CSRF token missing or wrong); "
                          "reload the page and try again");
            if (r.path == "/logout") {
                const std::string sid = s->id;  // closing frees *s
                sessions_.close(sid);
                auto out = redirect("/login");
                out.headers.emplace_back("Set-Cookie", cookie_header("", 0, opt_.secure_cookies));
                return out;
            }
            if (r.path == "/quarantine/confirm")
                return confirm_page(c);
            if (r.path == "/quarantine/action")
                return action_page(c);
            fail(404, "nothing to send to " + r.path);
        }
        if (r.path == "/")
            return redirect("/quarantine");
        if (r.path == "/quarantine")
            return quarantine_list(c);
        if (r.path == "/health")
            return health_page(c);
        constexpr std::string_view prefix = "/quarantine/";
        if (r.path.starts_with(prefix)) {
            std::string_view rest = std::string_view(r.path).substr(prefix.size());
            bool raw = false;
            if (rest.ends_with("/raw")) {
                rest.remove_suffix(4);
                raw = true;
            }
            if (auto id = parse_id(rest))
                return raw ? raw_message(c, *id) : entry_page(c, *id);
        }
        fail(404, "no page " + r.path);
    } catch (const http_error& e) {
        return error_page(e, c.nav());
    } catch (const store::store_error& e) {
        return error_page({503, "the quarantine store cannot be used now: " + proto::sanitize(e.what())}, c.nav());
    }
}

}  // namespace mxw::web
