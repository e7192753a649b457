/*
 * LD_PRELOAD shim for Debian 12's linux.uml (6.1) on hosts whose CPUs have
 * large XSAVE features (AMX tiles: an XSAVE area of about 11 KiB).  The
 * 6.1 UML kernel writes a guest process's FPU state back with
 * PTRACE_SETREGSET NT_X86_XSTATE and its own, smaller buffer; newer host
 * kernels accept only the whole area (count == the host's size, else
 * EFAULT), so the first guest process dies ("ptrace set fp regs failed,
 * errno = 14") and the kernel panics.  Here such a write is completed to
 * the host's size: what UML gave, then the rest of the traced process's
 * current state (the features UML does not know about, untouched).
 * Test tooling only: never part of aiccud.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

#define XSTATE_MAX (64 * 1024)
static _Thread_local unsigned char whole[XSTATE_MAX] __attribute__((aligned(64)));

static ptrace_fn real_ptrace(void)
{
	static ptrace_fn fn;

	if (!fn)
		fn = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	return fn;
}

static long xstate_set(pid_t pid, struct iovec *part)
{
	struct iovec all = {.iov_base = whole, .iov_len = sizeof(whole)};
	long r = real_ptrace()(PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, part);

	if (r == 0 || errno != EFAULT)
		return r;
	if (real_ptrace()(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &all) < 0)
		return -1;
	if (part->iov_len >= all.iov_len) {
		errno = EFAULT;
		return -1;
	}
	memcpy(whole, part->iov_base, part->iov_len);
	return real_ptrace()(PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &all);
}

long ptrace(enum __ptrace_request request, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, request);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	if (request == PTRACE_SETREGSET && (uintptr_t)addr == NT_X86_XSTATE && data)
		return xstate_set(pid, data);
	return real_ptrace()((int)request, pid, addr, data);
}
