// tests/store/quarantine_backend.hpp: what the quarantine contract tests
// (quarantine_contract.cpp) need from a backend. Each test binary that
// compiles the contract defines make_quarantine_backend for its own
// backend: unit_tests with a SQLite file, pg_store_tests with the
// PostgreSQL server in MXW_PG_URL.
#pragma once
#include "store/quarantine.hpp"

#include <memory>
#include <string>

namespace mxw::test {

/// One empty store for one test case.
class quarantine_backend {
public:
    virtual ~quarantine_backend() = default;
    /// A further handle on this store, as a process on fleet member `node`
    /// would open it.
    virtual std::unique_ptr<store::quarantine> open(const std::string& node = "node-a") = 0;
    /// The node that entries and claims made through open(node) report.
    [[nodiscard]] virtual std::string reported_node(const std::string& node) const = 0;
};

/// A new, empty store.
std::unique_ptr<quarantine_backend> make_quarantine_backend();

/// An entry with an 8-bit body (a NUL, a 0xff), a folded Subject and two
/// recipients whose domains differ in case.
inline store::new_entry sample(std::string queue_id = "4XyZ1",
                               std::vector<std::string> rcpts = {"bob@dest.example", "carol@Dest.Example"})
{
    using namespace std::string_literals;
    store::new_entry e;
    e.reason = "dns-failure";
    e.queue_id = std::move(queue_id);
    e.sender = "alice@src.example";
    e.recipients = std::move(rcpts);
    e.message = "From: Alice <alice@src.example>\nSubject: quarterly\n report\nMessage-ID: <m1@src.example>\n"
                "\nbody\0bytes\xff\n"s;
    return e;
}

inline bool never_stale(const store::release_claim&) { return false; }
inline bool always_stale(const store::release_claim&) { return true; }

}  // namespace mxw::test
