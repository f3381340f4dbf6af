#include "proto/control_request.hpp"

#include <vector>

namespace mxw::proto {
namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

bool is_control(char c) noexcept
{
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

}  // namespace

bool control_subject_ok(std::string_view subject) noexcept
{
    static_assert(max_control_subject_bytes + std::string_view("check sender  json\n").size() ==
                  max_control_line_bytes);
    if (subject.empty() || subject.size() > max_control_subject_bytes)
        return false;
    for (char c : subject)
        if (is_blank(c) || is_control(c))
            return false;
    return true;
}

std::optional<control_request> parse_control_request(std::string_view line)
{
    if (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    // The LF counts even when the caller has cut it off: the line must fit
    // the daemon's read of max_control_line_bytes with it, as an encoded
    // request always does.
    if (line.size() + 1 > max_control_line_bytes)
        return std::nullopt;
    // At most five words make a request; a sixth is reason enough to stop.
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        if (is_blank(line[i])) {
            ++i;
            continue;
        }
        std::size_t start = i;
        while (i < line.size() && !is_blank(line[i])) {
            if (is_control(line[i]))
                return std::nullopt;
            ++i;
        }
        if (words.size() == 5)
            return std::nullopt;
        words.push_back(line.substr(start, i - start));
    }
    if (words.empty())
        return std::nullopt;
    control_request req;
    std::size_t want = 0;
    if (words[0] == "ping") {
        req.what = control_request::verb::ping;
        want = 1;
    } else if (words[0] == "status") {
        req.what = control_request::verb::status;
        want = 1;
    } else if (words[0] == "health") {
        if (words.size() != 1)
            return std::nullopt;
        req.what = control_request::verb::health;
        return req;
    } else if (words[0] == "route") {
        req.what = control_request::verb::route;
        want = 2;
    } else if (words[0] == "check" && words.size() >= 2 && (words[1] == "sender" || words[1] == "client")) {
        req.what = words[1] == "sender" ? control_request::verb::check_sender : control_request::verb::check_client;
        want = 3;
    } else {
        return std::nullopt;
    }
    if (words.size() == want + 1 && words.back() == "json")
        req.json = true;
    else if (words.size() != want)
        return std::nullopt;
    if (want > 1)
        req.subject.assign(words[want - 1]);
    return req;
}

std::string encode_control_request(const control_request& req)
{
    std::string out;
    switch (req.what) {
    case control_request::verb::ping: out = "ping"; break;
    case control_request::verb::status: out = "status"; break;
    case control_request::verb::route: out = "route " + req.subject; break;
    case control_request::verb::check_sender: out = "check sender " + req.subject; break;
    case control_request::verb::check_client: out = "check client " + req.subject; break;
    case control_request::verb::health: return "health\n";  // no JSON form
    }
    if (req.json)
        out += " json";
    out += '\n';
    return out;
}

}  // namespace mxw::proto
