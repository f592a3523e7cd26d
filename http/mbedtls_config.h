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

/*
 * What the BearSSL build offers (tls_bearssl.c, client_init), no more:
 * ECDHE with ECDSA or RSA certificates, AES-GCM and ChaCha20-Poly1305,
 * x25519 and P-256/384/521. No RSA key transport, static ECDH, DHE or
 * PSK; no CBC, CCM, 3DES, RC4, Camellia, ARIA; no MD5 or RIPEMD-160 (the
 * default X.509 profile refuses SHA-1 chains already). Nor what a client
 * never runs: key and certificate writing, CSRs, CRLs, PKCS#5/#12.
 */
#undef MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_RSA_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_RSA_ENABLED
#undef MBEDTLS_DHM_C
#undef MBEDTLS_CIPHER_MODE_CBC
#undef MBEDTLS_CIPHER_MODE_CFB
#undef MBEDTLS_CIPHER_MODE_OFB
#undef MBEDTLS_CIPHER_MODE_XTS
#undef MBEDTLS_SSL_ENCRYPT_THEN_MAC
#undef MBEDTLS_CCM_C
#undef MBEDTLS_DES_C
#undef MBEDTLS_ARC4_C
#undef MBEDTLS_BLOWFISH_C
#undef MBEDTLS_CAMELLIA_C
#undef MBEDTLS_ARIA_C
#undef MBEDTLS_XTEA_C
#undef MBEDTLS_MD5_C
#undef MBEDTLS_RIPEMD160_C
#undef MBEDTLS_ECP_DP_SECP192R1_ENABLED
#undef MBEDTLS_ECP_DP_SECP224R1_ENABLED
#undef MBEDTLS_ECP_DP_SECP192K1_ENABLED
#undef MBEDTLS_ECP_DP_SECP224K1_ENABLED
#undef MBEDTLS_ECP_DP_SECP256K1_ENABLED
#undef MBEDTLS_ECP_DP_BP256R1_ENABLED
#undef MBEDTLS_ECP_DP_BP384R1_ENABLED
#undef MBEDTLS_ECP_DP_BP512R1_ENABLED
#undef MBEDTLS_ECP_DP_CURVE448_ENABLED
#undef MBEDTLS_GENPRIME
#undef MBEDTLS_PK_WRITE_C
#undef MBEDTLS_X509_CREATE_C
#undef MBEDTLS_X509_CRT_WRITE_C
#undef MBEDTLS_X509_CSR_WRITE_C
#undef MBEDTLS_X509_CSR_PARSE_C
#undef MBEDTLS_X509_CRL_PARSE_C
#undef MBEDTLS_PKCS5_C
#undef MBEDTLS_PKCS12_C
#undef MBEDTLS_HKDF_C
#undef MBEDTLS_ECJPAKE_C
#undef MBEDTLS_CERTS_C

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
