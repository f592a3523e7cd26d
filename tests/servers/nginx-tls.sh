# shellcheck shell=bash
# tests/servers/nginx-tls.sh: nginx as a TLS reverse proxy on 127.0.0.1 in
# front of radosgw, with a CA and certificates made by openssl for each run.
#
# Sourced (bash; works under set -eu):
#   . tests/servers/nginx-tls.sh     # also sources rgw.sh for its helpers
#   tls_start DIR [UPSTREAM_PORT]    # upstream defaults to $RGW_PORT
#   curl --cacert "$TLS_CA" --resolve "s3.test:$TLS_PORT:127.0.0.1" \
#       "https://s3.test:$TLS_PORT/"
#   tls_stop DIR
# As a command (DIR/env holds the same assignments):
#   eval "$(tests/servers/nginx-tls.sh start DIR UPSTREAM_PORT)"
#   tests/servers/nginx-tls.sh stop DIR
#
# Three listeners, all proxying to the same upstream:
#   TLS_PORT          certificate for s3.test, *.s3.test, localhost (by TLS_CA)
#   TLS_BADNAME_PORT  certificate for wrong.test only (by TLS_CA)
#   TLS_EXPIRED_PORT  right names, by TLS_CA, valid 2010-2011 only
# TLS_BAD_CA is a second CA that signed none of them. The good certificates
# are valid from 2020-01-01 to 2049-12-31 (a client whose clock is its build
# time must already accept them). Keys are EC P-256, or RSA 2048 when
# TLS_KEYTYPE=rsa. BearSSL checks DNS names only: no IP in subjectAltName.

. "$(dirname "${BASH_SOURCE[0]}")/rgw.sh"

_TLS_VARS="TLS_DIR TLS_PORT TLS_BADNAME_PORT TLS_EXPIRED_PORT TLS_HOST
TLS_ENDPOINT TLS_CA TLS_BAD_CA TLS_UPSTREAM_PORT"

_tls_log() { echo "nginx-tls.sh: $*" >&2; }

# tls_stop DIR: stop the nginx that tls_start DIR started (idempotent).
tls_stop() {
	local dir pidf pid kids k
	dir=$(cd "$1" 2>/dev/null && pwd) || return 0
	pidf=$dir/pids/nginx.pid
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	# The workers are the master's children; a master that had to be
	# SIGKILLed would leave them behind, so remember them first.
	kids=$(_srv_children "$pid")
	_srv_kill "$pidf" "$dir/nginx.conf" TERM || return 1
	for k in $kids; do
		if _srv_alive "$k" && grep -q '^nginx' "/proc/$k/cmdline" 2>/dev/null; then
			kill -KILL "$k" 2>/dev/null || true
		fi
	done
}

# _tls_cert NAME SUBJECT_CN EXT START END [CA]: key NAME.key and certificate
# NAME.pem signed by CA (CA.key/CA.pem; self-signed when CA is empty).
_tls_cert() {
	local dir=$_tls_dir name=$1 cn=$2 ext=$3 start=$4 end=$5 ca=${6:-}
	local newkey=ec:$dir/ecparam.pem
	[ "${TLS_KEYTYPE:-ec}" = rsa ] && newkey=rsa:2048
	openssl req -new -newkey "$newkey" -nodes -keyout "$dir/$name.key" \
		-subj "/CN=$cn" -out "$dir/$name.csr" 2>>"$dir/log/openssl.out" ||
		return 1
	if [ -z "$ca" ]; then
		set -- -selfsign -keyfile "$dir/$name.key"
	else
		set -- -cert "$dir/$ca.pem" -keyfile "$dir/$ca.key"
	fi
	openssl ca -batch -config "$dir/ca.cnf" "$@" -in "$dir/$name.csr" \
		-out "$dir/$name.pem" -extensions "$ext" -startdate "$start" \
		-enddate "$end" -notext >>"$dir/log/openssl.out" 2>&1
}

# tls_start DIR [UPSTREAM_PORT]: make the certificates, start nginx, export
# the TLS_* variables and write them to DIR/env.
tls_start() {
	local dir up=${2:-${RGW_PORT:-}} port badport expport user='' ku n v
	[ -n "$up" ] || { _tls_log "no upstream port (RGW_PORT)"; return 1; }
	mkdir -p "$1" && dir=$(cd "$1" && pwd) || return 1
	_tls_dir=$dir
	tls_stop "$dir" || return 1
	rm -rf "$dir/nginx.conf" "$dir/ca.cnf" "$dir/certdb" "$dir/tmp" \
		"$dir/log" "$dir/pids" "$dir/env" "$dir"/*.pem "$dir"/*.key \
		"$dir"/*.csr
	mkdir -p "$dir/certdb" "$dir/tmp" "$dir/log" "$dir/pids" || return 1

	ku=digitalSignature
	[ "${TLS_KEYTYPE:-ec}" = rsa ] && ku=digitalSignature,keyEncipherment
	: >"$dir/certdb/index.txt"
	echo 1000 >"$dir/certdb/serial"
	cat >"$dir/ca.cnf" <<EOF
[ca]
default_ca = ca_default
[ca_default]
database = $dir/certdb/index.txt
new_certs_dir = $dir/certdb
serial = $dir/certdb/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
[ext_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ext_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,$ku
extendedKeyUsage = serverAuth
subjectAltName = DNS:$RGW_HOST,DNS:*.$RGW_HOST,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ext_badname]
basicConstraints = critical,CA:FALSE
keyUsage = critical,$ku
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
	openssl ecparam -name prime256v1 -out "$dir/ecparam.pem" \
		2>>"$dir/log/openssl.out" &&
		_tls_cert ca "s3root test CA" ext_ca 20200101000000Z 20491231235959Z &&
		_tls_cert badca "s3root unrelated CA" ext_ca 20200101000000Z 20491231235959Z &&
		_tls_cert server "$RGW_HOST" ext_server 20200101000000Z 20491231235959Z ca &&
		_tls_cert badname wrong.test ext_badname 20200101000000Z 20491231235959Z ca &&
		_tls_cert expired "$RGW_HOST" ext_server 20100101000000Z 20111231235959Z ca ||
		{ _tls_log "openssl failed, see $dir/log/openssl.out"; return 1; }

	read -r port badport expport <<<"$(_srv_free_ports 3)" || true
	[ -n "$expport" ] || { _tls_log "no free ports"; return 1; }
	# As root, nginx would run its workers as nobody, who cannot enter DIR.
	[ "$(id -u)" = 0 ] && user="user root;"
	{
		cat <<EOF
$user
daemon off;
worker_processes 1;
pid $dir/pids/nginx-own.pid;
error_log $dir/log/nginx-error.log info;
events { worker_connections 512; }
http {
	# ssl_session_reused shows whether a client resumed its TLS session
	log_format tls '\$remote_addr "\$request" \$status '
		'reused=\$ssl_session_reused';
	access_log $dir/log/nginx-access.log tls;
	ssl_session_cache shared:S3ROOT:1m;
	# a few requests per connection: clients must reconnect (and resume)
	keepalive_requests 4;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	merge_slashes off;
	client_max_body_size 0;
	proxy_request_buffering off;
	proxy_buffering off;
	proxy_http_version 1.1;
	proxy_set_header Connection "";
	proxy_set_header Host \$http_host;
	# RGW takes SSE-C keys only over TLS: tell it this was (rgw.sh trusts it)
	proxy_set_header X-Forwarded-Proto https;
	proxy_read_timeout 300s;
	proxy_send_timeout 300s;
	ssl_protocols TLSv1.2 TLSv1.3;
	upstream rgw {
		server 127.0.0.1:$up;
		keepalive 32;
	}
EOF
		for n in "$port:server" "$badport:badname" "$expport:expired"; do
			set -- "${n%%:*}" "${n#*:}"
			cat <<EOF
	server {
		listen 127.0.0.1:$1 ssl;
		ssl_certificate $dir/$2.pem;
		ssl_certificate_key $dir/$2.key;
		location / {
			proxy_pass http://rgw;
		}
	}
EOF
		done
		echo "}"
	} >"$dir/nginx.conf"

	nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/log/nginx-error.log" \
		</dev/null >>"$dir/log/nginx.out" 2>&1 &
	echo $! >"$dir/pids/nginx.pid"
	disown $!

	export TLS_DIR=$dir TLS_PORT=$port TLS_BADNAME_PORT=$badport
	export TLS_EXPIRED_PORT=$expport TLS_HOST=$RGW_HOST
	export TLS_ENDPOINT=https://$RGW_HOST:$port TLS_UPSTREAM_PORT=$up
	export TLS_CA=$dir/ca.pem TLS_BAD_CA=$dir/badca.pem

	n=100
	until curl -s -o /dev/null --max-time 2 --cacert "$TLS_CA" \
		--resolve "$RGW_HOST:$port:127.0.0.1" "https://$RGW_HOST:$port/"; do
		if ! _srv_alive "$(cat "$dir/pids/nginx.pid")"; then
			_tls_log "nginx died:"
			tail -n 20 "$dir/log/nginx.out" "$dir/log/nginx-error.log" >&2
			tls_stop "$dir"
			return 1
		fi
		n=$((n - 1))
		if [ $n = 0 ]; then
			_tls_log "nginx not answering after 10 s"
			tls_stop "$dir"
			return 1
		fi
		sleep 0.1
	done
	for v in $_TLS_VARS; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done >"$dir/env"
	_tls_log "nginx on https://$RGW_HOST:$port -> 127.0.0.1:$up"
}

# Command mode: tests/servers/nginx-tls.sh start DIR [UPSTREAM_PORT] | stop DIR
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-}:$# in
	start:2 | start:3)
		tls_start "$2" "${3:-}" || exit 1
		cat "$TLS_DIR/env"
		;;
	stop:2)
		tls_stop "$2"
		;;
	*)
		echo "usage: $0 start DIR [UPSTREAM_PORT] | stop DIR" >&2
		exit 2
		;;
	esac
fi
