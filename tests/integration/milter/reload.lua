-- One MAIL FROM after a reload (milter_reload_test.sh). WANT is "continue" (the daemon cannot be asked and
-- on-error is accept) or "reply" (a tempfail or reject with a reply code: on-error tempfail, or the stub policy
-- server's REJECT). The shell script reads the milter's log to tell which setting produced it.
dofile(DIR .. "/lib.lua")

case("after reload " .. STEP .. ", want " .. WANT, function()
    local conn = open(SOCK)
    client(conn, "client-ok.mxw.test", "127.0.0.20", "client-ok.mxw.test", "client-ok.mxw.test", "OK")
    if WANT == "continue" then
        mail(conn, "a@good.mxw.test", "Q" .. STEP, SMFIR_CONTINUE)
    else
        mail(conn, "a@good.mxw.test", "Q" .. STEP, SMFIR_REPLYCODE)
    end
    mt.disconnect(conn)
end)

finish("reload.lua " .. STEP)
