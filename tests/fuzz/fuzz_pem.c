/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pem.c - CA bundles (s3.ca, AWS_CA_BUNDLE, /etc/s3root/ca.pem): the
 * BearSSL backend's PEM loader and the X.509 decoding of every certificate
 * in it, on arbitrary bytes. The backend's file is compiled in, as
 * wireguard-tools' fuzzers include the file they test, to reach its static
 * loader without a file; the library's copy is then never linked.
 */
#include "http/tls_bearssl.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_ctx *c = calloc(1, sizeof(*c));
	char err[200] = "";
	size_t i;
	int r;

	if (!c)
		return 0;
	r = load_pem(c, "fuzz.pem", (const char *)data, size, err, sizeof(err));
	/* a bundle loads with anchors, or fails with a message */
	if (r ? !err[0] && r != -ENOMEM : !c->ntas)
		abort();
	/* every anchor is whole: a name and a key BearSSL can use */
	for (i = 0; i < c->ntas; i++) {
		const br_x509_trust_anchor *ta = &c->tas[i];

		if (!ta->dn.data ||
		    (ta->pkey.key_type == BR_KEYTYPE_RSA
			     ? !ta->pkey.key.rsa.nlen || !ta->pkey.key.rsa.elen
			     : ta->pkey.key_type != BR_KEYTYPE_EC ||
				       !ta->pkey.key.ec.qlen))
			abort();
	}
	free_anchors(c);
	free(c);
	return 0;
}
