#include "cli/store_cli.hpp"

#include "cli/verb_config.hpp"
#include "base/args.hpp"
#include "proto/sanitize.hpp"
#include "store/open_store.hpp"
#include "store/pg_quarantine.hpp"
#include "store/quarantine_store.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sysexits.h>

namespace mxw::cli {
namespace {

constexpr std::string_view usage = R"(usage: mxwarden [-c FILE] [--section.key=value ...] store VERB ...

verbs:
  migrate --from sqlite:PATH [--dry-run]
                  copy the SQLite quarantine at PATH (quarantine.database of
                  the machine it comes from) into the PostgreSQL store of
                  store.url, every entry with its state, history and message.
                  Each entry is copied in a transaction of its own and
                  recorded by its origin (store.node and its old id), so a
                  run again copies only what is new: run it again after an
                  interruption, or to pick up what the old store took since.
                  Run it on the machine the store comes from, or name that
                  machine with --store.node=NAME.
                  The copies get new ids (each line says old -> new). A
                  message released before the migration names its old id in
                  its X-Mxwarden-Quarantine-Id header: if it comes back, it
                  becomes a new entry. An entry that was being released is
                  copied as held. Exit 0 when everything is there, 65 when
                  an origin is taken by another store's entry, 75 when
                  PostgreSQL cannot be reached (run again to resume).
)";

constexpr base::arg_option migrate_options[] = {{"--from", base::takes_value}, {"--dry-run"}};

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// One entry's reads see one snapshot: the old machine may still ingest,
// release or delete while the copy runs, and an entry must not come over
// held with a body that a concurrent delete already dropped. A read
// transaction in WAL mode blocks no writer.
class read_snapshot {
public:
    explicit read_snapshot(store::database& db) : db_(db) { db_.exec("BEGIN DEFERRED"); }
    ~read_snapshot()
    {
        try {
            db_.exec("COMMIT");
        } catch (const store::sqlite_error&) {
            // Nothing was written; the connection goes with the process.
        }
    }
    read_snapshot(const read_snapshot&) = delete;
    read_snapshot& operator=(const read_snapshot&) = delete;

private:
    store::database& db_;
};

struct tally {
    std::size_t copied = 0;
    std::size_t present = 0;
    std::size_t gone = 0;
    std::size_t clashes = 0;
};

// The origin names the store by this node's name only, so a second
// machine's file migrated under the same store.node would find its ids
// taken by the first's entries and copy nothing. Created time and sender
// never change in an entry: when they differ, the origin is someone
// else's.
bool same_entry(store::pg_quarantine& pg, std::int64_t id, const store::entry_summary& src)
{
    auto d = pg.find(id);
    return d && d->summary.created == src.created && d->summary.sender == src.sender;
}

std::string summary(const tally& t, std::size_t total, bool dry_run)
{
    std::string s = (dry_run ? "would copy " : "copied ") + std::to_string(t.copied) + ", already there " +
                    std::to_string(t.present);
    if (t.gone)
        s += ", purged meanwhile " + std::to_string(t.gone);
    if (t.clashes)
        s += ", not copied (origin taken) " + std::to_string(t.clashes);
    return s + ", total " + std::to_string(total);
}

int migrate(const base::parsed_args& a, const base::config& cfg)
{
    const std::string* from = a.value("--from");
    constexpr std::string_view scheme = "sqlite:";
    if (!from || !from->starts_with(scheme) || from->size() == scheme.size()) {
        std::cerr << "mxwarden store migrate: give the store to copy as --from sqlite:PATH\n" << usage;
        return EX_USAGE;
    }
    if (!a.positional.empty()) {
        std::cerr << "mxwarden store migrate: unexpected '" << proto::sanitize(a.positional.front()) << "'\n"
                  << usage;
        return EX_USAGE;
    }
    const std::string path = from->substr(scheme.size());
    if (cfg.store.url.empty()) {
        std::cerr << "mxwarden store migrate: store migrate copies into the store.url database; set store.url\n";
        return EX_CONFIG;
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        std::cerr << "mxwarden store migrate: no quarantine file " << proto::sanitize(path) << "\n";
        return EX_NOINPUT;
    }
    const bool dry_run = a.has("--dry-run");
    const store::store_location dest{cfg.quarantine.database, cfg.store.url, cfg.store.node};

    // PostgreSQL first: when it is down, the SQLite file is left as it was.
    std::unique_ptr<store::pg_quarantine> pg;
    try {
        pg = std::make_unique<store::pg_quarantine>(cfg.store.url, cfg.store.node);
    } catch (const store::schema_error& e) {
        std::cerr << "mxwarden store migrate: " << store::describe(dest) << ": " << e.what() << "\n";
        return EX_CONFIG;
    } catch (const store::store_error& e) {
        std::cerr << "mxwarden store migrate: " << store::describe(dest) << ": " << e.what()
                  << "\nnothing copied; run again when PostgreSQL is reachable\n";
        return e.transient() ? EX_TEMPFAIL : EX_UNAVAILABLE;
    }
    // Read-write, not read-only: a store written by an older mxwarden is
    // brought to the current SQLite schema first, as any quarantine verb
    // on its own machine would do; the reads need its columns.
    std::unique_ptr<store::quarantine_store> src;
    try {
        src = std::make_unique<store::quarantine_store>(path, store::database::mode::read_write);
    } catch (const store::store_error& e) {
        std::cerr << "mxwarden store migrate: cannot read " << proto::sanitize(path) << " as a quarantine: "
                  << e.what() << "\n";
        return e.transient() ? EX_TEMPFAIL : EX_DATAERR;
    }

    tally t;
    std::vector<store::entry_summary> entries;
    try {
        entries = src->list({});
        for (const auto& row : entries) {
            // The origin names the machine as well as the id: every node's
            // SQLite store counts from 1.
            const std::string origin = "sqlite:" + cfg.store.node + ":" + std::to_string(row.id);
            auto clash = [&](std::int64_t id) {
                std::cout << "entry " << row.id << ": NOT copied: " << origin << " is entry " << id
                          << " already, a different one (another machine's store? give its name with "
                             "--store.node=NAME)"
                          << std::endl;
                ++t.clashes;
            };
            if (dry_run) {
                if (auto id = pg->find_origin(origin)) {
                    if (!same_entry(*pg, *id, row)) {
                        clash(*id);
                        continue;
                    }
                    std::cout << "entry " << row.id << ": already there as " << *id << "\n";
                    ++t.present;
                } else {
                    std::cout << "entry " << row.id << ": would be copied\n";
                    ++t.copied;
                }
                continue;
            }
            std::optional<store::entry_details> d;
            std::optional<std::string> msg;
            std::vector<store::delivery_record> deliveries;
            {
                read_snapshot snap(src->db());
                d = src->find(row.id);
                if (d && d->summary.state != store::entry_state::deleted)
                    msg = src->message(row.id);
                deliveries = src->deliveries(row.id);
            }
            if (!d) {
                std::cout << "entry " << row.id << ": purged from the SQLite store meanwhile; skipped\n";
                ++t.gone;
                continue;
            }
            auto r = pg->import_entry(origin, *d, msg, deliveries, now());
            if (!r.copied && !same_entry(*pg, r.id, row)) {
                clash(r.id);
                continue;
            }
            std::cout << "entry " << row.id << ": " << (r.copied ? "copied as " : "already there as ") << r.id;
            if (r.copied && d->summary.state == store::entry_state::releasing)
                std::cout << " (it was being released: held again)";
            std::cout << std::endl;
            ++(r.copied ? t.copied : t.present);
        }
    } catch (const store::store_error& e) {
        std::cout << std::flush;
        std::cerr << "mxwarden store migrate: " << e.what() << "\n"
                  << summary(t, entries.size(), dry_run) << " before that; every entry copied is whole, "
                  << "run again to copy the rest\n";
        return e.transient() ? EX_TEMPFAIL : EX_SOFTWARE;
    }
    std::cout << summary(t, entries.size(), dry_run) << "\n";
    if (t.copied && !dry_run)
        std::cout << "the copies have new ids (old -> new above); a message released before the migration that "
                     "comes back becomes a new entry\n";
    return t.clashes ? EX_DATAERR : 0;
}

}  // namespace

int run_store(std::span<const std::string_view> global, std::span<const std::string_view> args)
{
    if (std::find(args.begin(), args.end(), "--help") != args.end() ||
        std::find(args.begin(), args.end(), "-h") != args.end()) {
        std::cout << usage;
        return 0;
    }
    if (args.empty() || args.front() != "migrate") {
        std::cerr << "mxwarden store: "
                  << (args.empty() ? std::string("no verb given")
                                   : "unknown verb '" + proto::sanitize(args.front()) + "'")
                  << "\n"
                  << usage;
        return EX_USAGE;
    }
    auto a = base::parse_args(args.subspan(1), {migrate_options, base::config_args::overrides});
    if (!a.errors.empty()) {
        for (const auto& e : a.errors)
            std::cerr << "mxwarden store migrate: " << e << "\n";
        std::cerr << usage;
        return EX_USAGE;
    }
    auto vc = load_verb_config(global, a.overrides);
    if (!vc.cfg) {
        for (const auto& e : vc.errors)
            std::cerr << "mxwarden: " << e << "\n";
        return EX_CONFIG;
    }
    try {
        return migrate(a, *vc.cfg);
    } catch (const std::exception& e) {
        std::cerr << "mxwarden store migrate: " << e.what() << "\n";
        return EX_SOFTWARE;
    }
}

}  // namespace mxw::cli
