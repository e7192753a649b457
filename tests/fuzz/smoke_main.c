/*
 * Fixed-seed stand-in for libFuzzer: feeds LLVMFuzzerTestOneInput random
 * bytes and mutated well-formed inputs, so every build (gcc too) runs the
 * fuzz targets' properties under ctest.
 *
 *     <target>_smoke [ITERATIONS]        run (default 20000)
 *     <target>_smoke --replay DIR [ITER] first every file of DIR (the seed
 *                                        corpus, with past findings), then run
 *     <target>_smoke --corpus DIR [N]    write N well-formed seeds for libFuzzer
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define SMOKE_MAX   2048
#define SMOKE_SEED  0x5eed1234u
#define SMOKE_ITERS 20000ul

/* Flip bits, overwrite bytes, cut or grow: what a fuzzer's mutator does. */
static size_t mutate(uint32_t *s, uint8_t *buf, size_t len, size_t cap)
{
	unsigned edits = 1 + fuzz_rand(s) % 8;

	for (unsigned i = 0; i < edits; i++) {
		uint32_t r = fuzz_rand(s);

		switch (r % 4) {
		case 0:
			if (len)
				buf[(r >> 8) % len] ^= (uint8_t)(1u << ((r >> 4) % 8));
			break;
		case 1:
			if (len)
				buf[(r >> 8) % len] = (uint8_t)fuzz_rand(s);
			break;
		case 2:
			if (len)
				len = (r >> 8) % len;
			break;
		default:
			while (len < cap && (fuzz_rand(s) % 8))
				buf[len++] = (uint8_t)fuzz_rand(s);
			break;
		}
	}
	return len;
}

/*
 * Like libFuzzer, hand over exactly len bytes, here placed so that they end
 * where a page without access begins: a read past the end faults even
 * inside libc (strtoul, sscanf), which AddressSanitizer does not watch.
 */
#define GUARDED_MAX (1u << 16)
static void run_exact(const uint8_t *buf, size_t len)
{
	static uint8_t *end;

	if (!end) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		uint8_t *map = mmap(NULL, GUARDED_MAX + page, PROT_READ | PROT_WRITE,
		                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		FUZZ_CHECK(map != MAP_FAILED);
		FUZZ_CHECK(mprotect(map + GUARDED_MAX, page, PROT_NONE) == 0);
		end = map + GUARDED_MAX;
	}
	FUZZ_CHECK(len <= GUARDED_MAX);
	memmove(end - len, buf, len);
	LLVMFuzzerTestOneInput(end - len, len);
}

static int write_corpus(const char *dir, unsigned long n)
{
	static uint8_t buf[SMOKE_MAX];
	uint32_t s = SMOKE_SEED;
	char path[4096];

	for (unsigned long i = 0; i < n; i++) {
		size_t len = fuzz_make_valid(fuzz_rand(&s), buf, sizeof(buf));
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%04lu", dir, i);
		f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	return 0;
}

/* Every regular file of dir, whole, as one input each: the count, or -1. */
static long replay(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		static uint8_t buf[GUARDED_MAX];
		char path[4096];
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			closedir(d);
			return -1;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		run_exact(buf, len);
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	static uint8_t buf[SMOKE_MAX];
	unsigned long iters = SMOKE_ITERS, kinds[3] = {0};
	uint32_t s = SMOKE_SEED;

	if (argc > 2 && strcmp(argv[1], "--corpus") == 0)
		return write_corpus(argv[2], argc > 3 ? strtoul(argv[3], NULL, 10) : 64);
	if (argc > 2 && strcmp(argv[1], "--replay") == 0) {
		long n = replay(argv[2]);

		if (n < 0)
			return 1;
		printf("%ld corpus inputs from %s: no property failed\n", n, argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc > 1)
		iters = strtoul(argv[1], NULL, 10);
	for (unsigned long i = 0; i < iters; i++) {
		size_t len;

		switch (i % 3) {
		case 0: /* noise of any length */
			len = fuzz_rand(&s) % 600;
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)fuzz_rand(&s);
			break;
		case 1: /* well-formed */
			len = fuzz_make_valid(fuzz_rand(&s), buf, sizeof(buf));
			break;
		default: /* well-formed, then damaged */
			len = fuzz_make_valid(fuzz_rand(&s), buf, sizeof(buf));
			len = mutate(&s, buf, len, sizeof(buf));
			break;
		}
		kinds[i % 3]++;
		run_exact(buf, len);
	}
	printf("%lu random, %lu well-formed, %lu mutated inputs: no property failed\n", kinds[0],
	       kinds[1], kinds[2]);
	return 0;
}
