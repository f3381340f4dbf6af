-- The quarantine store cannot take the message (milter_test.sh broke its schema): the milter answers
-- a reply code (451 4.3.0, in its log) at end of message, and the message stays with the sending MTA.
dofile(DIR .. "/lib.lua")

case("quarantine write fails: tempfail, nothing discarded", function()
    local conn = open(SOCK)
    client(conn, "[127.0.0.22]", "127.0.0.22", "[127.0.0.22]", "", "FAIL")
    mail(conn, "q2@good.mxw.test", "QQUAR2", SMFIR_CONTINUE)
    rcpt(conn, "user@good.mxw.test", SMFIR_CONTINUE)
    local r = message(conn, "store broken")
    check(r == SMFIR_REPLYCODE, "end of message: milter replied " .. tostring(r) .. ", want a reply code")
    mt.disconnect(conn)
end)

finish("quarantine_broken.lua")
