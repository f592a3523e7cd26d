/* SPDX-License-Identifier: MIT */
/*
 * mbedtls_config.h - what s3root changes in mbedTLS 2.28's default
 * configuration (include/mbedtls/config.h) when it builds the library
 * (make TLS=mbedtls). Passed as MBEDTLS_USER_CONFIG_FILE to the library and
 * to http/tls_mbedtls.c alike, so both see one configuration.
 */
#ifndef S3ROOT_MBEDTLS_CONFIG_H
#define S3ROOT_MBEDTLS_CONFIG_H

/*
 * Several threads verify chains at once. Verifying against one shared CA
 * chain is not safe: an RSA key caches its Montgomery constant and an EC
 * key's group its comb table on first use (ecp.c, ecp_mul_comb). The
 * trusted-certificate callback hands each verification its own parsed
 * copies of the candidate CAs instead; threading guards the rest.
 */
#define MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD

/* a client: no server side, no DTLS, no TLS 1.0/1.1 */
#undef MBEDTLS_SSL_SRV_C
#undef MBEDTLS_SSL_CACHE_C
#undef MBEDTLS_SSL_COOKIE_C
#undef MBEDTLS_SSL_TICKET_C
#undef MBEDTLS_SSL_PROTO_TLS1
#undef MBEDTLS_SSL_PROTO_TLS1_1
#undef MBEDTLS_SSL_PROTO_DTLS
#undef MBEDTLS_SSL_DTLS_ANTI_REPLAY
#undef MBEDTLS_SSL_DTLS_HELLO_VERIFY
#undef MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE
#undef MBEDTLS_SSL_DTLS_BADMAC_LIMIT
#undef MBEDTLS_SSL_DTLS_CONNECTION_ID
#undef MBEDTLS_SSL_DTLS_SRTP
#undef MBEDTLS_SSL_CBC_RECORD_SPLITTING
/* sessions are kept per host: a digest of the peer's certificate is enough */
#undef MBEDTLS_SSL_KEEP_PEER_CERTIFICATE

/* s3root has its own sockets, clock, randomness (getrandom) and files */
#undef MBEDTLS_NET_C
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_FS_IO
#undef MBEDTLS_PSA_CRYPTO_C
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#undef MBEDTLS_PSA_ITS_FILE_C
#undef MBEDTLS_SELF_TEST
#undef MBEDTLS_DEBUG_C
#undef MBEDTLS_VERSION_FEATURES

#endif
