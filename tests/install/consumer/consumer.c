// SPDX-License-Identifier: Apache-2.0
/* A C program outside the tree: spawns /bin/true through the installed
 * library, with every public C header included. Built with the compiler's
 * default C standard. */
#include <capspawn/job.h>
#include <capspawn/processargs.h>
#include <capspawn/spawn.h>
#include <capspawn/start.h>
#include <capspawn/startup.h>
#include <capspawn/status.h>
#include <capspawn/version.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  const char* argv[] = {"true", NULL};
  int process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t st =
      capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, "/bin/true", argv, NULL, 0, NULL, &process, err);
  if (st != CAPSPAWN_OK) {
    fprintf(stderr, "spawn: %s: %s\n", capspawn_status_string(st), err);
    return 1;
  }
  int64_t rc = -1;
  st = capspawn_process_wait(process, -1, &rc);
  char name[32];
  capspawn_startup_handle_name(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 1), name, sizeof name);
  printf("c consumer %s: %s rc=%lld %s\n", CAPSPAWN_VERSION_STRING, capspawn_status_string(st),
         (long long)rc, name);
  return st == CAPSPAWN_OK && rc == 0 && strcmp(name, "user0.1") == 0 ? 0 : 1;
}
