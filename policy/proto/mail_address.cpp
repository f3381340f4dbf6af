#include "proto/mail_address.hpp"

#include "proto/limits.hpp"
#include "proto/sanitize.hpp"

namespace mxw::proto {

std::optional<std::string> check_envelope_address(std::string_view addr, bool allow_empty)
{
    if (addr.empty()) {
        if (allow_empty)
            return std::nullopt;
        return "is empty";
    }
    if (addr.size() > max_envelope_address_bytes)
        return "is longer than " + std::to_string(max_envelope_address_bytes) + " bytes";
    // A leading '-' would be read as an option by sendmail, even after
    // validation elsewhere forgot the "--".
    if (addr.front() == '-')
        return "starts with '-'";
    bool quoted = false;
    bool escaped = false;
    for (std::size_t i = 0; i < addr.size(); ++i) {
        auto u = static_cast<unsigned char>(addr[i]);
        if (u < 0x20 || u == 0x7f)
            return "holds a control character";
        if (escaped) {
            escaped = false;
            continue;
        }
        if (quoted) {
            if (u == '\\')
                escaped = true;
            else if (u == '"')
                quoted = false;
            continue;
        }
        if (u == '"' && (i == 0 || addr[i - 1] == '.')) {
            quoted = true;
            continue;
        }
        // Outside quotes a space or bracket would end the SMTP path early
        // and let the rest of the address pass as ESMTP parameters.
        if (u == ' ')
            return "holds a space outside quotes";
        if (u == '<' || u == '>')
            return "holds an angle bracket";
    }
    if (quoted)
        return "has an unterminated quoted local part";
    return std::nullopt;
}

std::string address_domain(std::string_view addr)
{
    auto at = addr.rfind('@');
    return at == std::string_view::npos ? std::string() : to_lower(addr.substr(at + 1));
}

std::string normalize_sender(std::string_view sender)
{
    if (sender.size() >= 2 && sender.front() == '<' && sender.back() == '>')
        sender = sender.substr(1, sender.size() - 2);
    return std::string(sender);
}

}  // namespace mxw::proto
