/* Baseline for the policy benchmark: the cheapest possible Postfix policy
 * server. It answers every request with DUNNO and does nothing else, so its
 * throughput is the ceiling set by the kernel and the load generator.
 *
 * Usage: trivial_responder PORT   (listens on 127.0.0.1:PORT, prints
 * "event=ready" on stderr once listening, like mxwardend). */
#define _GNU_SOURCE /* accept4 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536

/* Per connection: was the last byte seen a newline? A request ends at the
 * first empty line, and it may arrive split across any number of reads. */
static unsigned char last_was_newline[MAX_FD];

int main(int argc, char **argv)
{
    static const char reply[] = "action=DUNNO\n\n";
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct epoll_event ev = { .events = EPOLLIN }, events[256];
    int one = 1, lfd, ep;

    if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
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
            char buf[4096];
            ssize_t got;

            if (fd == lfd) {
                while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (cfd >= MAX_FD) {
                        close(cfd);
                        continue;
                    }
                    last_was_newline[cfd] = 0;
                    ev.data.fd = cfd;
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
                }
                continue;
            }
            got = read(fd, buf, sizeof buf);
            if (got <= 0) { /* EOF or error (closing also leaves the epoll set) */
                close(fd);
                continue;
            }
            for (ssize_t j = 0; j < got; j++) {
                if (buf[j] != '\n') {
                    last_was_newline[fd] = 0;
                } else if (!last_was_newline[fd]) {
                    last_was_newline[fd] = 1;
                } else {
                    last_was_newline[fd] = 0;
                    /* A client reads each reply before it sends the next
                     * request, so the send buffer is empty here; a short write
                     * means the client stopped reading: give up on it. */
                    if (write(fd, reply, sizeof reply - 1) != sizeof reply - 1) {
                        close(fd);
                        break;
                    }
                }
            }
        }
    }
}
