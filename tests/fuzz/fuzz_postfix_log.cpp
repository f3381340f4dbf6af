// Fuzz target for proto/postfix_log: the Postfix smtp client log decoder.
//
// Input: one log line. It goes through split_syslog_line() and, as journal
// input would, straight to parse_smtp_message() under program postfix/smtp.
// Invariants: a split line's program and message are views into the line,
// the program has no blank or bracket; every event has a canonical address,
// a lower-case host, a known stage ("" exactly for sent), a capped detail and
// queue ID, and an outcome with a name.
#include "proto/dns_rdata.hpp"
#include "proto/postfix_log.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace proto = mxw::proto;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

bool inside(std::string_view part, std::string_view whole)
{
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_event(const proto::delivery_event& ev)
{
    constexpr std::array<std::string_view, 10> stages{
        "", "connect", "greeting", "ehlo", "starttls", "tls", "mail", "rcpt", "data", "end-of-data"};
    require(static_cast<std::size_t>(ev.outcome) < proto::delivery_outcome_count, "outcome in range");
    require(!proto::to_string(ev.outcome).empty(), "outcome has a name");
    require(std::find(stages.begin(), stages.end(), ev.stage) != stages.end(), "stage is a known token");
    require(ev.stage.empty() == (ev.outcome == proto::delivery_outcome::sent), "no stage exactly for sent");
    auto canonical = proto::canonical_address(ev.address);
    require(canonical && *canonical == ev.address, "address is canonical");
    require(!ev.host.empty() && ev.host.size() <= 255, "host within the limit");
    require(std::none_of(ev.host.begin(), ev.host.end(), [](char c) { return c >= 'A' && c <= 'Z'; }),
            "host is lower case");
    require(ev.port != 0, "port is set");
    require(ev.detail.size() <= 512, "detail within the limit");
    require(ev.queue_id.size() <= 32, "queue ID within the limit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto s = proto::split_syslog_line(in)) {
        require(in.size() <= proto::max_postfix_log_line_bytes, "long lines are not split");
        require(inside(s->program, in) && inside(s->message, in), "views into the line");
        require(!s->program.empty() && s->program.find_first_of(" []") == std::string_view::npos,
                "program is one word");
        if (auto ev = proto::parse_smtp_message(s->program, s->message))
            check_event(*ev);
    }
    if (auto ev = proto::parse_smtp_message("postfix/smtp", in))
        check_event(*ev);
    return 0;
}
