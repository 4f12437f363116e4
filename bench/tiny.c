// SPDX-License-Identifier: Apache-2.0
/* The program every spawn benchmark starts: as little as a libc program can
   do, linked statically so no dynamic loader takes part. */
int main(void) { return 0; }
