/* Baseline for the socketmap benchmark: the cheapest possible socketmap
 * server. It parses the netstring framing and nothing else: every request is
 * answered with one fixed OK value, except a request whose key is the literal
 * "*" (Postfix's wildcard probe), which gets "NOTFOUND " as from mxwardend.
 * With the default value, a warm mxwardend's answer for the benchmark zone,
 * the bytes on the wire are the same for both servers, so its throughput is
 * the ceiling set by the kernel and the load generator.
 *
 * Usage: trivial_socketmap PORT [VALUE]   (listens on 127.0.0.1:PORT, answers
 * "OK VALUE", default VALUE "mxw:[127.0.0.200]:25", the length of every
 * answer for run_socketmap_bench.sh's zone; prints "event=ready" on
 * stderr once listening, like mxwardend). */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536
/* mxwardend's limit for a request payload (proto/limits.hpp). */
#define MAX_PAYLOAD 8192
/* Longest VALUE: replies are short, and out below must hold many. */
#define MAX_VALUE 1000

/* Per connection netstring parser state: a request may arrive split across
 * any number of reads, and one read may hold several requests. */
enum phase { LENGTH, PAYLOAD, COMMA };
struct conn {
    unsigned char phase;
    unsigned char digits;   /* length digits seen so far */
    unsigned int remaining; /* LENGTH: the length so far; PAYLOAD: bytes left */
    unsigned int length;    /* payload length of the current request */
    char tail[2];           /* the last two payload bytes: " *" is the wildcard key */
};
static struct conn conns[MAX_FD];

static char ok_reply[MAX_VALUE + 16];
static size_t ok_reply_len;
static const char notfound_reply[] = "9:NOTFOUND ,";

/* Consumes got bytes; appends a reply to out for each complete request.
 * Returns the number of reply bytes, or -1 when the framing is broken. */
static ssize_t consume(struct conn *c, const char *in, size_t got, char *out)
{
    size_t used = 0;
    for (size_t j = 0; j < got;) {
        unsigned char b = (unsigned char)in[j];
        switch (c->phase) {
        case LENGTH:
            if (b >= '0' && b <= '9') {
                if (c->digits > 0 && c->remaining == 0) /* leading zero */
                    return -1;
                c->remaining = c->remaining * 10 + (b - '0');
                if (++c->digits > 5 || c->remaining > MAX_PAYLOAD)
                    return -1;
            } else if (b == ':' && c->digits > 0) {
                c->length = c->remaining;
                c->tail[0] = c->tail[1] = 0;
                c->phase = c->remaining > 0 ? PAYLOAD : COMMA;
            } else {
                return -1;
            }
            j++;
            break;
        case PAYLOAD: {
            size_t take = got - j < c->remaining ? got - j : c->remaining;
            if (take >= 2) {
                c->tail[0] = in[j + take - 2];
                c->tail[1] = in[j + take - 1];
            } else {
                c->tail[0] = c->tail[1];
                c->tail[1] = in[j];
            }
            c->remaining -= (unsigned int)take;
            j += take;
            if (c->remaining == 0)
                c->phase = COMMA;
            break;
        }
        case COMMA:
            if (b != ',')
                return -1;
            j++;
            if (c->length >= 2 && c->tail[0] == ' ' && c->tail[1] == '*') {
                memcpy(out + used, notfound_reply, sizeof notfound_reply - 1);
                used += sizeof notfound_reply - 1;
            } else {
                memcpy(out + used, ok_reply, ok_reply_len);
                used += ok_reply_len;
            }
            memset(c, 0, sizeof *c);
            break;
        }
    }
    return (ssize_t)used;
}

int main(int argc, char **argv)
{
    const char *value = argc == 3 ? argv[2] : "mxw:[127.0.0.200]:25";
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct epoll_event ev = { .events = EPOLLIN }, events[256];
    int one = 1, lfd, ep;

    if (argc < 2 || argc > 3 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535 ||
        strlen(value) > MAX_VALUE) {
        fprintf(stderr, "usage: %s PORT [VALUE]\n", argv[0]);
        return 2;
    }
    ok_reply_len = (size_t)snprintf(ok_reply, sizeof ok_reply, "%zu:OK %s,", strlen(value) + 3, value);
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, SOMAXCONN)) {
        perror("bind/listen");
        return 1;
    }
    ep = epoll_create1(0);
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    fprintf(stderr, "event=ready port=%s\n", argv[1]);

    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd, cfd;
            /* The shortest request ("3:m k,") is 6 bytes and its reply at most
             * ok_reply_len: room for the replies to a full input buffer. */
            static char buf[4096], out[(4096 / 6 + 1) * (MAX_VALUE + 16)];
            ssize_t got, len;

            if (fd == lfd) {
                while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (cfd >= MAX_FD) {
                        close(cfd);
                        continue;
                    }
                    memset(&conns[cfd], 0, sizeof conns[cfd]);
                    ev.data.fd = cfd;
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
                }
                continue;
            }
            got = read(fd, buf, sizeof buf);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue; /* level-triggered: epoll reports it again */
            if (got <= 0) { /* EOF or error (closing also leaves the epoll set) */
                close(fd);
                continue;
            }
            len = consume(&conns[fd], buf, (size_t)got, out);
            /* Broken framing: nothing after it lines up, drop the client as
             * mxwardend does. Otherwise one write for all complete requests:
             * a client that waits for each reply leaves the send buffer empty,
             * so a short write means it stopped reading: give up on it. */
            if (len < 0 || (len > 0 && write(fd, out, (size_t)len) != len))
                close(fd);
        }
    }
}
