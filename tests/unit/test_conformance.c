/*
 * Conformance against packets captured from the real historic programs
 * (tests/data/conformance, the repository's copies of ../shared/conformance;
 * tests/check-conformance-copies.sh keeps them identical): the AYIYA codec
 * verifies every datagram the real PoP (sixxsd) and the real client (AICCU)
 * signed, the heartbeat verifier accepts every beat AICCU sent, with "now"
 * taken from each packet's capture time, and what we send looks like what
 * the real client sent (start-up bursts, "sender", byte-identical beats).
 *
 * The classic libpcap reader lives here on purpose: the captures are facts
 * the test reads as they are, with no library between them and the codec.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ayiya.h"
#include "beat.h"
#include "heartbeat.h"

/* ---- classic libpcap ---- */

#define PCAP_MAGIC_US    0xa1b2c3d4u /* microsecond timestamps */
#define PCAP_GLOBAL_LEN  24
#define PCAP_RECORD_LEN  16
#define PCAP_LINK_ETHER  1
#define ETH_HDR_LEN      14
#define ETHERTYPE_IPV4   0x0800
#define IP_PROTO_UDP     17
#define IP_PROTO_IPV6    41
#define CONFORMANCE_MAX  (1u << 20) /* the captures are a few KiB */
#define CONFORMANCE_PKTS 256

struct pcap {
	uint8_t *data;
	size_t len;
	bool swapped; /* written on a host of the other byte order */
	uint32_t snaplen;
};

/* One captured IPv4 frame, decoded down to its UDP or proto-41 payload. */
struct frame {
	uint32_t ts_sec, ts_usec;
	struct in_addr src, dst;
	uint8_t proto;
	bool df;
	uint16_t sport, dport, udp_csum; /* UDP only */
	uint8_t *payload;                /* into the pcap buffer (AYIYA verification writes it) */
	size_t payload_len;
};

static uint32_t rd32(const struct pcap *p, const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return p->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static const char *data_dir(void)
{
	const char *d = getenv("AICCUD_TEST_DATA");

	if (!d)
		fail_msg("AICCUD_TEST_DATA is not set (ctest sets it to tests/data)");
	return d;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return -errno;
	buf = malloc(CONFORMANCE_MAX);
	assert_non_null(buf);
	n = fread(buf, 1, CONFORMANCE_MAX, f);
	fclose(f);
	if (n == CONFORMANCE_MAX) {
		free(buf);
		return -EFBIG;
	}
	*out = buf;
	*len = n;
	return 0;
}

static void pcap_open(struct pcap *p, const char *name)
{
	char path[512];
	uint32_t magic;
	int err;

	snprintf(path, sizeof(path), "%s/conformance/%s", data_dir(), name);
	err = read_file(path, &p->data, &p->len);
	if (err)
		fail_msg("%s: %s", path, strerror(-err));
	if (p->len < PCAP_GLOBAL_LEN)
		fail_msg("%s: shorter than a pcap header", path);
	memcpy(&magic, p->data, 4);
	p->swapped = magic == __builtin_bswap32(PCAP_MAGIC_US);
	if (magic != PCAP_MAGIC_US && !p->swapped)
		fail_msg("%s: not a classic microsecond pcap (magic %08x)", path, magic);
	/* version 2.4, then thiszone, sigfigs, snaplen, network */
	if ((rd32(p, p->data + 4) & 0xffff) != 2 && (rd32(p, p->data + 4) >> 16) != 2)
		fail_msg("%s: not pcap version 2.x", path);
	p->snaplen = rd32(p, p->data + 16);
	if (rd32(p, p->data + 20) != PCAP_LINK_ETHER)
		fail_msg("%s: link type %u, expected Ethernet", path, rd32(p, p->data + 20));
}

/* Decode Ethernet / IPv4 / (UDP | proto 41).  0, or -1 for anything else. */
static int frame_decode(uint8_t *b, size_t len, struct frame *f)
{
	size_t ihl, total;

	if (len < ETH_HDR_LEN + 20 || be16(b + 12) != ETHERTYPE_IPV4)
		return -1;
	b += ETH_HDR_LEN;
	len -= ETH_HDR_LEN;
	ihl = (size_t)(b[0] & 0x0f) * 4;
	total = be16(b + 2);
	if ((b[0] >> 4) != 4 || ihl < 20 || total < ihl || total > len)
		return -1;
	/* No fragments in these captures; a fragment would not verify alone. */
	if ((be16(b + 6) & 0x3fff) != 0)
		fail_msg("a fragmented IPv4 frame: the reader does not reassemble");
	f->df = (be16(b + 6) & 0x4000) != 0;
	f->proto = b[9];
	memcpy(&f->src, b + 12, 4);
	memcpy(&f->dst, b + 16, 4);
	b += ihl;
	len = total - ihl;
	if (f->proto == IP_PROTO_IPV6) {
		f->sport = f->dport = f->udp_csum = 0;
		f->payload = b;
		f->payload_len = len;
		return 0;
	}
	if (f->proto != IP_PROTO_UDP || len < 8 || be16(b + 4) < 8 || be16(b + 4) > len)
		return -1;
	f->sport = be16(b);
	f->dport = be16(b + 2);
	f->udp_csum = be16(b + 6);
	f->payload = b + 8;
	f->payload_len = be16(b + 4) - 8u;
	return 0;
}

/* Every frame of the capture, in order; fails the test on a malformed record. */
static size_t pcap_frames(struct pcap *p, struct frame *out, size_t max)
{
	size_t off = PCAP_GLOBAL_LEN, n = 0;

	while (off < p->len) {
		uint32_t incl;

		if (p->len - off < PCAP_RECORD_LEN)
			fail_msg("truncated record header at byte %zu", off);
		incl = rd32(p, p->data + off + 8);
		if (incl > p->snaplen || incl > p->len - off - PCAP_RECORD_LEN)
			fail_msg("record at byte %zu: %u bytes do not fit", off, incl);
		if (n == max)
			fail_msg("more than %zu frames", max);
		out[n].ts_sec = rd32(p, p->data + off);
		out[n].ts_usec = rd32(p, p->data + off + 4);
		if (out[n].ts_usec >= 1000000)
			fail_msg("record at byte %zu: %u microseconds", off, out[n].ts_usec);
		if (frame_decode(p->data + off + PCAP_RECORD_LEN, incl, &out[n]) == 0)
			n++;
		else
			fail_msg("frame %zu is not IPv4 UDP or proto-41", n + 1);
		off += PCAP_RECORD_LEN + incl;
	}
	return n;
}

static double frame_time(const struct frame *f)
{
	return f->ts_sec + f->ts_usec / 1e6;
}

static struct in_addr a4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct in6_addr a6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* ---- AYIYA ---- */

struct ayiya_tunnel {
	const char *password;
	struct in6_addr client, pop;
};

/*
 * Verify every AYIYA datagram sent from `from` the way its receiver does:
 * our identity check (the sender's tunnel address, all 128 bits as the
 * data path checks), the clock at the capture time, the signature, the
 * payload.  Returns how many were verified; *noops collects the no-ops.
 */
static size_t ayiya_verify_all(struct frame *fr, size_t n, struct in_addr from,
                               const struct ayiya_tunnel *t, bool from_pop, size_t *noops)
{
	struct ayiya *a = ayiya_new(t->password);
	size_t ok = 0;

	assert_non_null(a);
	*noops = 0;
	for (size_t i = 0; i < n; i++) {
		struct ayiya_view v;
		enum ayiya_verdict r;

		if (fr[i].proto != IP_PROTO_UDP || fr[i].src.s_addr != from.s_addr)
			continue;
		assert_int_equal(from_pop ? fr[i].sport : fr[i].dport, AYIYA_PORT);
		r = ayiya_open(a, fr[i].payload, fr[i].payload_len, from_pop ? &t->pop : &t->client,
		               128, fr[i].ts_sec, &v);
		if (r != AYIYA_OK)
			fail_msg("frame %zu (%s, %zu bytes at %u.%06u) rejected: %s", i + 1,
			         from_pop ? "PoP" : "client", fr[i].payload_len, fr[i].ts_sec,
			         fr[i].ts_usec, ayiya_verdict_name(r));
		if (v.opcode == AYIYA_OP_NOOP) {
			assert_int_equal(v.next_header, AYIYA_NH_NONE);
			assert_int_equal(v.payload_len, 0);
			(*noops)++;
		} else {
			assert_int_equal(v.opcode, AYIYA_OP_FORWARD);
			assert_int_equal(v.next_header, AYIYA_NH_IPV6);
		}
		ok++;
	}
	ayiya_free(a);
	return ok;
}

/* The real PoP's datagrams, verified as our client verifies them. */
static void test_sixxsd_ayiya(void **state)
{
	struct ayiya_tunnel t = {"a1b2c3d4e5f60718293a4b5c6d7e8f90", a6("2001:db8:2ff:1::2"),
	                         a6("2001:db8:2ff:1::1")};
	static struct frame fr[CONFORMANCE_PKTS];
	struct pcap p;
	size_t n, ok, noops;

	(void)state;
	pcap_open(&p, "sixxsd-ayiya.pcap");
	n = pcap_frames(&p, fr, CONFORMANCE_PKTS);
	ok = ayiya_verify_all(fr, n, a4("192.0.2.1"), &t, true, &noops);
	assert_true(ok > 0);
	assert_int_equal(ok, n); /* every frame of this capture is the PoP's */
	/* PROTOCOLS.md 7: the PoP's datagrams carry UDP checksum 0 and DF: accept them */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(fr[i].udp_csum, 0);
		assert_true(fr[i].df);
	}
	free(p.data);
}

/* The real client's datagrams, verified as the PoP (and our simulator) does. */
static void test_aiccu_ayiya(void **state)
{
	struct ayiya_tunnel t = {"tunnel-secret-1", a6("2001:db8:1::2"), a6("2001:db8:1::1")};
	static struct frame fr[CONFORMANCE_PKTS];
	struct pcap p;
	size_t n, from_client, from_pop, noops, pop_noops;

	(void)state;
	pcap_open(&p, "aiccu-ayiya.pcap");
	n = pcap_frames(&p, fr, CONFORMANCE_PKTS);
	from_client = ayiya_verify_all(fr, n, a4("192.0.2.2"), &t, false, &noops);
	/* The PoP end of this capture answered too: our client must accept that as well. */
	from_pop = ayiya_verify_all(fr, n, a4("192.0.2.1"), &t, true, &pop_noops);
	assert_true(from_client > 0);
	assert_true(from_pop > 0);
	assert_int_equal(from_client + from_pop, n);
	assert_true(noops >= BEAT_STARTUP_AYIYA + 1);
	free(p.data);
}

/* The no-op beats AICCU sent, in order: where and when. */
static size_t noop_times(struct frame *fr, size_t n, double *t, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < max; i++)
		if (fr[i].src.s_addr == a4("192.0.2.2").s_addr &&
		    fr[i].payload_len == AYIYA_HDR_LEN &&
		    (fr[i].payload[2] & 0x0f) == AYIYA_OP_NOOP)
			t[k++] = frame_time(&fr[i]);
	return k;
}

/*
 * README/PROTOCOLS.md 7.1: AICCU sends 3 no-op beats back to back when an
 * AYIYA tunnel starts, then one per interval (60 s in this capture); our
 * start-up burst is the same size, and our no-op is byte-identical to one
 * of AICCU's when sealed at the same second.
 */
static void test_aiccu_ayiya_startup(void **state)
{
	static struct frame fr[CONFORMANCE_PKTS];
	struct in6_addr client = a6("2001:db8:1::2");
	struct ayiya *a = ayiya_new("tunnel-secret-1");
	uint8_t ours[AYIYA_HDR_LEN];
	double t[16];
	struct pcap p;
	size_t n, k, same = 0;

	(void)state;
	assert_non_null(a);
	pcap_open(&p, "aiccu-ayiya.pcap");
	n = pcap_frames(&p, fr, CONFORMANCE_PKTS);
	k = noop_times(fr, n, t, 16);
	assert_true(k >= 4);
	/* the burst: 3 within a few milliseconds */
	assert_true(t[2] - t[0] < 0.1);
	/* then nothing until the interval: the 4th is one interval later */
	assert_true(t[3] - t[2] > 55 && t[3] - t[2] < 65);
	assert_int_equal(BEAT_STARTUP_AYIYA, 3);
	assert_int_equal(beat_startup_count(TUNNEL_AYIYA), 3);
	for (size_t i = 0; i < n; i++) {
		if (fr[i].src.s_addr != a4("192.0.2.2").s_addr ||
		    fr[i].payload_len != AYIYA_HDR_LEN)
			continue;
		uint32_t epoch = (uint32_t)fr[i].payload[4] << 24 |
		                 (uint32_t)fr[i].payload[5] << 16 |
		                 (uint32_t)fr[i].payload[6] << 8 | fr[i].payload[7];

		assert_int_equal(
		    ayiya_seal(a, ours, 0, AYIYA_OP_NOOP, AYIYA_NH_NONE, &client, epoch),
		    AYIYA_HDR_LEN);
		assert_memory_equal(ours, fr[i].payload, AYIYA_HDR_LEN);
		same++;
	}
	assert_int_equal(same, k);
	ayiya_free(a);
	free(p.data);
}

/* ---- heartbeat ---- */

/*
 * Every heartbeat AICCU sent verifies at the PoP's side of our code, with
 * the datagram's source and the capture time; each says "sender"; the
 * first two are identical and sent back to back from fresh source ports;
 * the next one is an interval later; ours is byte-identical at the same
 * second.
 */
static void test_aiccu_heartbeat(void **state)
{
	static struct frame fr[CONFORMANCE_PKTS];
	struct in6_addr client = a6("2001:db8:2::2");
	struct in_addr aiccu = a4("192.0.2.2");
	struct frame *beats[16];
	size_t n, k = 0, p41 = 0;
	struct pcap p;
	char ours[HEARTBEAT_MAX_LEN + 1];

	(void)state;
	pcap_open(&p, "aiccu-heartbeat.pcap");
	n = pcap_frames(&p, fr, CONFORMANCE_PKTS);
	for (size_t i = 0; i < n; i++) {
		struct heartbeat_view v;
		enum heartbeat_verdict r;

		if (fr[i].proto == IP_PROTO_IPV6) {
			/* proto-41: an IPv6 packet right after the IPv4 header */
			assert_true(fr[i].payload_len >= 40);
			assert_int_equal(fr[i].payload[0] >> 4, 6);
			p41++;
			continue;
		}
		assert_int_equal(fr[i].dport, TUNNEL_HEARTBEAT_PORT);
		assert_true(fr[i].payload_len < 256);
		r = heartbeat_verify((const char *)fr[i].payload, fr[i].payload_len, &fr[i].src,
		                     "tunnel-secret-2", &client, fr[i].ts_sec, &v);
		if (r != HEARTBEAT_OK)
			fail_msg("heartbeat in frame %zu rejected: %s", i + 1,
			         heartbeat_verdict_name(r));
		assert_true(v.sender);
		assert_int_equal(v.ipv4.s_addr, aiccu.s_addr);
		assert_true(k < 16);
		beats[k++] = &fr[i];
		/* ours, "sender" at the same second, is the same datagram */
		assert_int_equal(
		    heartbeat_format(ours, sizeof(ours), &client, NULL, v.epoch, "tunnel-secret-2"),
		    (int)fr[i].payload_len);
		assert_memory_equal(ours, fr[i].payload, fr[i].payload_len);
	}
	assert_true(p41 > 0);
	assert_true(k >= 3);
	assert_int_equal(beat_startup_count(TUNNEL_6IN4_HEARTBEAT), 2);
	/* the start-up pair: identical text, back to back, each from its own port */
	assert_int_equal(beats[0]->payload_len, beats[1]->payload_len);
	assert_memory_equal(beats[0]->payload, beats[1]->payload, beats[0]->payload_len);
	assert_true(frame_time(beats[1]) - frame_time(beats[0]) < 0.1);
	assert_int_not_equal(beats[0]->sport, beats[1]->sport);
	/* then one per interval (60 s here) */
	assert_true(frame_time(beats[2]) - frame_time(beats[1]) > 55);
	assert_true(frame_time(beats[2]) - frame_time(beats[1]) < 65);
	free(p.data);
}

/* The verifier is not a rubber stamp: a flipped bit or a wrong clock is refused. */
static void test_captures_refused_when_altered(void **state)
{
	static struct frame fr[CONFORMANCE_PKTS];
	struct ayiya_tunnel t = {"a1b2c3d4e5f60718293a4b5c6d7e8f90", a6("2001:db8:2ff:1::2"),
	                         a6("2001:db8:2ff:1::1")};
	struct ayiya *a = ayiya_new(t.password);
	struct ayiya_view v;
	struct pcap p;
	size_t n;

	(void)state;
	assert_non_null(a);
	pcap_open(&p, "sixxsd-ayiya.pcap");
	n = pcap_frames(&p, fr, CONFORMANCE_PKTS);
	assert_true(n > 0);
	assert_int_equal(ayiya_open(a, fr[0].payload, fr[0].payload_len, &t.pop, 128,
	                            fr[0].ts_sec + AYIYA_MAX_SKEW + 1, &v),
	                 AYIYA_ERR_CLOCK);
	fr[0].payload[fr[0].payload_len - 1] ^= 1;
	assert_int_equal(
	    ayiya_open(a, fr[0].payload, fr[0].payload_len, &t.pop, 128, fr[0].ts_sec, &v),
	    AYIYA_ERR_SIGNATURE);
	ayiya_free(a);
	free(p.data);

	struct heartbeat_view hv;
	struct in6_addr client = a6("2001:db8:2::2");

	pcap_open(&p, "aiccu-heartbeat.pcap");
	n = pcap_frames(&p, fr, CONFORMANCE_PKTS);
	assert_int_equal(fr[0].proto, IP_PROTO_UDP);
	assert_int_equal(heartbeat_verify((const char *)fr[0].payload, fr[0].payload_len,
	                                  &fr[0].src, "tunnel-secret-1", &client, fr[0].ts_sec,
	                                  &hv),
	                 HEARTBEAT_ERR_HASH);
	assert_int_equal(heartbeat_verify((const char *)fr[0].payload, fr[0].payload_len,
	                                  &fr[0].src, "tunnel-secret-2", &client,
	                                  fr[0].ts_sec + HEARTBEAT_MAX_SKEW + 1, &hv),
	                 HEARTBEAT_ERR_CLOCK);
	free(p.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sixxsd_ayiya),
	    cmocka_unit_test(test_aiccu_ayiya),
	    cmocka_unit_test(test_aiccu_ayiya_startup),
	    cmocka_unit_test(test_aiccu_heartbeat),
	    cmocka_unit_test(test_captures_refused_when_altered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
