/*
 * The C floor of receiving a publisher's stream: accepts connections on 127.0.0.1:PORT and
 * reads (and discards) whatever arrives, one blocking read() per wake-up into a 64 KiB buffer.
 * bench/ingest-floor.ts builds it with `cc -O2` and measures its CPU from /proc.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tcp-sink PORT\n");
    return 2;
  }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr*)&a, sizeof a) != 0 || listen(s, 4) != 0) {
    perror("tcp-sink");
    return 1;
  }
  static char buf[65536];
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    while (read(c, buf, sizeof buf) > 0) {
    }
    close(c);
  }
}
