#include "engine/report.hpp"

#include "proto/json.hpp"
#include "proto/sanitize.hpp"

namespace mxw::engine {
namespace {

void put(std::string& out, std::string_view key, std::string_view value)
{
    out.push_back(' ');
    out.append(key).push_back('=');
    proto::log_value_into(out, value);
}

}  // namespace

std::string format_text(const decision& d)
{
    std::string out;
    for (const auto& f : d.findings) {
        out.append(to_string(f.check)).append(" check: ").append(to_string(f.result)).append("\n");
        out.append("  subject:  ").append(proto::sanitize(f.subject)).append("\n");
        out.append("  meaning:  ").append(explain(f)).append("\n");
        out.append("  evidence: ").append(f.evidence.empty() ? "(none)" : proto::sanitize(f.evidence, 2000)).append("\n");
    }
    if (d.deadline_exceeded)
        out.append("deadline: exceeded, fail-open action applied\n");
    out.append("action:   ").append(to_string(d.act)).append("\n");
    out.append("postfix:  action=").append(proto::sanitize(d.reply, 1000)).append("\n");
    return out;
}

std::string format_json(const decision& d)
{
    proto::json_writer w;
    w.begin_object().key("findings").begin_array();
    for (const auto& f : d.findings) {
        w.begin_object();
        w.key("check").value(to_string(f.check));
        w.key("result").value(to_string(f.result));
        w.key("subject").value(f.subject);
        w.key("meaning").value(explain(f));
        w.key("evidence").value(f.evidence);
        w.end_object();
    }
    w.end_array();
    w.key("deadline_exceeded").value(d.deadline_exceeded);
    w.key("action").value(to_string(d.act));
    w.key("reply").value(d.reply);
    w.end_object();
    return w.str() + "\n";
}

std::string format_log(const decision& d, const proto::policy_request& req, std::uint64_t id)
{
    std::string out;
    out.reserve(512);
    out.append("decision id=").append(std::to_string(id));
    put(out, "queue_id", req.queue_id);
    put(out, "state", req.protocol_state);
    put(out, "client", req.client_address);
    put(out, "sender", req.sender);
    put(out, "recipient", req.recipient);
    const finding* f = nullptr;
    if (d.decisive >= 0)
        f = &d.findings[static_cast<std::size_t>(d.decisive)];
    else if (!d.findings.empty())
        f = &d.findings.back();
    if (f) {
        put(out, "check", to_string(f->check));
        put(out, "result", to_string(f->result));
        put(out, "subject", f->subject);
        put(out, "dns", f->evidence);
    }
    for (const auto& other : d.findings)
        if (&other != f)
            put(out, other.check == check_kind::sender ? "sender_result" : "client_result", to_string(other.result));
    if (d.from_cache)
        out.append(" cached=yes");
    if (d.deadline_exceeded)
        out.append(" deadline=exceeded");
    put(out, "action", to_string(d.act));
    put(out, "reply", d.reply);
    return out;
}

}  // namespace mxw::engine
