/*
 * libFuzzer target: the gateway's frame handler (src/gateway/gateway.c) on
 * arbitrary text frames from an unidentified client.
 *
 * Besides the sanitizers, it checks the contract of docs/gateway.md: every
 * frame is either accepted (0) or answered with one of the documented close
 * codes, never anything else, and never a crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "gateway/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int code = gateway_fuzz_frame((const char *)data, size);
	switch (code) {
	case 0:	   /* heartbeat */
	case 4001: /* unknown_op */
	case 4002: /* decode_error */
	case 4003: /* not_authenticated */
	case 4004: /* authentication_failed: no token verifies here */
	case 4008: /* rate_limited */
		return 0;
	default:
		abort();
	}
}
