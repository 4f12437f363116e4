// SPDX-License-Identifier: Apache-2.0
// sd_child: a socket-activation style program. It reads the fds its creator
// handed it with systemd's sd_listen_fds_with_names() — the way an existing
// daemon would — and prints one line per fd, then (with --write) writes
// "<name>\n" through each one so the parent can check the fds work.
//
// Output (on stdout, or on the fd given with --report-fd N):
//   n <count or -errno>
//   fd <number> name=<name> type=<fifo|sock|reg|dir|chr|other>
//   env LISTEN_FDS=<value or (unset)>   (after the call, which leaves them set)
//   end
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static const char* TypeName(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return "closed";
  switch (st.st_mode & S_IFMT) {
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "sock";
    case S_IFREG:
      return "reg";
    case S_IFDIR:
      return "dir";
    case S_IFCHR:
      return "chr";
    default:
      return "other";
  }
}

static void PrintEnv(FILE* out, const char* name) {
  const char* v = getenv(name);
  fprintf(out, "env %s=%s\n", name, v ? v : "(unset)");
}

int main(int argc, char** argv) {
  int report_fd = 1;
  int do_write = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--report-fd") == 0 && i + 1 < argc) {
      report_fd = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--write") == 0) {
      do_write = 1;
    }
  }
  char** names = NULL;
  // unset_environment = 0: the variables stay for the report below.
  int n = sd_listen_fds_with_names(0, &names);
  FILE* out = fdopen(report_fd, "w");
  if (!out) return 120;
  fprintf(out, "n %d\n", n);
  for (int i = 0; i < n; ++i) {
    int fd = SD_LISTEN_FDS_START + i;
    fprintf(out, "fd %d name=%s type=%s\n", fd, names && names[i] ? names[i] : "(null)",
            TypeName(fd));
  }
  PrintEnv(out, "LISTEN_FDS");
  PrintEnv(out, "LISTEN_PID");
  PrintEnv(out, "LISTEN_FDNAMES");
  fprintf(out, "pid %d\n", (int)getpid());
  fprintf(out, "end\n");
  fclose(out);
  int rc = 0;
  for (int i = 0; i < n; ++i) {
    if (do_write) {
      char line[300];
      int len = snprintf(line, sizeof line, "%s\n", names && names[i] ? names[i] : "(null)");
      if (write(SD_LISTEN_FDS_START + i, line, (size_t)len) != len) rc = 2;
    }
    if (names) free(names[i]);
  }
  free(names);
  return rc;
}
