/* SPDX-License-Identifier: MIT */
/*
 * netlink.c - attaching /dev/nbdN: the generic netlink family "nbd"
 * (linux/nbd-netlink.h, drivers/block/nbd.c) through a tiny embedded
 * netlink helper, and the ioctl fallback (linux/nbd.h).
 *
 * Requests are built and replies parsed by pure functions; the I/O
 * wrappers at the end only send, receive and loop. Every reply is
 * untrusted: each message and attribute length is checked against what
 * contains it before anything is read, integer attributes must have their
 * exact size, and a message must carry our seq and port id.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "util/util.h"

/*
 * The ABI numbers, from linux/netlink.h, linux/genetlink.h,
 * linux/nbd-netlink.h and linux/nbd.h: musl ships no kernel headers, and
 * linux/nbd.h's enums clash with nbd.h's (tests/unit/test_netlink.c checks
 * the built bytes against the kernel headers where they exist).
 */
#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#define NETLINK_GENERIC 16
#define NETLINK_CAP_ACK 10
#define NETLINK_EXT_ACK 11

#define NLMSG_HDRLEN 16
#define NLM_F_REQUEST 0x01
#define NLM_F_ACK 0x04
#define NLM_F_CAPPED 0x100
#define NLM_F_ACK_TLVS 0x200
#define NLMSG_NOOP 0x1
#define NLMSG_ERROR 0x2
#define NLMSG_DONE 0x3
#define NLMSGERR_ATTR_MSG 1
#define NLA_HDRLEN 4
#define NLA_TYPE_MASK 0x3fff /* without NLA_F_NESTED, NLA_F_NET_BYTEORDER */
#define NL_ALIGN(n) (((n) + 3) & ~(size_t)3)

#define GENL_HDRLEN 4
#define GENL_ID_CTRL 0x10
#define CTRL_CMD_NEWFAMILY 1
#define CTRL_CMD_GETFAMILY 3
#define CTRL_ATTR_FAMILY_ID 1
#define CTRL_ATTR_FAMILY_NAME 2
#define CTRL_ATTR_VERSION 3
#define CTRL_VERSION 2

#define NBD_GENL_VERSION 1
#define NBD_CMD_CONNECT 1
#define NBD_CMD_DISCONNECT 2
#define NBD_CMD_RECONFIGURE 3
#define NBD_CMD_STATUS 5
#define NBD_ATTR_INDEX 1
#define NBD_ATTR_SIZE_BYTES 2
#define NBD_ATTR_BLOCK_SIZE_BYTES 3
#define NBD_ATTR_TIMEOUT 4
#define NBD_ATTR_SERVER_FLAGS 5
#define NBD_ATTR_CLIENT_FLAGS 6
#define NBD_ATTR_SOCKETS 7
#define NBD_ATTR_DEAD_CONN_TIMEOUT 8
#define NBD_ATTR_DEVICE_LIST 9
#define NBD_DEVICE_ITEM 1
#define NBD_DEVICE_INDEX 1
#define NBD_DEVICE_CONNECTED 2
#define NBD_SOCK_ITEM 1
#define NBD_SOCK_FD 1

#define NBD_SET_SOCK _IO(0xab, 0)
#define NBD_SET_BLKSIZE _IO(0xab, 1)
#define NBD_DO_IT _IO(0xab, 3)
#define NBD_CLEAR_SOCK _IO(0xab, 4)
#define NBD_SET_SIZE_BLOCKS _IO(0xab, 7)
#define NBD_DISCONNECT _IO(0xab, 8)
#define NBD_SET_TIMEOUT _IO(0xab, 9)
#define NBD_SET_FLAGS _IO(0xab, 10)

#define NBD_DEF_BLKSIZE 1024 /* what the kernel takes for block size 0 */

/* struct sockaddr_nl (linux/netlink.h) */
struct nl_addr {
	unsigned short family, pad;
	uint32_t pid, groups;
};

/* Netlink is in host byte order; memcpy keeps unaligned reads defined. */
static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* ---- building (util.h's netlink builder) ---- */

/* Starts nlmsghdr + genlmsghdr (cmd, version, reserved). */
static void genl_init(struct util_nlb *b, uint8_t *buf, size_t cap,
		      uint16_t type, uint32_t seq, uint8_t cmd, uint8_t version)
{
	const uint8_t genl[GENL_HDRLEN] = {cmd, version, 0, 0};

	util_nlb_init(b, buf, cap, type, NLM_F_REQUEST | NLM_F_ACK, seq, genl,
		      sizeof(genl));
}

/* NBD_ATTR_SOCKETS { NBD_SOCK_ITEM { NBD_SOCK_FD u32 } ... } */
static void nlb_socks(struct util_nlb *b, const int *fds, unsigned nfds)
{
	size_t list, item;
	unsigned i;

	if (!nfds)
		return;
	list = util_nlb_nest(b, NBD_ATTR_SOCKETS);
	for (i = 0; i < nfds; i++) {
		item = util_nlb_nest(b, NBD_SOCK_ITEM);
		util_nlb_u32(b, NBD_SOCK_FD, (uint32_t)fds[i]);
		util_nlb_nest_end(b, item);
	}
	util_nlb_nest_end(b, list);
}

static int check_fds(const int *fds, unsigned nfds)
{
	unsigned i;

	if (nfds > NBD_NL_MAX_SOCKS || (nfds && !fds))
		return -EINVAL;
	for (i = 0; i < nfds; i++)
		if (fds[i] < 0)
			return -EBADF;
	return 0;
}

/*
 * What the kernel would refuse with a bare EINVAL and a line in dmesg,
 * refused here with a reason: nbd_set_size() takes block sizes 512 to
 * PAGE_SIZE (64 KiB at most), powers of two; nbd_start_device() refuses
 * more than one socket unless the server has NBD_FLAG_CAN_MULTI_CONN.
 */
static int check_config(const struct nbd_nl_config *cfg, unsigned nfds)
{
	uint32_t bs = cfg->block_size;

	if (cfg->index < -1 || !cfg->size || !nfds)
		return -EINVAL;
	if (bs && (bs < 512 || bs > 65536 || (bs & (bs - 1)) || cfg->size % bs))
		return -EINVAL;
	if (cfg->client_flags & ~(uint64_t)(NBD_CFLAG_DESTROY_ON_DISCONNECT |
					    NBD_CFLAG_DISCONNECT_ON_CLOSE))
		return -EINVAL;
	if (nfds > 1 && !(cfg->server_flags & NBD_FLAG_CAN_MULTI_CONN))
		return -EINVAL;
	return 0;
}

int nbd_nl_build_getfamily(const struct nbd_nl *nl, uint8_t *buf, size_t len)
{
	struct util_nlb b;

	genl_init(&b, buf, len, GENL_ID_CTRL, nl->seq, CTRL_CMD_GETFAMILY,
		  CTRL_VERSION);
	util_nlb_put(&b, CTRL_ATTR_FAMILY_NAME, "nbd", sizeof("nbd"));
	return util_nlb_end(&b);
}

/*
 * Client flags: s3root's own choice is neither (cfg->client_flags 0).
 * DISCONNECT_ON_CLOSE tears the device down when its last opener closes
 * it, and `attach` leaves the device unopened until someone mounts it: a
 * udev or blkid probe would end it. DESTROY_ON_DISCONNECT deletes the
 * gendisk at disconnect; /dev/nbdN vanishing under `list`, `--reattach`
 * and a root filesystem that must outlive a crashed server is the wrong
 * trade for tidier device numbers (and it has had races in the kernel).
 */
int nbd_nl_build_connect(const struct nbd_nl *nl, uint8_t *buf, size_t len,
			 const struct nbd_nl_config *cfg, const int *fds,
			 unsigned nfds)
{
	struct util_nlb b;
	int r;

	r = check_config(cfg, nfds);
	if (!r)
		r = check_fds(fds, nfds);
	if (r)
		return r;
	genl_init(&b, buf, len, nl->family, nl->seq, NBD_CMD_CONNECT,
		  NBD_GENL_VERSION);
	/* without an index the kernel picks a free device, or adds one */
	if (cfg->index >= 0)
		util_nlb_u32(&b, NBD_ATTR_INDEX, (uint32_t)cfg->index);
	/* all NLA_U64 in the kernel's nbd_attr_policy, seconds for both
	 * timeouts; a smaller attribute fails its policy check */
	util_nlb_u64(&b, NBD_ATTR_SIZE_BYTES, cfg->size);
	util_nlb_u64(&b, NBD_ATTR_BLOCK_SIZE_BYTES, cfg->block_size);
	util_nlb_u64(&b, NBD_ATTR_TIMEOUT, cfg->timeout_s);
	util_nlb_u64(&b, NBD_ATTR_SERVER_FLAGS, cfg->server_flags);
	util_nlb_u64(&b, NBD_ATTR_CLIENT_FLAGS, cfg->client_flags);
	nlb_socks(&b, fds, nfds);
	util_nlb_u64(&b, NBD_ATTR_DEAD_CONN_TIMEOUT, cfg->dead_conn_timeout_s);
	return util_nlb_end(&b);
}

/*
 * nbd_genl_reconfigure() puts each new socket in the place of a dead one
 * and silently drops sockets beyond them; size and flags stay as they are
 * (CLIENT_FLAGS would clear what it does not set, so it is not sent).
 */
int nbd_nl_build_reconfigure(const struct nbd_nl *nl, uint8_t *buf, size_t len,
			     const struct nbd_nl_config *cfg, const int *fds,
			     unsigned nfds)
{
	struct util_nlb b;
	int r;

	if (cfg->index < 0)
		return -EINVAL;
	r = check_fds(fds, nfds);
	if (r)
		return r;
	genl_init(&b, buf, len, nl->family, nl->seq, NBD_CMD_RECONFIGURE,
		  NBD_GENL_VERSION);
	util_nlb_u32(&b, NBD_ATTR_INDEX, (uint32_t)cfg->index);
	util_nlb_u64(&b, NBD_ATTR_TIMEOUT, cfg->timeout_s);
	nlb_socks(&b, fds, nfds);
	util_nlb_u64(&b, NBD_ATTR_DEAD_CONN_TIMEOUT, cfg->dead_conn_timeout_s);
	return util_nlb_end(&b);
}

int nbd_nl_build_disconnect(const struct nbd_nl *nl, uint8_t *buf, size_t len,
			    uint32_t index)
{
	struct util_nlb b;

	genl_init(&b, buf, len, nl->family, nl->seq, NBD_CMD_DISCONNECT,
		  NBD_GENL_VERSION);
	util_nlb_u32(&b, NBD_ATTR_INDEX, index);
	return util_nlb_end(&b);
}

int nbd_nl_build_status(const struct nbd_nl *nl, uint8_t *buf, size_t len,
			int index)
{
	struct util_nlb b;

	if (index < -1)
		return -EINVAL;
	genl_init(&b, buf, len, nl->family, nl->seq, NBD_CMD_STATUS,
		  NBD_GENL_VERSION);
	if (index >= 0)
		util_nlb_u32(&b, NBD_ATTR_INDEX, (uint32_t)index);
	return util_nlb_end(&b);
}

/* ---- parsing ---- */

/* A run of attributes; nla_next() yields them one by one. */
struct nla_cur {
	const uint8_t *p;
	size_t len;
};

struct nla {
	uint16_t type;
	const uint8_t *data;
	size_t len;
};

/*
 * 1 with *a set, 0 at the end, -EBADMSG when the next header does not
 * fit, claims less than itself or more than what is left. The step is the
 * aligned length (so each attribute starts aligned), the last attribute's
 * padding may be missing, as nla_ok() allows.
 */
static int nla_next(struct nla_cur *c, struct nla *a)
{
	size_t n, step;

	if (!c->len)
		return 0;
	if (c->len < NLA_HDRLEN)
		return -EBADMSG;
	n = rd16(c->p);
	if (n < NLA_HDRLEN || n > c->len)
		return -EBADMSG;
	a->type = rd16(c->p + 2) & NLA_TYPE_MASK;
	a->data = c->p + NLA_HDRLEN;
	a->len = n - NLA_HDRLEN;
	step = NL_ALIGN(n);
	if (step > c->len)
		step = c->len;
	c->p += step;
	c->len -= step;
	return 1;
}

static struct nla_cur nla_inner(const struct nla *a)
{
	struct nla_cur c = {a->data, a->len};

	return c;
}

static int nla_get_u32(const struct nla *a, uint32_t *v)
{
	if (a->len != sizeof(*v))
		return -EBADMSG;
	*v = rd32(a->data);
	return 0;
}

/* Copies a text attribute for the user: NUL or length ends it, control
 * bytes become '?'. */
static void copy_text(char *dst, size_t cap, const struct nla *a)
{
	size_t i;

	for (i = 0; i < a->len && a->data[i] && i + 1 < cap; i++)
		dst[i] = a->data[i] < 0x20 || a->data[i] > 0x7e
				 ? '?'
				 : (char)a->data[i];
	dst[i] = '\0';
}

/* Extended-ack attributes (enum nlmsgerr_attrs): keeps the message. */
static int parse_tlvs(struct nbd_nl *nl, const uint8_t *p, size_t len)
{
	struct nla_cur c = {p, len};
	struct nla a;
	int r;

	while ((r = nla_next(&c, &a)) > 0)
		if (a.type == NLMSGERR_ATTR_MSG)
			copy_text(nl->err, sizeof(nl->err), &a);
	return r;
}

/*
 * NLMSG_ERROR: struct nlmsgerr { int error; struct nlmsghdr msg; } with
 * the request's payload after msg unless NLM_F_CAPPED, then the extended
 * ack attributes when NLM_F_ACK_TLVS. Returns the error (0: ack).
 */
static int parse_error(struct nbd_nl *nl, uint16_t flags, const uint8_t *p,
		       size_t len)
{
	size_t off = 4 + NLMSG_HDRLEN, olen;
	int32_t err;
	int r;

	if (len < off)
		return -EBADMSG;
	memcpy(&err, p, sizeof(err));
	if (err > 0 || err < -4095 || rd32(p + 4 + 8) != nl->seq)
		return -EBADMSG;
	/* kernels that add TLVs also flag a capped request; older ones
	 * echo only the header of an ack, its nlmsg_len still the full one */
	if (!(flags & NLM_F_ACK_TLVS))
		return err;
	if (!(flags & NLM_F_CAPPED)) {
		olen = rd32(p + 4);
		if (olen < NLMSG_HDRLEN || olen > len - 4)
			return -EBADMSG;
		off = 4 + NL_ALIGN(olen);
		if (off > len)
			off = len;
	}
	r = parse_tlvs(nl, p + off, len - off);
	return r ? r : err;
}

/* NLMSG_DONE ends a dump: an int error, then ack attributes. */
static int parse_done(struct nbd_nl *nl, uint16_t flags, const uint8_t *p,
		      size_t len)
{
	int32_t err;
	int r;

	if (len < 4)
		return -EBADMSG;
	memcpy(&err, p, sizeof(err));
	if (err > 0 || err < -4095)
		return -EBADMSG;
	if (flags & NLM_F_ACK_TLVS) {
		r = parse_tlvs(nl, p + 4, len - 4);
		if (r)
			return r;
	}
	return err;
}

/* Takes one reply message's attributes (after the genlmsghdr). */
typedef int (*msg_fn)(struct nbd_nl *nl, struct nla_cur attrs, void *arg);

/*
 * Walks one datagram. Each message must fit what is left and carry our
 * seq and pid; ERROR (the ack, since every request asks for one) and
 * DONE end the exchange, NOOP is skipped, anything else must be a
 * generic netlink message of type and cmd and goes to fn. Returns 1 when
 * the datagram ended before the exchange did.
 */
static int walk(struct nbd_nl *nl, const uint8_t *buf, size_t len,
		uint16_t type, uint8_t cmd, msg_fn fn, void *arg)
{
	const uint8_t *p;
	uint16_t mtype, flags;
	size_t mlen, step;
	struct nla_cur attrs;
	int r;

	while (len) {
		if (len < NLMSG_HDRLEN)
			return -EBADMSG;
		mlen = rd32(buf);
		if (mlen < NLMSG_HDRLEN || mlen > len)
			return -EBADMSG;
		mtype = rd16(buf + 4);
		flags = rd16(buf + 6);
		if (rd32(buf + 8) != nl->seq || rd32(buf + 12) != nl->pid)
			return -ESRCH;
		p = buf + NLMSG_HDRLEN;
		mlen -= NLMSG_HDRLEN;
		if (mtype == NLMSG_ERROR)
			return parse_error(nl, flags, p, mlen);
		if (mtype == NLMSG_DONE)
			return parse_done(nl, flags, p, mlen);
		if (mtype != NLMSG_NOOP) {
			if (mtype != type || mlen < GENL_HDRLEN || p[0] != cmd)
				return -EBADMSG;
			attrs.p = p + GENL_HDRLEN;
			attrs.len = mlen - GENL_HDRLEN;
			r = fn(nl, attrs, arg);
			if (r)
				return r;
		}
		step = NL_ALIGN(mlen + NLMSG_HDRLEN);
		if (step > len)
			step = len;
		buf += step;
		len -= step;
	}
	return 1;
}

/* CTRL_CMD_NEWFAMILY: id (u16), name (must be "nbd"), version (u32). */
static int family_msg(struct nbd_nl *nl, struct nla_cur c, void *arg)
{
	uint16_t id = 0;
	uint32_t version = 0;
	int r, name = 0, have_version = 0;
	struct nla a;

	(void)arg;
	while ((r = nla_next(&c, &a)) > 0) {
		if (a.type == CTRL_ATTR_FAMILY_ID) {
			if (a.len != sizeof(id) || id)
				return -EBADMSG;
			id = rd16(a.data);
		} else if (a.type == CTRL_ATTR_FAMILY_NAME) {
			if (a.len != sizeof("nbd") || memcmp(a.data, "nbd", 4))
				return -EBADMSG;
			name = 1;
		} else if (a.type == CTRL_ATTR_VERSION) {
			if (have_version || nla_get_u32(&a, &version))
				return -EBADMSG;
			have_version = 1;
		}
	}
	/* ids start above GENL_ID_CTRL; below 0x10 they are control types */
	if (r || id <= GENL_ID_CTRL || !name || !have_version || nl->family)
		return -EBADMSG;
	nl->family = id;
	nl->version = version;
	return 0;
}

int nbd_nl_parse_family_reply(struct nbd_nl *nl, const uint8_t *buf, size_t len)
{
	int r = walk(nl, buf, len, GENL_ID_CTRL, CTRL_CMD_NEWFAMILY, family_msg,
		     NULL);

	return !r && !nl->family ? -EBADMSG : r;
}

/* nbd_connect_reply(): NBD_ATTR_INDEX (u32), once. */
static int connect_msg(struct nbd_nl *nl, struct nla_cur c, void *arg)
{
	int *index = arg, r;
	uint32_t v;
	struct nla a;

	(void)nl;
	while ((r = nla_next(&c, &a)) > 0) {
		if (a.type != NBD_ATTR_INDEX)
			continue;
		if (*index >= 0 || nla_get_u32(&a, &v) || v > 0x7fffffff)
			return -EBADMSG;
		*index = (int)v;
	}
	return r ? r : *index < 0 ? -EBADMSG : 0;
}

int nbd_nl_parse_connect_reply(struct nbd_nl *nl, const uint8_t *buf,
			       size_t len, int *index)
{
	return walk(nl, buf, len, nl->family, NBD_CMD_CONNECT, connect_msg,
		    index);
}

static int no_msg(struct nbd_nl *nl, struct nla_cur c, void *arg)
{
	(void)nl;
	(void)c;
	(void)arg;
	return -EBADMSG;
}

int nbd_nl_parse_ack(struct nbd_nl *nl, const uint8_t *buf, size_t len)
{
	return walk(nl, buf, len, nl->family, 0, no_msg, NULL);
}

struct status {
	struct nbd_nl_dev *devs;
	unsigned max, *n;
};

/* NBD_DEVICE_ITEM { NBD_DEVICE_INDEX u32, NBD_DEVICE_CONNECTED u8 } */
static int device_item(struct status *st, const struct nla *item)
{
	struct nla_cur c = nla_inner(item);
	struct nbd_nl_dev d;
	int r, have = 0;
	struct nla a;

	while ((r = nla_next(&c, &a)) > 0) {
		if (a.type == NBD_DEVICE_INDEX) {
			if (have & 1 || nla_get_u32(&a, &d.index))
				return -EBADMSG;
			have |= 1;
		} else if (a.type == NBD_DEVICE_CONNECTED) {
			if (have & 2 || a.len != 1 || a.data[0] > 1)
				return -EBADMSG;
			d.connected = a.data[0];
			have |= 2;
		}
	}
	if (r || have != 3 || *st->n == ~0u)
		return -EBADMSG;
	if (*st->n < st->max)
		st->devs[*st->n] = d;
	++*st->n;
	return 0;
}

/* nbd_genl_status(): NBD_ATTR_DEVICE_LIST { NBD_DEVICE_ITEM ... } */
static int status_msg(struct nbd_nl *nl, struct nla_cur c, void *arg)
{
	struct nla a, item;
	struct nla_cur list;
	int r, r2, seen = 0;

	(void)nl;
	while ((r = nla_next(&c, &a)) > 0) {
		if (a.type != NBD_ATTR_DEVICE_LIST)
			continue;
		if (seen++)
			return -EBADMSG;
		list = nla_inner(&a);
		while ((r2 = nla_next(&list, &item)) > 0) {
			if (item.type != NBD_DEVICE_ITEM)
				continue;
			r2 = device_item(arg, &item);
			if (r2)
				return r2;
		}
		if (r2)
			return r2;
	}
	return r ? r : seen ? 0 : -EBADMSG;
}

int nbd_nl_parse_status_reply(struct nbd_nl *nl, const uint8_t *buf, size_t len,
			      struct nbd_nl_dev *devs, unsigned max,
			      unsigned *ndevs)
{
	struct status st = {devs, max, ndevs};

	return walk(nl, buf, len, nl->family, NBD_CMD_STATUS, status_msg, &st);
}

const char *nbd_nl_strerror(enum nbd_nl_op op, int err)
{
	err = err < 0 ? -err : err;
	switch (err) {
	case EPERM:
	case EACCES:
		return "needs CAP_SYS_ADMIN (run as root)";
	case ETIMEDOUT:
		return "the kernel did not answer in time";
	case EBADMSG:
		return "malformed netlink reply from the kernel";
	case ESRCH:
		return "netlink reply to another request";
	case EPROTONOSUPPORT:
		return "no generic netlink in this kernel "
		       "(s3root.nbd=ioctl)";
	case EBADF:
	case ENOTSOCK:
		return "a socket handed to the kernel is not valid";
	}
	switch (op) {
	case NBD_NL_FAMILY:
		if (err == ENOENT)
			return "the nbd module is not loaded (modprobe nbd), "
			       "or the kernel has no NBD netlink interface";
		break;
	case NBD_NL_CONNECT:
	case NBD_NL_CONNECT_INDEX:
		if (err == EBUSY)
			return "the device is in use (attached, or held open)";
		if (err == EEXIST)
			return "the device index is taken";
		if (err == EINVAL)
			return "the kernel refused the configuration or "
			       "the device is going away (see dmesg)";
		break;
	case NBD_NL_DISCONNECT:
	case NBD_NL_RECONFIGURE:
	case NBD_NL_STATUS:
		if (err == EINVAL || err == ENOENT)
			return op == NBD_NL_RECONFIGURE
				       ? "no such device, or it is not attached"
				       : "no such device";
		break;
	case NBD_NL_IOCTL:
		if (err == ENOENT || err == ENXIO)
			return "no such device (is the nbd module loaded?)";
		if (err == ENOTTY)
			return "not an NBD device";
		if (err == EBUSY)
			return "the device is in use";
		if (err == EINVAL)
			return "the device is attached through netlink, or "
			       "the kernel refused the configuration";
		break;
	}
	return strerror(err);
}

/* ---- I/O ---- */

static int nl_send(struct nbd_nl *nl, const uint8_t *buf, int len)
{
	struct nl_addr to = {AF_NETLINK, 0, 0, 0};
	ssize_t n;

	if (len < 0)
		return len;
	do {
		n = sendto(nl->fd, buf, (size_t)len, 0, (struct sockaddr *)&to,
			   sizeof(to));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

/*
 * Receives one datagram from the kernel into a buffer of its size (a
 * status reply grows with the number of devices). Datagrams from other
 * ports are dropped: any local process may send to ours.
 */
static int nl_recv(struct nbd_nl *nl, uint8_t **buf, size_t *len)
{
	struct nl_addr from;
	socklen_t alen;
	ssize_t n;

	for (;;) {
		n = recv(nl->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK
				       ? -ETIMEDOUT
				       : -errno;
		if (n > (1 << 20))
			return -EMSGSIZE;
		free(*buf);
		*buf = malloc(n ? (size_t)n : 1);
		if (!*buf)
			return -ENOMEM;
		alen = sizeof(from);
		do {
			n = recvfrom(nl->fd, *buf, n ? (size_t)n : 1, 0,
				     (struct sockaddr *)&from, &alen);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		if (alen == sizeof(from) && from.pid == 0) {
			*len = (size_t)n;
			return 0;
		}
	}
}

/* One request and its whole answer. */
struct exchange {
	int (*parse)(struct nbd_nl *nl, const uint8_t *buf, size_t len,
		     void *arg);
	void *arg;
};

static int run(struct nbd_nl *nl, const uint8_t *msg, int len,
	       const struct exchange *x)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int r;

	nl->err[0] = '\0';
	r = nl_send(nl, msg, len);
	while (!r) {
		r = nl_recv(nl, &buf, &n);
		if (!r)
			r = x->parse(nl, buf, n, x->arg);
		if (r == 1)
			r = 0;
		else if (r >= 0)
			break;
	}
	free(buf);
	return r;
}

static int family_cb(struct nbd_nl *nl, const uint8_t *b, size_t n, void *a)
{
	(void)a;
	return nbd_nl_parse_family_reply(nl, b, n);
}

static int connect_cb(struct nbd_nl *nl, const uint8_t *b, size_t n, void *a)
{
	return nbd_nl_parse_connect_reply(nl, b, n, a);
}

static int ack_cb(struct nbd_nl *nl, const uint8_t *b, size_t n, void *a)
{
	(void)a;
	return nbd_nl_parse_ack(nl, b, n);
}

static int status_cb(struct nbd_nl *nl, const uint8_t *b, size_t n, void *a)
{
	struct status *st = a;

	return nbd_nl_parse_status_reply(nl, b, n, st->devs, st->max, st->n);
}

int nbd_nl_open(struct nbd_nl *nl, int timeout_ms)
{
	struct nl_addr addr = {AF_NETLINK, 0, 0, 0};
	struct timeval tv = {0, 0}; /* 0: wait for ever */
	struct exchange x = {family_cb, NULL};
	uint8_t msg[64];
	socklen_t alen = sizeof(addr);
	int one = 1, r;

	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = timeout_ms % 1000 * 1000;
	}
	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	/* error text, and errors without the echoed request; both may be
	 * missing on old kernels */
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    bind(nl->fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    getsockname(nl->fd, (struct sockaddr *)&addr, &alen)) {
		r = -errno;
		goto err_close;
	}
	nl->pid = addr.pid;
	nl->seq = 1;
	r = run(nl, msg, nbd_nl_build_getfamily(nl, msg, sizeof(msg)), &x);
	if (r)
		goto err_close;
	return 0;

err_close:
	close(nl->fd);
	nl->fd = -1;
	return r;
}

void nbd_nl_close(struct nbd_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

int nbd_nl_connect(struct nbd_nl *nl, const struct nbd_nl_config *cfg,
		   const int *fds, unsigned nfds)
{
	uint8_t msg[NBD_NL_MSGSIZE];
	int index = -1, r;
	struct exchange x = {connect_cb, &index};

	nl->seq++;
	r = run(nl, msg,
		nbd_nl_build_connect(nl, msg, sizeof(msg), cfg, fds, nfds), &x);
	if (r)
		return r;
	/* the kernel drops its reply when it cannot allocate it */
	if (index < 0)
		index = cfg->index;
	return index < 0 ? -EBADMSG : index;
}

int nbd_nl_disconnect(struct nbd_nl *nl, uint32_t index)
{
	uint8_t msg[64];
	struct exchange x = {ack_cb, NULL};

	nl->seq++;
	return run(nl, msg,
		   nbd_nl_build_disconnect(nl, msg, sizeof(msg), index), &x);
}

int nbd_nl_reconfigure(struct nbd_nl *nl, const struct nbd_nl_config *cfg,
		       const int *fds, unsigned nfds)
{
	uint8_t msg[NBD_NL_MSGSIZE];
	struct exchange x = {ack_cb, NULL};
	int len;

	nl->seq++;
	len = nbd_nl_build_reconfigure(nl, msg, sizeof(msg), cfg, fds, nfds);
	return run(nl, msg, len, &x);
}

/* The kernel answers an unknown index with an empty list, not an error. */
int nbd_nl_status(struct nbd_nl *nl, int index, struct nbd_nl_dev *devs,
		  unsigned max)
{
	uint8_t msg[64];
	unsigned n = 0;
	struct status st = {devs, max, &n};
	struct exchange x = {status_cb, &st};
	int r;

	nl->seq++;
	r = run(nl, msg, nbd_nl_build_status(nl, msg, sizeof(msg), index), &x);
	if (r)
		return r;
	if (index >= 0 && !n)
		return -ENOENT;
	return n > 0x7fffffff ? -EOVERFLOW : (int)n;
}

/* ---- ioctl fallback (linux/nbd.h), as nbd-client does it ---- */

static int nbd_ioctl(int fd, unsigned long req, unsigned long arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int nbd_ioctl_attach(const char *dev, int fd, const struct nbd_nl_config *cfg)
{
	unsigned long bs = cfg->block_size ? cfg->block_size : NBD_DEF_BLKSIZE;
	unsigned long blocks = (unsigned long)(cfg->size / bs);
	int devfd, r;

	if (fd < 0)
		return -EBADF;
	if (!cfg->size || cfg->size % bs || blocks != cfg->size / bs)
		return -EINVAL;
	devfd = open(dev, O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		return -errno;
	/*
	 * The socket first: on a device that another task set up (EBUSY) or
	 * that netlink owns (EINVAL) nothing is changed, and no CLEAR_SOCK
	 * ends someone else's connection. Then the block size, since
	 * SET_SIZE_BLOCKS multiplies by it.
	 */
	r = nbd_ioctl(devfd, NBD_SET_SOCK, (unsigned long)fd);
	if (r)
		goto err_close;
	r = nbd_ioctl(devfd, NBD_SET_BLKSIZE, bs);
	if (!r)
		r = nbd_ioctl(devfd, NBD_SET_SIZE_BLOCKS, blocks);
	if (!r)
		r = nbd_ioctl(devfd, NBD_SET_FLAGS,
			      (unsigned long)cfg->server_flags);
	if (!r)
		r = nbd_ioctl(devfd, NBD_SET_TIMEOUT, cfg->timeout_s);
	if (r)
		goto err_clear_sock;
	return devfd;

err_clear_sock:
	nbd_ioctl(devfd, NBD_CLEAR_SOCK, 0);
err_close:
	close(devfd);
	return r;
}

int nbd_ioctl_do_it(int devfd)
{
	int r = nbd_ioctl(devfd, NBD_DO_IT, 0);

	/* releases the socket and fails what is queued, as nbd-client does */
	nbd_ioctl(devfd, NBD_CLEAR_SOCK, 0);
	return r;
}

int nbd_ioctl_detach(const char *dev)
{
	int devfd, r;

	devfd = open(dev, O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		return -errno;
	r = nbd_ioctl(devfd, NBD_DISCONNECT, 0);
	if (!r)
		r = nbd_ioctl(devfd, NBD_CLEAR_SOCK, 0);
	close(devfd);
	return r;
}
