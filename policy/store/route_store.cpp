#include "store/route_store.hpp"

#include <map>

namespace mxw::store {
namespace {

constexpr int schema_version = 1;

std::string join(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v)
        out.append(out.empty() ? "" : " ").append(s);
    return out;
}

std::vector<std::string> split(const std::string& s)
{
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t sp = s.find(' ', pos);
        if (sp == std::string::npos)
            sp = s.size();
        if (sp > pos)
            out.push_back(s.substr(pos, sp - pos));
        pos = sp + 1;
    }
    return out;
}

}  // namespace

// A lost last save costs one fresh resolution, never mail: no fsync per
// route (a thousand new destinations at start would otherwise mean a
// thousand of them).
route_store::route_store(const std::string& path)
    : db_(path, database::mode::read_write_create, 5000, database::durability::normal)
{
    int v = db_.user_version();
    if (v > schema_version)
        throw sqlite_error(0, path + ": route store schema " + std::to_string(v) +
                                  " is newer than this mxwardend knows (" + std::to_string(schema_version) + ")");
    if (v < 1) {
        transaction t(db_);
        db_.exec("CREATE TABLE routes (destination TEXT PRIMARY KEY, implicit INTEGER NOT NULL, ttl INTEGER NOT NULL,"
                 " evidence TEXT NOT NULL, saved_at INTEGER NOT NULL)");
        db_.exec("CREATE TABLE route_hosts (destination TEXT NOT NULL REFERENCES routes(destination) ON DELETE CASCADE,"
                 " position INTEGER NOT NULL, preference INTEGER NOT NULL, name TEXT NOT NULL, addresses TEXT NOT NULL,"
                 " PRIMARY KEY (destination, position))");
        db_.set_user_version(1);
        t.commit();
    }
}

void route_store::save(const saved_route& r)
{
    transaction t(db_);
    db_.prepare("DELETE FROM routes WHERE destination = ?1").bind(1, r.destination).run();
    if (!r.hosts.empty()) {
        db_.prepare("INSERT INTO routes (destination, implicit, ttl, evidence, saved_at) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(1, r.destination)
            .bind(2, std::int64_t{r.implicit})
            .bind(3, std::int64_t{r.ttl})
            .bind(4, r.evidence)
            .bind(5, r.saved_at)
            .run();
        auto ins = db_.prepare("INSERT INTO route_hosts (destination, position, preference, name, addresses)"
                               " VALUES (?1, ?2, ?3, ?4, ?5)");
        for (std::size_t i = 0; i < r.hosts.size(); ++i) {
            const auto& h = r.hosts[i];
            ins.bind(1, r.destination)
                .bind(2, static_cast<std::int64_t>(i))
                .bind(3, std::int64_t{h.preference})
                .bind(4, h.name)
                .bind(5, join(h.addresses))
                .run();
            ins.reset();
        }
    }
    t.commit();
}

std::vector<saved_route> route_store::load(std::size_t limit)
{
    std::vector<saved_route> out;
    std::map<std::string, std::size_t> index;
    auto routes = db_.prepare("SELECT destination, implicit, ttl, evidence, saved_at FROM routes"
                              " ORDER BY saved_at DESC LIMIT ?1");
    routes.bind(1, static_cast<std::int64_t>(limit));
    while (routes.step()) {
        saved_route r;
        r.destination = routes.text(0);
        r.implicit = routes.integer(1) != 0;
        r.ttl = static_cast<std::uint32_t>(routes.integer(2));
        r.evidence = routes.text(3);
        r.saved_at = routes.integer(4);
        index[r.destination] = out.size();
        out.push_back(std::move(r));
    }
    auto hosts = db_.prepare("SELECT destination, preference, name, addresses FROM route_hosts"
                             " ORDER BY destination, position");
    while (hosts.step()) {
        auto it = index.find(hosts.text(0));
        if (it == index.end())
            continue;
        out[it->second].hosts.push_back(saved_host{static_cast<std::uint16_t>(hosts.integer(1)), hosts.text(2),
                                                   split(hosts.text(3))});
    }
    // A route whose hosts are gone (an interrupted write cannot cause this,
    // the transaction is atomic; a hand-edited file can) is no route.
    std::erase_if(out, [](const saved_route& r) { return r.hosts.empty(); });
    return out;
}

}  // namespace mxw::store
