/* The lean OCSP load client of bench/pki.py: what its Python client does, at a fraction of the CPU.

       cc -O2 -o ocsp_load bench/ocsp_load.c
       ocsp_load PORT REQUESTS_FILE CONNECTIONS SECONDS [OFFSET [DRAIN_SECONDS]]

   CONNECTIONS connections to 127.0.0.1:PORT in one epoll loop, each with one request in flight
   (TCP_NODELAY). Until SECONDS have passed, each answer is followed by the next request: on the
   same connection if the server keeps it open, else on a new one (the server closes when it says
   "Connection: close", or answers HTTP/1.0 without "Connection: keep-alive"). Then nothing new is
   sent and the requests in flight are waited for (up to DRAIN_SECONDS, default 10; those still
   unanswered then count as failed): no connection is dropped with a request in flight, which
   leaves OpenSSL 3.0's responder spinning at 100 % CPU. A connection closed or failing before a
   whole answer counts as failed and, while sending, is replaced by a new one with the next request.

   Connection i starts with request OFFSET + i, then takes every CONNECTIONS-th request (modulo
   their number), as the Python client does. REQUESTS_FILE (written by bench/pki.py), little-endian:
   uint32 count, then per request uint32 wire length, uint32 least and uint32 greatest body length
   of its answer, and the request's bytes (a whole HTTP request).

   An answer counts as ok when it is a complete HTTP/1.x response, status 200, with a Content-Length
   whose body is all there, within the request's expected body lengths, a DER SEQUENCE of exactly
   that length, and an OCSPResponse whose responseStatus is successful; otherwise as failed.

   Prints one JSON line: {"ok", "bad", "opened", "seconds" (wall), "cpu" (this process's user +
   system seconds)}. Bad arguments: one line on stderr, exit 2. */

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 65536 /* an answer longer than this counts as failed */

struct request {
    const unsigned char *wire;
    uint32_t len, min_body, max_body;
};

struct conn {
    int fd;
    long j;           /* index of the request in flight (modulo the number of requests) */
    uint32_t sent;    /* bytes of it written so far */
    uint32_t have;    /* bytes of the answer read so far */
    unsigned char buf[BUF_SIZE];
};

static struct request *reqs;
static long nreqs;
static int epfd, sending = 1, live = 0;
static long ok = 0, bad = 0, opened = 0;
static struct sockaddr_in addr;

static void die(const char *msg) {
    fprintf(stderr, "ocsp_load: %s\n", msg);
    exit(2);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t le32(const unsigned char *p) {
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void load_requests(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot read the requests file");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *data = malloc(size > 0 ? size : 1);
    if (size < 4 || fread(data, 1, size, f) != (size_t)size) die("the requests file is empty or unreadable");
    fclose(f);
    nreqs = le32(data);
    if (nreqs < 1) die("the requests file holds no request");
    reqs = calloc(nreqs, sizeof *reqs);
    long at = 4;
    for (long i = 0; i < nreqs; i++) {
        if (at + 12 > size) die("the requests file is truncated");
        reqs[i].len = le32(data + at);
        reqs[i].min_body = le32(data + at + 4);
        reqs[i].max_body = le32(data + at + 8);
        at += 12;
        if (reqs[i].len < 1 || at + reqs[i].len > size) die("the requests file is truncated");
        reqs[i].wire = data + at;
        at += reqs[i].len;
    }
    if (at != size) die("the requests file has bytes after its last request");
}

static void watch(struct conn *c, int op, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(epfd, op, c->fd, &ev) < 0) die("epoll_ctl failed");
}

static void drop(struct conn *c) {
    close(c->fd); /* also takes it out of the epoll set */
    c->fd = -1;
    live--;
}

static void connect_next(struct conn *c, long j) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket() failed");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        fprintf(stderr, "ocsp_load: connect failed: %s\n", strerror(errno)); /* e.g. no local port left */
        exit(2);
    }
    opened++;
    live++;
    c->fd = fd;
    c->j = j;
    c->sent = c->have = 0;
    watch(c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* The connection failed before a whole answer: count it, replace it while sending. */
static void failed(struct conn *c, long conns) {
    bad++;
    long j = c->j;
    drop(c);
    if (sending) connect_next(c, j + conns);
}

/* Write the rest of the request in flight; 1 when all of it is out, 0 to wait for EPOLLOUT, -1 failed. */
static int send_request(struct conn *c) {
    const struct request *r = &reqs[c->j % nreqs];
    while (c->sent < r->len) {
        ssize_t n = send(c->fd, r->wire + c->sent, r->len - c->sent, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        c->sent += n;
    }
    return 1;
}

static const unsigned char *find(const unsigned char *hay, size_t len, const char *needle) {
    return memmem(hay, len, needle, strlen(needle));
}

/* Whether needle (lower case) occurs in p[0:len], ignoring case. */
static int contains(const unsigned char *p, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp((const char *)p + i, needle, n) == 0) return 1;
    return 0;
}

/* Case-insensitive search of "\r\nname:" in the head; the value's start, or NULL. */
static const unsigned char *header(const unsigned char *head, size_t len, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i + 2 + n <= len; i++)
        if (head[i] == '\r' && head[i + 1] == '\n' && strncasecmp((const char *)head + i + 2, name, n) == 0)
            return head + i + 2 + n;
    return NULL;
}

/* responseStatus successful and a DER length equal to the body's. */
static int successful_ocsp(const unsigned char *b, uint32_t len) {
    if (len < 8 || b[0] != 0x30) return 0;
    uint32_t i, content;
    if (b[1] < 0x80) {
        content = b[1];
        i = 2;
    } else {
        uint32_t k = b[1] & 0x7f;
        if (k < 1 || k > 3 || 2 + k > len) return 0;
        content = 0;
        for (uint32_t x = 0; x < k; x++) content = content << 8 | b[2 + x];
        i = 2 + k;
    }
    return i + content == len && i + 3 <= len && b[i] == 0x0a && b[i + 1] == 0x01 && b[i + 2] == 0x00;
}

/* 0: the answer is not all in yet; 1: a whole answer (ok or bad counted), *close set as the server said. */
static int answer(struct conn *c, int *close_after) {
    const unsigned char *b = c->buf;
    const unsigned char *end = find(b, c->have, "\r\n\r\n");
    if (!end) {
        if (c->have == BUF_SIZE) { /* a head that does not fit: a failed answer */
            bad++;
            *close_after = 1;
            return 1;
        }
        return 0;
    }
    size_t head_len = end - b + 2; /* up to and including the last header's \r\n */
    const unsigned char *cl = header(b, head_len, "content-length:");
    long length = -1;
    if (cl) {
        char *stop;
        length = strtol((const char *)cl, &stop, 10);
        if ((const unsigned char *)stop == cl || length < 0) length = -1;
    }
    uint32_t body_at = end - b + 4;
    if (length >= 0 && body_at + length > BUF_SIZE) length = -1;
    if (length >= 0 && c->have < body_at + length) return 0;
    int v10 = head_len >= 8 && memcmp(b, "HTTP/1.0", 8) == 0;
    const unsigned char *conn = header(b, head_len, "connection:");
    size_t rest = conn ? head_len - (conn - b) : 0;
    const unsigned char *line_end = conn ? find(conn, rest, "\r\n") : NULL;
    size_t vlen = line_end ? (size_t)(line_end - conn) : 0;
    int says_close = conn && contains(conn, vlen, "close");
    int says_keep = conn && contains(conn, vlen, "keep-alive");
    *close_after = says_close || (v10 && !says_keep) || length < 0;
    const struct request *r = &reqs[c->j % nreqs];
    int status_ok = head_len >= 12 && (memcmp(b, "HTTP/1.1 ", 9) == 0 || v10) && memcmp(b + 9, "200", 3) == 0;
    if (status_ok && length >= 0 && (uint32_t)length >= r->min_body && (uint32_t)length <= r->max_body
        && c->have == body_at + length && successful_ocsp(b + body_at, length))
        ok++;
    else
        bad++;
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 7) die("usage: ocsp_load PORT REQUESTS_FILE CONNECTIONS SECONDS [OFFSET [DRAIN_SECONDS]]");
    int port = atoi(argv[1]);
    long conns = atol(argv[3]);
    double seconds = atof(argv[4]);
    long offset = argc > 5 ? atol(argv[5]) : 0;
    double drain = argc > 6 ? atof(argv[6]) : 10.0;
    if (port < 1 || port > 65535) die("PORT must be 1-65535");
    if (conns < 1 || conns > 10000) die("CONNECTIONS must be 1-10000");
    if (seconds <= 0 || drain <= 0) die("SECONDS and DRAIN_SECONDS must be positive");
    if (offset < 0) die("OFFSET must not be negative");
    load_requests(argv[2]);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    epfd = epoll_create1(0);
    if (epfd < 0) die("epoll_create1 failed");
    struct conn *pool = calloc(conns, sizeof *pool);
    struct epoll_event *events = calloc(conns, sizeof *events);
    if (!pool || !events) die("out of memory");

    double t0 = now(), deadline = t0 + seconds;
    for (long i = 0; i < conns; i++) connect_next(&pool[i], offset + i);
    while (live > 0) {
        double t = now();
        if (t >= deadline) {
            if (!sending) { /* the drain timed out: what is still in flight failed */
                for (long i = 0; i < conns; i++)
                    if (pool[i].fd >= 0) {
                        bad++;
                        drop(&pool[i]);
                    }
                break;
            }
            sending = 0;
            deadline = t + drain;
        }
        int n = epoll_wait(epfd, events, conns, 200);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait failed");
        }
        for (int e = 0; e < n; e++) {
            struct conn *c = events[e].data.ptr;
            if (c->fd < 0) continue;
            if (events[e].events & EPOLLOUT) { /* connected (or failed to), or the rest of a request */
                int s = send_request(c);
                if (s < 0) failed(c, conns);
                else if (s > 0) watch(c, EPOLL_CTL_MOD, EPOLLIN);
                continue;
            }
            ssize_t got = recv(c->fd, c->buf + c->have, BUF_SIZE - c->have, 0);
            if (got < 0 && errno == EAGAIN) continue;
            if (got <= 0) { /* closed or reset before a whole answer */
                failed(c, conns);
                continue;
            }
            c->have += got;
            int close_after;
            if (!answer(c, &close_after)) continue;
            long next = c->j + conns;
            if (close_after || !sending) {
                drop(c);
                if (sending) connect_next(c, next);
                continue;
            }
            c->j = next; /* keep-alive: the next request on the same connection */
            c->sent = c->have = 0;
            int s = send_request(c);
            if (s < 0) failed(c, conns);
            else if (s == 0) watch(c, EPOLL_CTL_MOD, EPOLLOUT);
        }
    }
    double wall = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("{\"ok\": %ld, \"bad\": %ld, \"opened\": %ld, \"seconds\": %.6f, \"cpu\": %.6f}\n", ok, bad, opened, wall,
           cpu);
    return 0;
}
