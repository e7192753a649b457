/*
 * What each fuzz target file provides.  The same file links either with
 * libFuzzer (clang, -fsanitize=fuzzer) or with smoke_main.c, a fixed-seed
 * runner that every compiler builds and ctest runs (label fuzz).
 */
#ifndef AICCUD_FUZZ_H
#define AICCUD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libFuzzer's entry point; checks its properties and aborts when one fails. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Write one well-formed input for this target into buf (at most cap bytes),
 * chosen by seed, so mutations of it get past the first checks.  Returns
 * its length.
 */
size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap);

/* A property that must hold; a failure is a finding, so crash loudly. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__,        \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Small deterministic generator for seeds and the smoke runner. */
static inline uint32_t fuzz_rand(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

#endif
