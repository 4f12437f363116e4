// SPDX-License-Identifier: Apache-2.0
/* ns_probe: checks what a process sees of its filesystem. Each argument is
 * one expectation; the exit status is 0, or the 1-based index of the first
 * one that failed (details on stderr).
 *   e:PATH    PATH exists            a:PATH  PATH does not exist
 *   w:PATH    PATH can be created (and is kept)
 *   r:PATH    creating PATH fails with EROFS
 *   ls:DIR=n1,n2  DIR holds exactly these names (any order; empty: nothing)
 *   rd:PATH   PATH can be opened and one byte read from it
 *   fds:N     exactly N fds are open (0..1023)
 *   pid:N     getpid() is N */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int Listed(const char* dir, const char* want) {
  DIR* d = opendir(dir);
  if (!d) {
    fprintf(stderr, "ns_probe: opendir %s: %s\n", dir, strerror(errno));
    return 0;
  }
  int seen = 0, ok = 1;
  struct dirent* ent;
  while ((ent = readdir(d)) != NULL) {
    if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..")) continue;
    ++seen;
    size_t n = strlen(ent->d_name);
    const char* p = want;
    int found = 0;
    while (*p) {
      const char* end = strchr(p, ',');
      size_t len = end ? (size_t)(end - p) : strlen(p);
      if (len == n && !strncmp(p, ent->d_name, n)) found = 1;
      p += len + (end ? 1 : 0);
    }
    if (!found) {
      fprintf(stderr, "ns_probe: unexpected %s/%s\n", dir, ent->d_name);
      ok = 0;
    }
  }
  closedir(d);
  int wanted = *want ? 1 : 0;
  for (const char* p = want; *p; ++p) wanted += *p == ',';
  if (seen != wanted) {
    fprintf(stderr, "ns_probe: %s holds %d names, expected %d\n", dir, seen, wanted);
    ok = 0;
  }
  return ok;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    struct stat st;
    int ok;
    if (!strncmp(a, "e:", 2)) {
      ok = stat(a + 2, &st) == 0;
    } else if (!strncmp(a, "a:", 2)) {
      ok = stat(a + 2, &st) != 0 && errno == ENOENT;
    } else if (!strncmp(a, "w:", 2)) {
      int fd = open(a + 2, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      ok = fd >= 0;
      if (fd >= 0) close(fd);
    } else if (!strncmp(a, "r:", 2)) {
      int fd = open(a + 2, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      ok = fd < 0 && errno == EROFS;
      if (fd >= 0) close(fd);
    } else if (!strncmp(a, "rd:", 3)) {
      char byte;
      int fd = open(a + 3, O_RDONLY | O_CLOEXEC);
      ok = fd >= 0 && read(fd, &byte, 1) == 1;
      if (fd >= 0) close(fd);
    } else if (!strncmp(a, "fds:", 4)) {
      int n = 0;
      for (int fd = 0; fd < 1024; ++fd) n += fcntl(fd, F_GETFD) >= 0;
      ok = n == atoi(a + 4);
      if (!ok) fprintf(stderr, "ns_probe: %d fds open\n", n);
    } else if (!strncmp(a, "pid:", 4)) {
      ok = getpid() == atoi(a + 4);
    } else if (!strncmp(a, "ls:", 3)) {
      char dir[4096];
      const char* eq = strchr(a, '=');
      if (!eq || (size_t)(eq - a - 3) >= sizeof dir) return i;
      memcpy(dir, a + 3, (size_t)(eq - a - 3));
      dir[eq - a - 3] = '\0';
      ok = Listed(dir, eq + 1);
    } else {
      ok = 0;
    }
    if (!ok) {
      fprintf(stderr, "ns_probe: failed: %s (%s)\n", a, strerror(errno));
      return i;
    }
  }
  return 0;
}
