// SPDX-License-Identifier: Apache-2.0
/* pb_target: the program the process builder tests build, built three ways
 * (static, static-PIE, dynamic) and never instrumented. What it does is
 * chosen by argv[1]:
 *   (none)               exit 0
 *   marker FD TEXT       write TEXT to fd FD, exit 0 (shows whether it ran)
 *   recurse BYTES        use BYTES of main-thread stack in 4 KiB frames, exit 0
 *                        (SIGSEGV when the stack cannot grow that far)
 *   exists PATH          exit 0 if PATH exists, 1 if not
 *   create PATH          create PATH; exit 0, or the errno
 *   sleep                block until killed */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Not static: stays a distinct frame per call (the addition after the call
 * forbids a tail call, the volatile array keeps the frame's size). */
int Recurse(unsigned long frames_left) {
  volatile char frame[4096];
  frame[0] = (char)frames_left;
  frame[sizeof frame - 1] = frame[0];
  if (frames_left == 0) return frame[0];
  return Recurse(frames_left - 1) + frame[sizeof frame - 1];
}

int main(int argc, char** argv) {
  if (argc < 2) return 0;
  const char* mode = argv[1];
  if (strcmp(mode, "marker") == 0 && argc >= 4) {
    size_t n = strlen(argv[3]);
    return write(atoi(argv[2]), argv[3], n) == (ssize_t)n ? 0 : 2;
  }
  if (strcmp(mode, "recurse") == 0 && argc >= 3) {
    unsigned long frames = strtoul(argv[2], NULL, 10) / 4096;
    return Recurse(frames) == 12345 ? 3 : 0;
  }
  if (strcmp(mode, "exists") == 0 && argc >= 3) {
    struct stat st;
    return stat(argv[2], &st) == 0 ? 0 : 1;
  }
  if (strcmp(mode, "create") == 0 && argc >= 3) {
    int fd = open(argv[2], O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    close(fd);
    return 0;
  }
  if (strcmp(mode, "sleep") == 0) {
    for (;;) pause();
  }
  return 100;
}
