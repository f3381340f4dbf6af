#include "store/open_store.hpp"

#include "store/pg_fleet_state.hpp"
#include "store/pg_quarantine.hpp"
#include "store/pg_schema.hpp"
#include "store/quarantine_store.hpp"

#include <filesystem>
#include <string_view>

#include <libpq-fe.h>

namespace mxw::store {

std::unique_ptr<quarantine> open_quarantine(const store_location& where, open_mode m)
{
    if (!where.url.empty())
        return std::make_unique<pg_quarantine>(where.url, where.node);
    if (m != open_mode::create && !std::filesystem::exists(where.sqlite_path))
        return nullptr;
    auto mode = m == open_mode::create     ? database::mode::read_write_create
                : m == open_mode::existing ? database::mode::read_write
                                           : database::mode::read_only;
    return std::make_unique<quarantine_store>(where.sqlite_path, mode);
}

store_check check_store(const store_location& where)
{
    if (where.url.empty()) {
        if (!std::filesystem::exists(where.sqlite_path))
            return {store_check::kind::absent, "no quarantine file yet"};
        try {
            quarantine_store q(where.sqlite_path, database::mode::read_only);
            return {store_check::kind::ok, "SQLite"};
        } catch (const schema_error& e) {
            return {store_check::kind::newer, e.what()};
        } catch (const store_error& e) {
            return {store_check::kind::unreachable, e.what()};
        }
    }
    try {
        pg_connection c(where.url);
        // mxwardend refuses fleet tables a newer mxwarden wrote, whatever
        // the quarantine's version.
        auto newer = [](std::string_view what, int v, int known) {
            return store_check{store_check::kind::newer,
                               std::string(what) + " schema version " + std::to_string(v) +
                                   ", newer than this mxwarden's " + std::to_string(known) +
                                   " (was it written by a newer mxwarden?)"};
        };
        if (int f = pg_component_version(c, "fleet"); f > pg_fleet_schema_version)
            return newer("fleet", f, pg_fleet_schema_version);
        int v = pg_component_version(c, "quarantine");
        if (v == 0)
            return {store_check::kind::absent, "no quarantine tables yet"};
        if (v > pg_quarantine_schema_version)
            return newer("quarantine", v, pg_quarantine_schema_version);
        return {store_check::kind::ok, "PostgreSQL, schema version " + std::to_string(v)};
    } catch (const store_error& e) {
        return {store_check::kind::unreachable, e.what()};
    }
}

std::unique_ptr<fleet_state> open_fleet_state(const std::string& url, const std::string& node)
{
    return std::make_unique<pg_fleet_state>(url, node);
}

std::string describe(const store_location& where)
{
    if (where.url.empty())
        return where.sqlite_path;
    // libpq's own parser, so both forms (URI and key=value) read the same
    // way they connect; a password in them is never repeated.
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(where.url.c_str(), &err);
    if (!opts) {
        PQfreemem(err);
        return "postgresql (unparsable store.url)";
    }
    std::string out = "postgresql";
    for (auto* o = opts; o->keyword; ++o) {
        std::string_view k = o->keyword;
        if (o->val && *o->val && (k == "host" || k == "hostaddr" || k == "port" || k == "dbname" || k == "user"))
            out += " " + std::string(k) + "=" + o->val;
    }
    PQconninfoFree(opts);
    return out;
}

}  // namespace mxw::store
