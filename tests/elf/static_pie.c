// SPDX-License-Identifier: Apache-2.0
/* A static-PIE program: ET_DYN without PT_INTERP, relocated by its own startup code. */
int main(void) { return 0; }
