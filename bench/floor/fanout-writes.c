/*
 * The C floor of answering N held requests at once: opens N loopback TCP connections, then, per
 * round, times the server writing one 700-byte response (the size of a blocking playlist reply)
 * to every connection, one write() each, with nothing else to do. The clients read afterwards,
 * outside the timed loop, so this is the server's share alone.
 *
 *   fanout-writes N ROUNDS   prints one line of JSON per round: {"n":N,"ms":…,"usPerWrite":…}
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: fanout-writes N ROUNDS\n");
    return 2;
  }
  const int n = atoi(argv[1]), rounds = atoi(argv[2]);
  struct rlimit rl = {(rlim_t)n * 2 + 64, (rlim_t)n * 2 + 64};
  setrlimit(RLIMIT_NOFILE, &rl);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (bind(l, (struct sockaddr*)&a, sizeof a) != 0 || listen(l, n) != 0 || getsockname(l, (struct sockaddr*)&a, &alen) != 0) {
    perror("fanout-writes: listen");
    return 1;
  }
  int* client = malloc(sizeof(int) * n);
  int* server = malloc(sizeof(int) * n);
  const int one = 1;
  for (int i = 0; i < n; i++) {
    client[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (client[i] < 0 || connect(client[i], (struct sockaddr*)&a, sizeof a) != 0 || (server[i] = accept(l, NULL, NULL)) < 0) {
      perror("fanout-writes: connect");
      return 1;
    }
    setsockopt(server[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  char reply[700], sink[4096];
  memset(reply, 'x', sizeof reply);
  for (int r = 0; r < rounds; r++) {
    const double t0 = now_ms();
    for (int i = 0; i < n; i++) {
      if (write(server[i], reply, sizeof reply) != (ssize_t)sizeof reply) {
        perror("fanout-writes: write");
        return 1;
      }
    }
    const double ms = now_ms() - t0;
    for (int i = 0; i < n; i++) {
      if (read(client[i], sink, sizeof sink) <= 0) {
        perror("fanout-writes: read");
        return 1;
      }
    }
    printf("{\"n\":%d,\"ms\":%.2f,\"usPerWrite\":%.2f}\n", n, ms, ms * 1000 / n);
  }
  return 0;
}
