/*
 * TUN offloads in user space: the virtio-net header of a TUN opened with
 * IFF_VNET_HDR, segmentation of the super-packets the kernel hands over
 * (TSO/USO: one 64 KiB TCP or UDP packet instead of ~50 small ones) and
 * coalescing of received TCP segments into super-packets for the kernel
 * (GRO).  Pure: no sockets, no globals; the coalescer hands finished
 * packets to a callback, the caller writes them.
 *
 * The header fields are in host byte order (the TUN's default on a
 * little-endian host; we never set TUNSETVNETBE).
 */
#ifndef AICCUD_OFFLOAD_H
#define AICCUD_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define OFFLOAD_VNET_LEN 10 /* sizeof(struct virtio_net_hdr) */

/* struct virtio_net_hdr's values (linux/virtio_net.h; UDP_L4 is newer than some headers). */
#define OFFLOAD_F_NEEDS_CSUM 1
#define OFFLOAD_GSO_NONE     0
#define OFFLOAD_GSO_TCPV6    4
#define OFFLOAD_GSO_UDP_L4   5
#define OFFLOAD_GSO_ECN      0x80

/* The most segments one super-packet may split into (64 KiB / 1220 is 54). */
#define OFFLOAD_SEGS_MAX 64

struct offload_vnet {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

void offload_vnet_get(const uint8_t *p, struct offload_vnet *h);
void offload_vnet_put(uint8_t *p, const struct offload_vnet *h);

/* Internet checksum: 32-bit partial sums, folded and complemented by the caller. */
uint32_t offload_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t offload_csum_fold(uint32_t sum);
/* The IPv6 pseudo header of an upper-layer packet of length len (RFC 8200 8.1). */
uint32_t offload_pseudo6(const uint8_t *ip6, uint8_t proto, uint32_t len);

/*
 * Split one packet read from the TUN (h: its virtio-net header, pkt/len:
 * the IPv6 packet after it) into IPv6 packets the wire can carry: a GSO
 * packet into ceil(payload / gso_size) segments of hdr + gso_size bytes
 * (the last one shorter), a plain one into itself.  Every segment gets
 * complete checksums.  Segment i is written at out + i * stride +
 * headroom, where stride = headroom + the full segments' length (so the
 * segments with their headroom lie back to back, as UDP_SEGMENT sends
 * them); room is the bytes available at out.
 *
 * TCP: sequence numbers advanced, PSH and FIN only on the last segment,
 * CWR only on the first, options copied.  UDP: a length and checksum per
 * datagram.
 *
 * A part at a time, for super-packets of more segments than fit (a
 * connection with a small MSS): writes segments first, first + 1, ... as
 * many as room and max_segs allow, laid out as above from out, and returns
 * how many (0 once first reaches *total, the packet's number of segments),
 * with *seg_len (full segments) and *last_len (the last written one's
 * length); -EINVAL for a malformed or unsupported packet.
 */
int offload_split_from(const struct offload_vnet *h, const uint8_t *pkt, size_t len, unsigned first,
                       uint8_t *out, size_t room, size_t headroom, unsigned max_segs,
                       size_t *seg_len, size_t *last_len, unsigned *total);

/* ---- coalescing (GRO) ---- */

#define GRO_ITEMS 16 /* flows held open at once */

/* Gets a finished packet: h (all zero for a plain one) and its data in iov. */
typedef int (*gro_emit_fn)(void *ctx, const struct offload_vnet *h, const struct iovec *iov,
                           int iovcnt);

struct gro_item {
	uint8_t *head; /* the first segment: headers and payload, modified in place */
	size_t hdr_len;
	size_t total; /* bytes of the IPv6 super-packet so far */
	uint32_t next_seq;
	uint16_t gso_size;
	bool closed; /* a PSH or a short segment ended it */
	bool psh;
	int n; /* segments: iov[0] is head, iov[1..] the others' payloads */
	struct iovec iov[OFFLOAD_SEGS_MAX];
};

struct gro {
	gro_emit_fn emit;
	void *ctx;
	int nitems;
	uint64_t merged; /* segments appended to a super-packet (statistics) */
	struct gro_item items[GRO_ITEMS];
};

void gro_init(struct gro *g, gro_emit_fn emit, void *ctx);
/*
 * Offer one received IPv6 packet (it must stay valid and writable until
 * gro_flush).  TCP segments of one flow that follow each other are held
 * and merged; anything else is emitted at once, after what is held of its
 * own flow so that a flow's order never changes.  Returns the first
 * negative value an emit returned, else 0.
 */
int gro_add(struct gro *g, uint8_t *pkt, size_t len);
/* Emit everything held (at the end of each receive batch). */
int gro_flush(struct gro *g);

#endif
