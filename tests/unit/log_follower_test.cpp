// net/log_follower's file source on a real io_context and real files:
// appends, partial lines, an over-long line, rotation, truncation and the
// per-tick rate cap (issue 11).
#include "net/log_follower.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace mxw;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct fixture {
    fs::path dir;
    fs::path log;
    asio::io_context io;
    std::vector<std::string> lines;
    net::follower_limits lim;

    fixture()
    {
        std::string tmpl = (fs::temp_directory_path() / "mxw-follow-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        log = dir / "maillog";
        lim.poll = 1ms;
    }
    ~fixture() { fs::remove_all(dir); }
    fixture(const fixture&) = delete;
    fixture& operator=(const fixture&) = delete;

    void append(const std::string& text, const fs::path& p = {})
    {
        std::ofstream(p.empty() ? log : p, std::ios::app | std::ios::binary) << text;
    }

    std::unique_ptr<net::log_follower> follow()
    {
        return std::make_unique<net::log_follower>(io.get_executor(), net::file_source(log.string()),
                                                   [this](const net::log_record& r) {
                                                       CHECK(r.program.empty());
                                                       lines.emplace_back(r.message);
                                                   },
                                                   lim);
    }

    /// Runs a few timer ticks (the follower always has one pending).
    void ticks(int n = 3)
    {
        for (int i = 0; i < n; ++i)
            io.run_one();
    }
};

}  // namespace

TEST_CASE_METHOD(fixture, "follower: starts at the end and reads appended lines", "[follower]")
{
    append("old line 1\nold line 2\n");
    auto f = follow();
    ticks();
    CHECK(lines.empty());  // history is not replayed
    append("new 1\nnew 2\n");
    ticks();
    CHECK(lines == std::vector<std::string>{"new 1", "new 2"});
    CHECK(f->stats().lines == 2);
}

TEST_CASE_METHOD(fixture, "follower: a partial line waits for its newline", "[follower]")
{
    append("");
    auto f = follow();
    append("postfix/smtp[1]: half");
    ticks();
    CHECK(lines.empty());
    append(" and the rest\nnext");
    ticks();
    CHECK(lines == std::vector<std::string>{"postfix/smtp[1]: half and the rest"});
    append("\n");
    ticks();
    CHECK(lines.back() == "next");
}

TEST_CASE_METHOD(fixture, "follower: an over-long line is skipped to its newline", "[follower]")
{
    lim.max_line_bytes = 100;
    append("");
    auto f = follow();
    append("before\n" + std::string(100, 'x') + "\n" + std::string(101, 'y'));
    ticks();
    append(std::string(50000, 'y') + "\nafter\n");
    ticks();
    CHECK(lines == std::vector<std::string>{"before", std::string(100, 'x'), "after"});
    CHECK(f->stats().skipped == 1);
}

TEST_CASE_METHOD(fixture, "follower: a missing log is waited for and read from its start", "[follower]")
{
    auto f = follow();
    ticks();
    append("first\n");
    ticks();
    CHECK(lines == std::vector<std::string>{"first"});
}

TEST_CASE_METHOD(fixture, "follower: rotation drains the old file, then reads the new one from its start", "[follower]")
{
    append("");
    auto f = follow();
    append("a\n");
    ticks();
    fs::rename(log, dir / "maillog.1");
    append("b (written to the old file after the rename)\n", dir / "maillog.1");
    ticks();  // no new file yet: keeps reading the old one
    CHECK(lines == std::vector<std::string>{"a", "b (written to the old file after the rename)"});
    append("c (late, old file)\n", dir / "maillog.1");
    append("d\ne\n");  // the new maillog
    ticks();
    CHECK(lines == std::vector<std::string>{"a", "b (written to the old file after the rename)", "c (late, old file)",
                                            "d", "e"});
    CHECK(f->stats().reopens == 1);
    append("f\n");
    ticks();
    CHECK(lines.back() == "f");
}

TEST_CASE_METHOD(fixture, "follower: truncation starts again from the top", "[follower]")
{
    append("");
    auto f = follow();
    append("one long line before truncation\n");
    ticks();
    fs::resize_file(log, 0);
    append("x\n");
    ticks();
    CHECK(lines == std::vector<std::string>{"one long line before truncation", "x"});
    CHECK(f->stats().reopens == 1);
}

TEST_CASE_METHOD(fixture, "follower: at most max-lines-per-tick lines per tick", "[follower]")
{
    lim.max_lines_per_tick = 3;
    append("");
    auto f = follow();
    for (int i = 0; i < 10; ++i)
        append("line " + std::to_string(i) + "\n");
    REQUIRE(io.run_one() == 1);  // one timer tick
    CHECK(lines.size() == 3);
    REQUIRE(io.run_one() == 1);
    CHECK(lines.size() == 6);
    ticks();
    REQUIRE(lines.size() == 10);
    CHECK(lines.back() == "line 9");
}

TEST_CASE_METHOD(fixture, "follower: at most max-bytes-per-tick bytes per tick", "[follower]")
{
    lim.max_bytes_per_tick = 10;
    append("");
    auto f = follow();
    append("12345678\nabcdefgh\n");
    REQUIRE(io.run_one() == 1);
    CHECK(lines == std::vector<std::string>{"12345678"});
    REQUIRE(io.run_one() == 1);
    CHECK(lines == std::vector<std::string>{"12345678", "abcdefgh"});
}

TEST_CASE_METHOD(fixture, "follower: destroying it stops the ticks", "[follower]")
{
    append("");
    auto f = follow();
    f.reset();
    append("unseen\n");
    io.run();  // the cancelled tick runs, reads nothing, and nothing is left
    CHECK(lines.empty());
}
