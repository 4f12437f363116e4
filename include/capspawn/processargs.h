// SPDX-License-Identifier: Apache-2.0
// Typed startup handle ids: Fuchsia's processargs.h values under CAPSPAWN_ names,
// every type Fuchsia defines and no other (docs/startup-handles.md).
// An id is PA_HND(type, arg): the type in the low 8 bits, the argument in bits 16-31.
#ifndef CAPSPAWN_PROCESSARGS_H_
#define CAPSPAWN_PROCESSARGS_H_

#include <stdint.h>

#define CAPSPAWN_PA_HND(type, arg) (((uint32_t)(type)&0xFFu) | (((uint32_t)(arg)&0xFFFFu) << 16))
#define CAPSPAWN_PA_TYPE(id) ((uint32_t)(id)&0xFFu)
#define CAPSPAWN_PA_ARG(id) (((uint32_t)(id) >> 16) & 0xFFFFu)
// Bits 8-15 are reserved and must be zero.
#define CAPSPAWN_PA_RESERVED_MASK 0x0000FF00u

#define CAPSPAWN_PA_PROC_SELF 0x01u
#define CAPSPAWN_PA_THREAD_SELF 0x02u
#define CAPSPAWN_PA_JOB_DEFAULT 0x03u
#define CAPSPAWN_PA_VMAR_ROOT 0x04u
#define CAPSPAWN_PA_VMAR_LOADED 0x05u
#define CAPSPAWN_PA_LDSVC_LOADER 0x10u
#define CAPSPAWN_PA_VMO_VDSO 0x11u
#define CAPSPAWN_PA_VMO_STACK 0x13u
#define CAPSPAWN_PA_VMO_EXECUTABLE 0x14u
#define CAPSPAWN_PA_VMO_BOOTDATA 0x1Au
#define CAPSPAWN_PA_VMO_BOOTFS 0x1Bu
#define CAPSPAWN_PA_VMO_KERNEL_FILE 0x1Cu
#define CAPSPAWN_PA_VMO_COMPONENT_CONFIG 0x1Du
#define CAPSPAWN_PA_NS_DIR 0x20u
#define CAPSPAWN_PA_FD 0x30u
#define CAPSPAWN_PA_LIFECYCLE 0x3Au
#define CAPSPAWN_PA_DIRECTORY_REQUEST 0x3Bu
#define CAPSPAWN_PA_RESOURCE 0x3Fu
#define CAPSPAWN_PA_CLOCK_UTC 0x40u
#define CAPSPAWN_PA_MMIO_RESOURCE 0x50u
#define CAPSPAWN_PA_IRQ_RESOURCE 0x51u
#define CAPSPAWN_PA_IOPORT_RESOURCE 0x52u
#define CAPSPAWN_PA_SMC_RESOURCE 0x53u
#define CAPSPAWN_PA_SYSTEM_RESOURCE 0x54u
#define CAPSPAWN_PA_USER0 0xF0u
#define CAPSPAWN_PA_USER1 0xF1u
#define CAPSPAWN_PA_USER2 0xF2u

// With PA_FD: the fd is also used for stdio (accepted, has no further effect on Linux).
#define CAPSPAWN_FLAG_USE_FOR_STDIO 0x8000u

#endif  // CAPSPAWN_PROCESSARGS_H_
