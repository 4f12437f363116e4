// SPDX-License-Identifier: Apache-2.0
// named_child: takes startup handles through <capspawn/startup.h>, the way a
// program handed named handles would, and prints what it got:
//   named_child name:http id:f0 name:http ...
// prints one line per argument: "name:http fd=3" or "id:f0 fd=-1".
#include <capspawn/startup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    int fd = -1;
    if (strncmp(argv[i], "name:", 5) == 0) {
      fd = capspawn_take_startup_handle_by_name(argv[i] + 5);
    } else if (strncmp(argv[i], "id:", 3) == 0) {
      fd = capspawn_take_startup_handle((uint32_t)strtoul(argv[i] + 3, NULL, 16));
    }
    printf("%s fd=%d\n", argv[i], fd);
  }
  const char* names = getenv("LISTEN_FDNAMES");
  const char* ids = getenv("CAPSPAWN_STARTUP_IDS");
  printf("LISTEN_FDNAMES=%s\nCAPSPAWN_STARTUP_IDS=%s\n", names ? names : "(unset)",
         ids ? ids : "(unset)");
  return 0;
}
