-- Helpers shared by the milter scripts, loaded with dofile(DIR .. "/lib.lua"); miltertest -D sets DIR and the
-- sockets. miltertest prints nothing when a Lua error ends a script, so every case runs under pcall, says
-- "ok NAME" or "FAIL NAME: why", and finish() fails the script if any case failed.

failures = 0

function check(cond, what)
    if not cond then error(what, 2) end
end

-- A new MTA connection to the milter at SOCK (retried while it starts).
function open(sock)
    local conn = mt.connect(sock, 40, 0.25)
    check(conn ~= nil, "mt.connect(" .. sock .. ") failed")
    return conn
end

-- The connect event with the client macros both MTAs send once asked for them in negotiate.
function client(conn, host, ip, name, ptr, resolve)
    mt.macro(conn, SMFIC_CONNECT, "{client_addr}", ip, "{client_name}", name, "{client_ptr}", ptr,
        "{client_resolve}", resolve, "{daemon_name}", "mxw-test-mta")
    check(mt.conninfo(conn, host, ip) == nil, "mt.conninfo failed")
    expect(conn, SMFIR_CONTINUE, "connect")
    -- miltertest sends a HELO of its own before the first MAIL if the script did not, and that drops the MAIL
    -- macros declared before it (the queue ID).
    check(mt.helo(conn, "client.mxw.test") == nil, "mt.helo failed")
    expect(conn, SMFIR_CONTINUE, "HELO")
end

function expect(conn, want, what)
    local got = mt.getreply(conn)
    check(got == want, what .. ": milter replied " .. tostring(got) .. ", want " .. tostring(want))
end

-- MAIL FROM with a queue ID macro; the milter's reply is checked against WANT.
function mail(conn, sender, qid, want)
    mt.macro(conn, SMFIC_MAIL, "i", qid, "{mail_addr}", sender)
    check(mt.mailfrom(conn, "<" .. sender .. ">") == nil, "mt.mailfrom failed")
    expect(conn, want, "MAIL FROM:<" .. sender .. ">")
end

function rcpt(conn, recipient, want)
    mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", recipient)
    check(mt.rcptto(conn, "<" .. recipient .. ">") == nil, "mt.rcptto failed")
    expect(conn, want, "RCPT TO:<" .. recipient .. ">")
end

-- DATA, two headers, a two-line body and end of message; returns the reply to end of message.
function message(conn, subject)
    check(mt.data(conn) == nil, "mt.data failed")
    expect(conn, SMFIR_CONTINUE, "DATA")
    check(mt.header(conn, "From", "<sender@example.test>") == nil, "mt.header failed")
    check(mt.header(conn, "Subject", subject) == nil, "mt.header failed")
    check(mt.eoh(conn) == nil, "mt.eoh failed")
    check(mt.bodystring(conn, "first line of " .. subject .. "\r\nsecond line\r\n") == nil, "mt.bodystring failed")
    check(mt.eom(conn) == nil, "mt.eom failed")
    return mt.getreply(conn)
end

function case(name, f)
    local ok, err = pcall(f)
    if ok then
        mt.echo("ok " .. name)
    else
        failures = failures + 1
        mt.echo("FAIL " .. name .. ": " .. tostring(err))
    end
end

function finish(script)
    if failures > 0 then
        mt.echo(script .. ": " .. failures .. " case(s) failed")
        error("failed")
    end
    mt.echo(script .. ": all cases passed")
end
