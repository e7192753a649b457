#include "ipc.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

ssize_t ipc_payload_len(uint16_t type)
{
	switch (type) {
	case IPC_W_UP:
	case IPC_W_CHECK:
		return sizeof(struct ipc_up);
	case IPC_P_CHECKED:
		return sizeof(struct ipc_verdict);
	case IPC_W_FAILED:
	case IPC_W_NEED_TIC:
		return sizeof(struct ipc_failed);
	case IPC_W_COUNTERS:
		return sizeof(struct tunnel_counters);
	case IPC_P_COUNTERS_REQ:
	case IPC_P_ROUTED:
		return 0;
	case IPC_P_CONF:
		return sizeof(struct ipc_conf);
	case IPC_P_FETCH:
		return sizeof(struct ipc_fetch);
	case IPC_F_RESULT:
		return sizeof(struct ipc_fetch_result);
	case IPC_F_DONE:
		return sizeof(struct ipc_fetch_done);
	case IPC_C_SECCOMP:
		return sizeof(struct ipc_seccomp);
	case IPC_W_PRIV:
		return sizeof(struct ipc_priv_req);
	case IPC_P_PRIV:
		return sizeof(struct ipc_priv_res);
	case IPC_P_REPAIR:
		return sizeof(struct ipc_repair);
	case IPC_W_REPAIRED:
		return sizeof(struct ipc_repaired);
	case IPC_P_UPDATE:
		return sizeof(struct ipc_update);
	case IPC_U_RESULT:
		return sizeof(struct ipc_update_result);
	default:
		return -1;
	}
}

const struct ipc_route *ipc_route_find(const struct ipc_route *tab, size_t n, int type,
                                       unsigned state, int *why)
{
	for (size_t i = 0; i < n; i++) {
		if (tab[i].type != type)
			continue;
		if (state < 32 && (tab[i].states & IPC_IN(state))) {
			*why = 0;
			return &tab[i];
		}
		*why = -EPERM;
		return NULL;
	}
	*why = -EPROTO;
	return NULL;
}

void ipc_text(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i;

	for (i = 0; i < srclen && i + 1 < dstlen && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

const char *ipc_type_name(int type)
{
	static const char *const names[IPC_TYPE_MAX] = {
	    [IPC_W_UP] = "IPC_W_UP",
	    [IPC_W_FAILED] = "IPC_W_FAILED",
	    [IPC_W_COUNTERS] = "IPC_W_COUNTERS",
	    [IPC_P_COUNTERS_REQ] = "IPC_P_COUNTERS_REQ",
	    [IPC_P_CONF] = "IPC_P_CONF",
	    [IPC_P_FETCH] = "IPC_P_FETCH",
	    [IPC_F_RESULT] = "IPC_F_RESULT",
	    [IPC_F_DONE] = "IPC_F_DONE",
	    [IPC_W_NEED_TIC] = "IPC_W_NEED_TIC",
	    [IPC_C_SECCOMP] = "IPC_C_SECCOMP",
	    [IPC_W_PRIV] = "IPC_W_PRIV",
	    [IPC_P_PRIV] = "IPC_P_PRIV",
	    [IPC_P_REPAIR] = "IPC_P_REPAIR",
	    [IPC_W_REPAIRED] = "IPC_W_REPAIRED",
	    [IPC_W_CHECK] = "IPC_W_CHECK",
	    [IPC_P_CHECKED] = "IPC_P_CHECKED",
	    [IPC_P_ROUTED] = "IPC_P_ROUTED",
	    [IPC_P_UPDATE] = "IPC_P_UPDATE",
	    [IPC_U_RESULT] = "IPC_U_RESULT",
	};

	return type > 0 && type < IPC_TYPE_MAX && names[type] ? names[type] : "unknown";
}

int ipc_send(int fd, uint16_t type, const void *payload, size_t len)
{
	unsigned char buf[IPC_MSG_MAX];
	struct ipc_hdr h = {.type = type, .len = (uint16_t)len};

	if (len + sizeof(h) > sizeof(buf) || ipc_payload_len(type) != (ssize_t)len)
		return -EINVAL;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	if (send(fd, buf, sizeof(h) + len, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int ipc_parse(const void *buf, size_t n, const void **payload)
{
	struct ipc_hdr h;

	if (n < sizeof(h))
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (h.type == 0 || ipc_payload_len(h.type) != (ssize_t)h.len || n != sizeof(h) + h.len)
		return -EBADMSG;
	*payload = (const unsigned char *)buf + sizeof(h);
	return h.type;
}

int ipc_recv(int fd, void *buf, size_t buflen, const void **payload)
{
	ssize_t n = recv(fd, buf, buflen, MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	/* MSG_TRUNC: n is the datagram's real length, larger than buflen when cut. */
	if ((size_t)n > buflen)
		return -EBADMSG;
	return ipc_parse(buf, (size_t)n, payload);
}

int ipc_recv_wait(int fd, uint16_t want, void *out, size_t len, int timeout_ms)
{
	unsigned char buf[IPC_MSG_MAX];
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	const void *payload;
	int n = poll(&pfd, 1, timeout_ms), type;

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	type = ipc_recv(fd, buf, sizeof(buf), &payload);
	if (type == want && ipc_payload_len(want) == (ssize_t)len)
		memcpy(out, payload, len);
	else if (type == want)
		type = -EINVAL;
	explicit_bzero(buf, sizeof(buf));
	return type;
}

const char *ipc_priv_op_name(uint32_t op)
{
	switch (op) {
	case IPC_PRIV_SIT_LOCAL:
		return "move the sit link's local address";
	case IPC_PRIV_REPAIR:
		return "repair the link";
	default:
		return "unknown request";
	}
}
