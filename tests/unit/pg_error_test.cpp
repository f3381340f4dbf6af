// Tests for pg_transient (store/pg.hpp): which PostgreSQL failures keep
// mail queued for a retry and which need a person. Pure; the same errors
// from a real server are in ../store/pg_quarantine_test.cpp.
#include "store/pg.hpp"

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("PostgreSQL failures worth retrying are transient", "[pg]")
{
    struct row {
        const char* label;
        std::string sqlstate;
        bool connection_failed;
        bool transient;
    };
    auto r = GENERATE(values<row>({
        {"connect refused, no answer", "", true, true},
        {"broken connection with a code", "42601", true, true},
        {"connection exception class 08", "08006", false, true},
        {"cannot connect now (08 class too)", "08001", false, true},
        {"serialization failure", "40001", false, true},
        {"deadlock", "40P01", false, true},
        {"disk full", "53100", false, true},
        {"out of memory", "53200", false, true},
        {"too many connections", "53300", false, true},
        {"admin shutdown", "57P01", false, true},
        {"crash shutdown", "57P02", false, true},
        {"cannot connect now", "57P03", false, true},
        {"statement timeout", "57014", false, true},
        {"other rollback class 40", "40002", false, false},
        {"syntax error", "42601", false, false},
        {"unique violation", "23505", false, false},
        {"undefined table", "42P01", false, false},
        {"insufficient privilege", "42501", false, false},
        {"no code, connection fine", "", false, false},
    }));
    INFO(r.label);
    CHECK(mxw::store::pg_transient(r.sqlstate, r.connection_failed) == r.transient);
    CHECK(mxw::store::pg_error(r.sqlstate, r.connection_failed, "x").transient() == r.transient);
}
