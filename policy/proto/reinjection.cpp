#include "proto/reinjection.hpp"

#include "proto/message_headers.hpp"

#include <algorithm>
#include <charconv>

namespace mxw::proto {

std::vector<std::string> sendmail_argv(std::string_view path, std::string_view sender,
                                       std::span<const std::string> recipients)
{
    std::vector<std::string> argv{std::string(path), "-i", "-f", sender.empty() ? "<>" : std::string(sender), "--"};
    argv.insert(argv.end(), recipients.begin(), recipients.end());
    return argv;
}

std::string with_quarantine_id(std::string_view message, std::int64_t id)
{
    auto eol = message.find('\n');
    bool crlf = eol != std::string_view::npos && eol > 0 && message[eol - 1] == '\r';
    std::string out;
    out.reserve(message.size() + quarantine_id_header.size() + 24);
    out.append(quarantine_id_header).append(": ").append(std::to_string(id)).append(crlf ? "\r\n" : "\n");
    out.append(message);
    return out;
}

std::optional<std::int64_t> parse_quarantine_id(std::string_view message)
{
    auto v = find_header(message, quarantine_id_header);
    if (!v || v->empty() || v->size() > 18 || !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    std::int64_t id = 0;
    std::from_chars(v->data(), v->data() + v->size(), id);
    if (id <= 0)
        return std::nullopt;
    return id;
}

std::string encode_smtp_data(std::string_view message)
{
    std::string out;
    out.reserve(message.size() + message.size() / 32 + 8);
    bool line_start = true;
    for (std::size_t i = 0; i < message.size(); ++i) {
        char c = message[i];
        if (line_start && c == '.')
            out.push_back('.');
        line_start = false;
        if (c == '\r' || c == '\n') {
            // CR LF, a bare LF and a bare CR each end one line: SMTP allows
            // no other line end (RFC 5321 §2.3.8), and a bare CR or LF
            // passed on is how SMTP smuggling starts.
            if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n')
                ++i;
            out.append("\r\n");
            line_start = true;
            continue;
        }
        out.push_back(c);
    }
    if (!line_start)
        out.append("\r\n");
    out.append(".\r\n");
    return out;
}

bool has_8bit(std::string_view message) noexcept
{
    return std::any_of(message.begin(), message.end(), [](char c) { return static_cast<unsigned char>(c) > 0x7f; });
}

}  // namespace mxw::proto
