#include "proto/health_report.hpp"

#include <algorithm>
#include <charconv>

namespace mxw::proto {
namespace {

bool is_safe(unsigned char c) noexcept { return c >= 0x21 && c <= 0x7e && c != '%'; }

void put_field(std::string& out, std::string_view v, std::size_t cap)
{
    v = v.substr(0, cap);
    if (v.empty()) {
        out += '-';
        return;
    }
    if (v == "-") {
        out += "%2D";
        return;
    }
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char ch : v) {
        auto c = static_cast<unsigned char>(ch);
        if (is_safe(c)) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
}

void put_uint(std::string& out, std::uint64_t v) { out += std::to_string(v); }
void put_time(std::string& out, std::int64_t v) { put_uint(out, static_cast<std::uint64_t>(std::max<std::int64_t>(v, 0))); }

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

std::optional<std::string> get_field(std::string_view w, std::size_t cap)
{
    if (w == "-")
        return std::string();
    std::string out;
    for (std::size_t i = 0; i < w.size(); ++i) {
        auto c = static_cast<unsigned char>(w[i]);
        if (c == '%') {
            if (i + 2 >= w.size())
                return std::nullopt;
            int hi = hex_value(w[i + 1]);
            int lo = hex_value(w[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (is_safe(c)) {
            out += w[i];
        } else {
            return std::nullopt;
        }
        if (out.size() > cap)
            return std::nullopt;
    }
    return out;
}

template <class T>
std::optional<T> get_uint(std::string_view w)
{
    if (w.empty() || (w.size() > 1 && w[0] == '0'))
        return std::nullopt;
    for (char c : w)
        if (c < '0' || c > '9')
            return std::nullopt;
    // Digits only, so a signed T is never negative; from_chars refuses
    // what overflows T.
    T v{};
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
    if (ec != std::errc() || end != w.data() + w.size())
        return std::nullopt;
    return v;
}

// The words of one line (no LF): fields are separated by exactly one SP,
// so an empty word (two spaces, a leading or trailing space) is an error.
std::optional<std::vector<std::string_view>> split_words(std::string_view line, std::size_t max_words)
{
    std::vector<std::string_view> words;
    std::size_t start = 0;
    for (;;) {
        auto sp = line.find(' ', start);
        auto w = line.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start);
        if (w.empty() || words.size() == max_words)
            return std::nullopt;
        words.push_back(w);
        if (sp == std::string_view::npos)
            return words;
        start = sp + 1;
    }
}

std::string host_line(const health_host& h)
{
    std::string l = "host ";
    put_field(l, h.address, max_health_address_bytes);
    l += ' ';
    put_field(l, h.state, max_health_token_bytes);
    l += ' ';
    put_field(l, h.source, max_health_token_bytes);
    l += ' ';
    put_field(l, h.last_outcome, max_health_token_bytes);
    l += ' ';
    put_time(l, h.last_at);
    for (std::size_t i = 0; i < h.names.size() && i < max_health_names; ++i) {
        l += ' ';
        put_field(l, h.names[i], max_health_name_bytes);
    }
    l += '\n';
    return l;
}

std::string failing_line(const failing_destination& f)
{
    std::string l = "failing ";
    put_field(l, f.domain, max_health_name_bytes);
    l += ' ';
    put_field(l, f.status, max_health_token_bytes);
    l += ' ';
    put_time(l, f.since);
    l += ' ';
    put_field(l, f.detail, max_health_detail_bytes);
    l += '\n';
    return l;
}

std::string bucket_line(const activity_bucket& b)
{
    std::string l = "bucket ";
    put_time(l, b.start);
    l += ' ';
    put_uint(l, b.decisions);
    l += ' ';
    put_uint(l, b.dns_failures);
    l += ' ';
    put_uint(l, b.dead_hosts);
    l += '\n';
    return l;
}

// Room kept for the end line ("end" and three counts of at most five
// digits each): the lines before it must leave this much of the whole, so
// that whatever decodes also encodes again within the cap.
constexpr std::size_t max_end_line_bytes = 4 + 3 * 6;

}  // namespace

std::string encode_health_report(const health_report& r)
{
    std::string head = "health 1 ";
    put_time(head, r.now);
    head += ' ';
    put_uint(head, static_cast<std::uint64_t>(std::clamp<std::int64_t>(r.bucket_seconds, 1, max_health_bucket_seconds)));
    head += '\n';
    std::size_t room = max_health_report_bytes - head.size() - max_end_line_bytes;
    auto take = [&room](std::string& into, const std::string& line) {
        if (line.size() > room)
            return false;
        into += line;
        room -= line.size();
        return true;
    };
    // Buckets first: 288 short lines always fit. Then failing destinations,
    // the smaller and more telling list, then hosts while room is left.
    std::string buckets, failing, hosts;
    std::size_t nb = 0, nf = 0, nh = 0;
    for (; nb < r.activity.size() && nb < max_health_buckets; ++nb)
        if (!take(buckets, bucket_line(r.activity[nb])))
            break;
    for (; nf < r.failing.size() && nf < max_health_failing; ++nf)
        if (!take(failing, failing_line(r.failing[nf])))
            break;
    for (; nh < r.hosts.size() && nh < max_health_hosts; ++nh)
        if (!take(hosts, host_line(r.hosts[nh])))
            break;
    std::string out = std::move(head);
    out += hosts;
    out += failing;
    out += buckets;
    out += "end " + std::to_string(nh) + ' ' + std::to_string(nf) + ' ' + std::to_string(nb) + '\n';
    return out;
}

std::optional<health_report> decode_health_report(std::string_view text)
{
    if (text.size() > max_health_report_bytes)
        return std::nullopt;
    health_report r;
    bool head = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto lf = text.find('\n', pos);
        if (lf == std::string_view::npos)
            return std::nullopt;
        auto line = text.substr(pos, lf - pos);
        const std::size_t line_start = pos;
        pos = lf + 1;
        auto words = split_words(line, 6 + max_health_names);
        if (!words)
            return std::nullopt;
        const auto& w = *words;
        if (!head) {
            if (w.size() != 4 || w[0] != "health" || w[1] != "1")
                return std::nullopt;
            auto now = get_uint<std::int64_t>(w[2]);
            auto secs = get_uint<std::int64_t>(w[3]);
            if (!now || !secs || *secs < 1 || *secs > max_health_bucket_seconds)
                return std::nullopt;
            r.now = *now;
            r.bucket_seconds = *secs;
            head = true;
        } else if (w[0] == "host") {
            if (w.size() < 6 || r.hosts.size() == max_health_hosts)
                return std::nullopt;
            health_host h;
            auto address = get_field(w[1], max_health_address_bytes);
            auto state = get_field(w[2], max_health_token_bytes);
            auto source = get_field(w[3], max_health_token_bytes);
            auto outcome = get_field(w[4], max_health_token_bytes);
            auto at = get_uint<std::int64_t>(w[5]);
            if (!address || !state || !source || !outcome || !at)
                return std::nullopt;
            if (*state != "unknown" && *state != "healthy" && *state != "dead")
                return std::nullopt;
            if (*source != "probe" && *source != "delivery")
                return std::nullopt;
            h.address = std::move(*address);
            h.state = std::move(*state);
            h.source = std::move(*source);
            h.last_outcome = std::move(*outcome);
            h.last_at = *at;
            for (std::size_t i = 6; i < w.size(); ++i) {
                auto name = get_field(w[i], max_health_name_bytes);
                if (!name)
                    return std::nullopt;
                h.names.push_back(std::move(*name));
            }
            r.hosts.push_back(std::move(h));
        } else if (w[0] == "failing") {
            if (w.size() != 5 || r.failing.size() == max_health_failing)
                return std::nullopt;
            auto domain = get_field(w[1], max_health_name_bytes);
            auto status = get_field(w[2], max_health_token_bytes);
            auto since = get_uint<std::int64_t>(w[3]);
            auto detail = get_field(w[4], max_health_detail_bytes);
            if (!domain || !status || !since || !detail)
                return std::nullopt;
            r.failing.push_back({std::move(*domain), std::move(*status), std::move(*detail), *since});
        } else if (w[0] == "bucket") {
            if (w.size() != 5 || r.activity.size() == max_health_buckets)
                return std::nullopt;
            auto start = get_uint<std::int64_t>(w[1]);
            auto decisions = get_uint<std::uint64_t>(w[2]);
            auto dns = get_uint<std::uint64_t>(w[3]);
            auto dead = get_uint<std::uint64_t>(w[4]);
            if (!start || !decisions || !dns || !dead)
                return std::nullopt;
            r.activity.push_back({*start, *decisions, *dns, *dead});
        } else if (w[0] == "end") {
            if (w.size() != 4 || pos != text.size() || line_start + max_end_line_bytes > max_health_report_bytes)
                return std::nullopt;
            auto nh = get_uint<std::size_t>(w[1]);
            auto nf = get_uint<std::size_t>(w[2]);
            auto nb = get_uint<std::size_t>(w[3]);
            if (!nh || !nf || !nb || *nh != r.hosts.size() || *nf != r.failing.size() || *nb != r.activity.size())
                return std::nullopt;
            return r;
        } else {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace mxw::proto
