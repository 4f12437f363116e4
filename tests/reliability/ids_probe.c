// SPDX-License-Identifier: Apache-2.0
/* ids_probe: exits 42 if it runs with effective uid 0, else 7. Made
 * set-user-ID root by the privilege tests. Static: needs no loader. */
#include <unistd.h>

int main(void) { return geteuid() == 0 ? 42 : 7; }
