#include "cli/health_cli.hpp"

#include "proto/json.hpp"
#include "proto/sanitize.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

namespace mxw::cli {
namespace {

// "95s", "12m", "3h", "2d": how long before the report; "-" unknown.
std::string age(std::int64_t at, std::int64_t now)
{
    if (at <= 0)
        return "-";
    auto s = std::max<std::int64_t>(0, now - at);
    if (s < 120)
        return std::to_string(s) + "s";
    if (s < 2 * 3600)
        return std::to_string(s / 60) + "m";
    if (s < 2 * 86400)
        return std::to_string(s / 3600) + "h";
    return std::to_string(s / 86400) + "d";
}

// Rows of cells, each column padded to its widest cell, two spaces apart.
std::string table(const std::vector<std::vector<std::string>>& rows)
{
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            width.resize(std::max(width.size(), row.size()));
            width[i] = std::max(width[i], row[i].size());
        }
    std::string out;
    for (const auto& row : rows) {
        std::string line = " ";
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += ' ';
            line += row[i];
            if (i + 1 < row.size())
                line.append(width[i] - row[i].size() + 1, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string cell(std::string_view s) { return s.empty() ? "-" : proto::sanitize(s); }

}  // namespace

std::string format_health_text(const proto::health_report& r)
{
    std::string out;
    std::array<std::size_t, 3> by_state{};  // dead, healthy, unknown
    for (const auto& h : r.hosts)
        ++by_state[h.state == "dead" ? 0 : h.state == "healthy" ? 1 : 2];
    out += "hosts: " + std::to_string(r.hosts.size()) + " (" + std::to_string(by_state[0]) + " dead, " +
           std::to_string(by_state[1]) + " healthy, " + std::to_string(by_state[2]) + " unknown)\n";
    if (!r.hosts.empty()) {
        std::vector<std::vector<std::string>> rows{{"ADDRESS", "STATE", "SOURCE", "LAST", "AGE", "NAMES"}};
        for (const auto& h : r.hosts) {
            std::string names;
            for (const auto& n : h.names)
                names += (names.empty() ? "" : ",") + proto::sanitize(n);
            rows.push_back({cell(h.address), cell(h.state), cell(h.source), cell(h.last_outcome),
                            age(h.last_at, r.now), names.empty() ? "-" : names});
        }
        out += table(rows);
    }
    out += "failing destinations: " + std::to_string(r.failing.size()) + "\n";
    if (!r.failing.empty()) {
        std::vector<std::vector<std::string>> rows{{"DOMAIN", "STATUS", "FOR", "DETAIL"}};
        for (const auto& f : r.failing)
            rows.push_back({cell(f.domain), cell(f.status), age(f.since, r.now), cell(f.detail)});
        out += table(rows);
    }
    // The summary: the last hour and the whole ring (up to 24 hours, less
    // when the daemon started later).
    std::uint64_t hour_decisions = 0, day_decisions = 0, hour_dns = 0, day_dns = 0, most_dead = 0;
    const auto hour_from = r.now - 3600;
    for (const auto& b : r.activity) {
        day_decisions += b.decisions;
        day_dns += b.dns_failures;
        most_dead = std::max(most_dead, b.dead_hosts);
        if (b.start + r.bucket_seconds > hour_from) {
            hour_decisions += b.decisions;
            hour_dns += b.dns_failures;
        }
    }
    auto span = static_cast<std::int64_t>(r.activity.size()) * r.bucket_seconds;
    out += "activity: " + std::to_string(r.activity.size()) + " buckets of " + std::to_string(r.bucket_seconds) +
           "s (" + age(r.now - span, r.now) + ", since mxwardend started or 24h)\n";
    out += "  decisions:     " + std::to_string(hour_decisions) + " in the last hour, " +
           std::to_string(day_decisions) + " in all\n";
    out += "  dns failures:  " + std::to_string(hour_dns) + " in the last hour, " + std::to_string(day_dns) +
           " in all\n";
    out += "  dead hosts:    " + std::to_string(r.activity.empty() ? 0 : r.activity.back().dead_hosts) +
           " now, at most " + std::to_string(most_dead) + "\n";
    return out;
}

std::string format_health_json(const proto::health_report& r)
{
    auto count = [](std::uint64_t n) { return static_cast<std::int64_t>(std::min<std::uint64_t>(n, std::numeric_limits<std::int64_t>::max())); };
    proto::json_writer w;
    w.begin_object();
    w.key("now").value(r.now);
    w.key("bucket_seconds").value(r.bucket_seconds);
    w.key("hosts").begin_array();
    for (const auto& h : r.hosts) {
        w.begin_object();
        w.key("address").value(h.address);
        w.key("names").begin_array();
        for (const auto& n : h.names)
            w.value(n);
        w.end_array();
        w.key("state").value(h.state);
        w.key("source").value(h.source);
        w.key("last_outcome").value(h.last_outcome);
        w.key("last_at").value(h.last_at);
        w.end_object();
    }
    w.end_array();
    w.key("failing").begin_array();
    for (const auto& f : r.failing) {
        w.begin_object();
        w.key("domain").value(f.domain);
        w.key("status").value(f.status);
        w.key("detail").value(f.detail);
        w.key("since").value(f.since);
        w.end_object();
    }
    w.end_array();
    w.key("activity").begin_array();
    for (const auto& b : r.activity) {
        w.begin_object();
        w.key("start").value(b.start);
        w.key("decisions").value(count(b.decisions));
        w.key("dns_failures").value(count(b.dns_failures));
        w.key("dead_hosts").value(count(b.dead_hosts));
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return w.str() + "\n";
}

}  // namespace mxw::cli
