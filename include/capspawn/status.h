// SPDX-License-Identifier: Apache-2.0
// Status codes: the names and numeric values of Fuchsia's zx_status_t.
#ifndef CAPSPAWN_STATUS_H_
#define CAPSPAWN_STATUS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t capspawn_status_t;

#define CAPSPAWN_OK ((capspawn_status_t)0)
#define CAPSPAWN_ERR_INTERNAL ((capspawn_status_t)-1)
#define CAPSPAWN_ERR_NOT_SUPPORTED ((capspawn_status_t)-2)
#define CAPSPAWN_ERR_NO_RESOURCES ((capspawn_status_t)-3)
#define CAPSPAWN_ERR_NO_MEMORY ((capspawn_status_t)-4)
#define CAPSPAWN_ERR_INTERNAL_INTR_RETRY ((capspawn_status_t)-6)
#define CAPSPAWN_ERR_INVALID_ARGS ((capspawn_status_t)-10)
#define CAPSPAWN_ERR_BAD_HANDLE ((capspawn_status_t)-11)
#define CAPSPAWN_ERR_WRONG_TYPE ((capspawn_status_t)-12)
#define CAPSPAWN_ERR_BAD_SYSCALL ((capspawn_status_t)-13)
#define CAPSPAWN_ERR_OUT_OF_RANGE ((capspawn_status_t)-14)
#define CAPSPAWN_ERR_BUFFER_TOO_SMALL ((capspawn_status_t)-15)
#define CAPSPAWN_ERR_BAD_STATE ((capspawn_status_t)-20)
#define CAPSPAWN_ERR_TIMED_OUT ((capspawn_status_t)-21)
#define CAPSPAWN_ERR_SHOULD_WAIT ((capspawn_status_t)-22)
#define CAPSPAWN_ERR_CANCELED ((capspawn_status_t)-23)
#define CAPSPAWN_ERR_PEER_CLOSED ((capspawn_status_t)-24)
#define CAPSPAWN_ERR_NOT_FOUND ((capspawn_status_t)-25)
#define CAPSPAWN_ERR_ALREADY_EXISTS ((capspawn_status_t)-26)
#define CAPSPAWN_ERR_ALREADY_BOUND ((capspawn_status_t)-27)
#define CAPSPAWN_ERR_UNAVAILABLE ((capspawn_status_t)-28)
#define CAPSPAWN_ERR_ACCESS_DENIED ((capspawn_status_t)-30)
#define CAPSPAWN_ERR_IO ((capspawn_status_t)-40)
#define CAPSPAWN_ERR_IO_REFUSED ((capspawn_status_t)-41)
#define CAPSPAWN_ERR_IO_DATA_INTEGRITY ((capspawn_status_t)-42)
#define CAPSPAWN_ERR_IO_DATA_LOSS ((capspawn_status_t)-43)
#define CAPSPAWN_ERR_IO_NOT_PRESENT ((capspawn_status_t)-44)
#define CAPSPAWN_ERR_IO_OVERRUN ((capspawn_status_t)-45)
#define CAPSPAWN_ERR_IO_MISSED_DEADLINE ((capspawn_status_t)-46)
#define CAPSPAWN_ERR_IO_INVALID ((capspawn_status_t)-47)
#define CAPSPAWN_ERR_BAD_PATH ((capspawn_status_t)-50)
#define CAPSPAWN_ERR_NOT_DIR ((capspawn_status_t)-51)
#define CAPSPAWN_ERR_NOT_FILE ((capspawn_status_t)-52)
#define CAPSPAWN_ERR_FILE_BIG ((capspawn_status_t)-53)
#define CAPSPAWN_ERR_NO_SPACE ((capspawn_status_t)-54)
#define CAPSPAWN_ERR_NOT_EMPTY ((capspawn_status_t)-55)
#define CAPSPAWN_ERR_STOP ((capspawn_status_t)-60)
#define CAPSPAWN_ERR_NEXT ((capspawn_status_t)-61)
#define CAPSPAWN_ERR_ASYNC ((capspawn_status_t)-62)
#define CAPSPAWN_ERR_PROTOCOL_NOT_SUPPORTED ((capspawn_status_t)-70)
#define CAPSPAWN_ERR_ADDRESS_UNREACHABLE ((capspawn_status_t)-71)
#define CAPSPAWN_ERR_ADDRESS_IN_USE ((capspawn_status_t)-72)
#define CAPSPAWN_ERR_NOT_CONNECTED ((capspawn_status_t)-73)
#define CAPSPAWN_ERR_CONNECTION_REFUSED ((capspawn_status_t)-74)
#define CAPSPAWN_ERR_CONNECTION_RESET ((capspawn_status_t)-75)
#define CAPSPAWN_ERR_CONNECTION_ABORTED ((capspawn_status_t)-76)

// The status's name ("CAPSPAWN_ERR_NOT_FOUND"); "(UNKNOWN)" for values with no name.
const char* capspawn_status_string(capspawn_status_t status);

// Maps an errno value onto the closest status (ENOENT -> NOT_FOUND, EACCES -> ACCESS_DENIED...).
capspawn_status_t capspawn_status_from_errno(int err);

#ifdef __cplusplus
}
#endif

#endif  // CAPSPAWN_STATUS_H_
