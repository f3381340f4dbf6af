-- The daemon cannot be asked (nothing listens, or it never answers). WANT is "accept" or "tempfail", the
-- milter's --on-error setting; the null MX sender would be refused by a working daemon, so CONTINUE proves the
-- milter went on without it.
dofile(DIR .. "/lib.lua")

case("daemon unavailable, on-error " .. WANT, function()
    local conn = open(SOCK)
    client(conn, "client-ok.mxw.test", "127.0.0.20", "client-ok.mxw.test", "client-ok.mxw.test", "OK")
    if WANT == "accept" then
        mail(conn, "b@nullmx.mxw.test", "QDOWN", SMFIR_CONTINUE)
        rcpt(conn, "user@good.mxw.test", SMFIR_CONTINUE)
        local r = message(conn, "daemon down")
        check(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "end of message: " .. tostring(r))
    else
        mail(conn, "a@good.mxw.test", "QDOWN", SMFIR_REPLYCODE)
    end
    mt.disconnect(conn)
end)

finish("on_error.lua " .. WANT)
