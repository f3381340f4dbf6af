# shellcheck shell=bash
# SMTP on both sides of the MTA under test: swaks as the client, smtp-sink and fixtures/smtp_peers.py as the next
# hops. Source this file, then:
#
#   mxw_start_sink DIR IP:PORT [USER [smtp-sink options...]]
#                                  smtp-sink dumping each message into DIR (run as USER, default postfix; its log
#                                  is DIR.log); returns once it listens
#   mxw_sink_file DIR SUBJECT [SECONDS]
#                                  the dump holding "Subject: SUBJECT", waiting up to SECONDS (default 15)
#   mxw_sink_timed PF DIR SUBJECT RCPT
#                                  one message through private Postfix PF's sendmail, printing the seconds until the
#                                  sink in DIR has it (one decimal), or "never" after 60 s
#   mxw_start_smtp_peers LOG SPEC...   fixtures/smtp_peers.py with listener SPECs (IP:PORT=MODE); returns once ready
#   mxw_swaks FROM TO PORT CLIENT_IP [swaks args]          a session to 127.0.0.1:PORT that ends after RCPT
#   mxw_swaks_message FROM TO PORT CLIENT_IP SUBJECT [swaks args]   a whole message
#   mxw_smtp_reply TRANSCRIPT COMMAND  the server's reply to COMMAND ("RCPT TO", "MAIL FROM") in a swaks transcript
#   mxw_expect_reply TRANSCRIPT ERE DESCRIPTION    the reply to RCPT TO matches ERE, else say why and return 1
#   mxw_smtp_case NAME PORT CLIENT_IP SENDER COMMAND ERE
#                                  a session to RCPT TO:<user@good.mxw.test> (case_name=NAME) whose reply to COMMAND
#                                  matches ERE, else a failure; leaves $transcript and $reply
#   mxw_send_message NAME PORT CLIENT_IP SENDER SUBJECT
#                                  a whole message to user@good.mxw.test that must be accepted; sets $data_reply
#
# Any 127.x.y.z works as a client or listener address without configuring it: Linux routes all of 127/8 to lo.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mxw_start_sink() {
    local dir=${1:?usage: mxw_start_sink DIR IP:PORT [USER [options...]]} addr=${2:?} user=${3:-postfix}
    shift $(($# < 3 ? $# : 3))
    mkdir -p "$dir"
    chown "$user:" "$dir"
    # As root, smtp-sink must be told whom to run as; 10 is the listen backlog.
    smtp-sink -u "$user" "$@" -d "$dir/%M." "$addr" 10 >"$dir.log" 2>&1 &
    local pid=$!
    mxw_track_pid "$pid"
    mxw_wait_listen 10 "$addr" "$pid" "$dir.log"
}

_mxw_sink_has() { grep -lq "^Subject: $2\$" "$1"/* 2>/dev/null; }
mxw_sink_file() {
    local dir=$1 subject=$2 seconds=${3:-15}
    mxw_poll "$seconds" _mxw_sink_has "$dir" "$subject" || return 1
    local f
    for f in "$dir"/*; do
        grep -q "^Subject: $subject\$" "$f" && { printf '%s\n' "$f"; return 0; }
    done
}

mxw_sink_timed() {
    local pf=${1:?usage: mxw_sink_timed PF DIR SUBJECT RCPT} dir=${2:?} subject=${3:?} rcpt=${4:?} start end
    start=$(date +%s.%N)
    printf 'Subject: %s\n\n%s\n' "$subject" "$mxw_name" | sendmail -C "$pf/etc" -f sender@mxw.test "$rcpt"
    if mxw_sink_file "$dir" "$subject" 60 >/dev/null; then
        end=$(date +%s.%N)
        awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }'
    else
        echo "never"
    fi
}

mxw_start_smtp_peers() {
    local log=${1:?usage: mxw_start_smtp_peers LOG SPEC...}
    shift
    local ready=$log.ready
    rm -f "$ready"
    "$MXW_PYTHON" "$MXW_FIXTURES/smtp_peers.py" --ready-file "$ready" "$@" 2>"$log" &
    MXW_SMTP_PEERS_PID=$!
    mxw_track_pid "$MXW_SMTP_PEERS_PID"
    mxw_wait_file 10 "$ready" "$MXW_SMTP_PEERS_PID" "$log"
}

# Both print the transcript and return 0 whatever the server answered; judge it with mxw_expect_reply or
# mxw_smtp_reply. Later swaks options override earlier ones.
_mxw_swaks() {
    local from=$1 to=$2 port=$3 client=$4
    shift 4
    swaks --server 127.0.0.1 --port "$port" --local-interface "$client" --helo client.mxw.test \
        --from "$from" --to "$to" --timeout 15s "$@" </dev/null 2>&1 || true
}
mxw_swaks() {
    (($# >= 4)) || { echo "usage: mxw_swaks FROM TO PORT CLIENT_IP [swaks args]" >&2; return 1; }
    _mxw_swaks "$1" "$2" "$3" "$4" --quit-after RCPT "${@:5}"
}
mxw_swaks_message() {
    (($# >= 5)) || { echo "usage: mxw_swaks_message FROM TO PORT CLIENT_IP SUBJECT [swaks args]" >&2; return 1; }
    _mxw_swaks "$1" "$2" "$3" "$4" --header "Subject: $5" "${@:6}"
}

# The reply is every server line ("<-  " or "<** ", prefix removed) between "-> COMMAND" and the next command.
mxw_smtp_reply() {
    awk -v cmd="$2" '
        index($0, "-> " cmd) { r = 1; next }
        r && /^ *-> / { exit }
        r && /^ *<(-|\*\*) / { sub(/^ *<(-|\*\*) +/, ""); print }' <<<"$1"
}

mxw_expect_reply() {
    local transcript=${1?} pattern=${2:?} what=${3:?usage: mxw_expect_reply TRANSCRIPT PATTERN DESCRIPTION} reply
    reply=$(mxw_smtp_reply "$transcript" "RCPT TO")
    if [[ -n $reply ]] && grep -qE -- "$pattern" <<<"$reply"; then
        return 0
    fi
    {
        printf 'FAIL: %s\n' "$what"
        printf '  expected RCPT reply matching: %s\n' "$pattern"
        printf '  got: %s\n' "${reply:-(no reply to RCPT TO in transcript)}"
        printf -- '--- swaks transcript ---\n%s\n------------------------\n' "$transcript"
    } >&2
    return 1
}

mxw_smtp_case() {
    case_name=$1
    local port=$2 client=$3 sender=$4 cmd=$5 pattern=$6
    transcript=$(mxw_swaks "$sender" user@good.mxw.test "$port" "$client")
    reply=$(mxw_smtp_reply "$transcript" "$cmd")
    printf '%s: client %s, MAIL FROM:<%s> -> %s: %s\n' "$case_name" "$client" "${sender#<>}" "$cmd" \
        "${reply:-(no reply)}"
    grep -Eq -- "$pattern" <<<"$reply" || fail "$cmd reply does not match /$pattern/; transcript: $transcript"
}

# Postfix says "queued as", Sendmail "Message accepted for delivery".
mxw_send_message() {
    case_name=$1
    transcript=$(mxw_swaks_message "$4" user@good.mxw.test "$2" "$3" "$5")
    data_reply=$(grep -E '^ *<- +250 .*(queued|accepted)' <<<"$transcript" || true)
    echo "$case_name: client $3, full message -> ${data_reply:-no 250 after DATA}"
    [[ -n $data_reply ]] || fail "message not accepted: $transcript"
}
