// SPDX-License-Identifier: Apache-2.0
/* ct_probe: prints what a process sees of itself, one "key=value" per line,
 * for the container tests. Needs nothing but the kernel (static, no /proc
 * unless an argument reads it). Arguments add lines:
 *   read:PATH   read=PATH:<first line> or read=PATH:!<errno name>
 *   write:PATH  write=PATH:ok or write=PATH:!<errno>
 *   stat:PATH   stat=PATH:dir|file|chr|lnk|other|!<errno>
 *   lstat:PATH  as stat, without following a final symlink
 *   uname       uname=ok or uname=!<errno>
 *   mount:PATH  mount=PATH:<fstype> <mount options> <super options> (the top
 *               mount at PATH, from /proc/self/mountinfo) or mount=PATH:!none
 *   sleep:N     sleeps N seconds first */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static void MountOf(const char* path) {
  FILE* f = fopen("/proc/self/mountinfo", "re");
  char line[4096], found[4096] = "";
  while (f && fgets(line, sizeof line, f)) {
    char mp[4096], opts[1024], fstype[256], src[1024], sopts[1024];
    /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
    if (sscanf(line, "%*s %*s %*s %*s %4095s %1023s", mp, opts) != 2 || strcmp(mp, path)) continue;
    char* dash = strstr(line, " - ");
    if (!dash || sscanf(dash + 3, "%255s %1023s %1023s", fstype, src, sopts) != 3) continue;
    snprintf(found, sizeof found, "%s %s %s", fstype, opts, sopts);
  }
  if (f) fclose(f);
  printf("mount=%s:%s\n", path, found[0] ? found : "!none");
}

static void Stat(const char* key, const char* path, int follow) {
  struct stat st;
  int r = follow ? stat(path, &st) : lstat(path, &st);
  if (r != 0) {
    printf("%s=%s:!%d\n", key, path, errno);
    return;
  }
  const char* t = S_ISDIR(st.st_mode)   ? "dir"
                  : S_ISREG(st.st_mode) ? "file"
                  : S_ISCHR(st.st_mode) ? "chr"
                  : S_ISLNK(st.st_mode) ? "lnk"
                                        : "other";
  printf("%s=%s:%s\n", key, path, t);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!strncmp(argv[i], "sleep:", 6)) sleep((unsigned)atoi(argv[i] + 6));
  }
  char host[256] = "";
  gethostname(host, sizeof host);
  printf("hostname=%s\n", host);
  printf("pid=%d\nppid=%d\n", getpid(), getppid());
  printf("sid=%d\npgid=%d\n", (int)getsid(0), (int)getpgid(0));
  printf("uid=%u\ngid=%u\neuid=%u\negid=%u\n", getuid(), getgid(), geteuid(), getegid());
  gid_t groups[64];
  int n = getgroups(64, groups);
  printf("groups=");
  for (int i = 0; i < n; ++i) printf("%s%u", i ? "," : "", groups[i]);
  printf("\n");
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) == 0) {
    printf(
        "cap_eff=%llx\ncap_prm=%llx\ncap_inh=%llx\n",
        (unsigned long long)data[0].effective | ((unsigned long long)data[1].effective << 32),
        (unsigned long long)data[0].permitted | ((unsigned long long)data[1].permitted << 32),
        (unsigned long long)data[0].inheritable | ((unsigned long long)data[1].inheritable << 32));
  }
  unsigned long long bnd = 0, amb = 0;
  for (int c = 0; c < 64; ++c) {
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) bnd |= 1ull << c;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) amb |= 1ull << c;
  }
  printf("cap_bnd=%llx\ncap_amb=%llx\n", bnd, amb);
  printf("nnp=%d\nseccomp=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
         prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  int sig = 0;
  prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
  printf("pdeathsig=%d\n", sig);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  printf("nofile=%llu:%llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  getrlimit(RLIMIT_NPROC, &rl);
  printf("nproc=%llu:%llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  mode_t m = umask(0);
  printf("umask=%04o\n", (unsigned)m);
  char cwd[4096];
  printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "!");
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq req;
  memset(&req, 0, sizeof req);
  strcpy(req.ifr_name, "lo");
  if (sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &req) == 0)
    printf("lo_up=%d\n", (req.ifr_flags & IFF_UP) != 0);
  if (sock >= 0) close(sock);
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!strncmp(a, "read:", 5)) {
      char buf[512] = "";
      int fd = open(a + 5, O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        printf("read=%s:!%d\n", a + 5, errno);
        continue;
      }
      ssize_t got = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (got < 0) {
        printf("read=%s:!%d\n", a + 5, errno);
        continue;
      }
      buf[got] = '\0';
      char* nl = strchr(buf, '\n');
      if (nl) *nl = '\0';
      printf("read=%s:%s\n", a + 5, buf);
    } else if (!strncmp(a, "write:", 6)) {
      int fd = open(a + 6, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
      if (fd < 0 || write(fd, "x", 1) != 1) {
        printf("write=%s:!%d\n", a + 6, errno);
      } else {
        printf("write=%s:ok\n", a + 6);
      }
      if (fd >= 0) close(fd);
    } else if (!strncmp(a, "stat:", 5)) {
      Stat("stat", a + 5, 1);
    } else if (!strncmp(a, "lstat:", 6)) {
      Stat("lstat", a + 6, 0);
    } else if (!strncmp(a, "mount:", 6)) {
      MountOf(a + 6);
    } else if (!strcmp(a, "uname")) {
      struct utsname u;
      if (uname(&u) == 0)
        printf("uname=ok\n");
      else
        printf("uname=!%d\n", errno);
    }
  }
  fflush(stdout);
  return 0;
}
