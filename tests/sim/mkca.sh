#!/bin/sh
# Test PKI for the TIC simulator (tests/sim/tic.py).
#
#   mkca.sh DIR [HOSTNAME|IP ...]      (default names: tic.test 192.0.2.1)
#
# Writes into DIR (created if missing; keys are mode 0600):
#   ca.pem        ca-key.pem        test CA ("aiccud test CA"), the one clients trust
#   server.pem    server-key.pem    signed by ca.pem, SANs = the given names/IPs
#   wrong.pem     wrong-key.pem     signed by ca.pem, SAN dNSName wrong.test only
#   other-ca.pem  other-ca-key.pem  a second, unrelated CA nobody trusts
#   other.pem     other-key.pem     signed by other-ca.pem, same SANs as server.pem
#
# Uses certtool (Debian package gnutls-bin) when present, else openssl;
# MKCA_TOOL=certtool|openssl forces one.  Keys are ECDSA P-256 (fast to make,
# accepted by every TLS 1.2/1.3 stack), or RSA 2048 with MKCA_KEY=rsa.
# Certificates are valid for 10 years (with certtool from one day ago, so a
# client clock a little behind still accepts them).
set -eu

usage() {
	echo "usage: $0 DIR [HOSTNAME|IP ...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
[ $# -ge 1 ] || set -- tic.test 192.0.2.1

tool=${MKCA_TOOL:-}
if [ -z "$tool" ]; then
	if command -v certtool >/dev/null 2>&1; then
		tool=certtool
	elif command -v openssl >/dev/null 2>&1; then
		tool=openssl
	else
		echo "mkca.sh: need certtool (gnutls-bin) or openssl" >&2
		exit 1
	fi
fi
case $tool in
certtool | openssl) ;;
*)
	echo "mkca.sh: MKCA_TOOL must be certtool or openssl, not '$tool'" >&2
	exit 2
	;;
esac

key=${MKCA_KEY:-ecdsa}
case $key in
ecdsa | rsa) ;;
*)
	echo "mkca.sh: MKCA_KEY must be ecdsa or rsa, not '$key'" >&2
	exit 2
	;;
esac

mkdir -p "$dir"
umask 077
tmp=$(mktemp -d "$dir/.mkca.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# An argument is an IP address when it looks like one (digits and dots,
# or contains a colon); everything else is a DNS name.
is_ip() {
	case $1 in
	*:*) return 0 ;;
	*[!0-9.]*) return 1 ;;
	*.*.*.*) return 0 ;;
	*) return 1 ;;
	esac
}

# ---------------------------------------------------------------- certtool
ct_key() { # out
	if [ "$key" = rsa ]; then
		certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$1" >/dev/null 2>&1
	else
		certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
			--outfile "$1" >/dev/null 2>&1
	fi
}

ct_ca() { # name cn
	ct_key "$tmp/$1-key.pem"
	cat >"$tmp/$1.tmpl" <<EOF
cn = "$2"
ca
cert_signing_key
crl_signing_key
activation_date = "$(date -u -d '1 day ago' '+%Y-%m-%d %H:%M:%S')"
expiration_days = 3650
EOF
	certtool --generate-self-signed --load-privkey "$tmp/$1-key.pem" \
		--template "$tmp/$1.tmpl" --outfile "$tmp/$1.pem" >/dev/null 2>&1
}

ct_server() { # name ca-name cn san...
	name=$1 ca=$2 cn=$3
	shift 3
	ct_key "$tmp/$name-key.pem"
	{
		echo "cn = \"$cn\""
		for n in "$@"; do
			if is_ip "$n"; then
				echo "ip_address = \"$n\""
			else
				echo "dns_name = \"$n\""
			fi
		done
		echo "tls_www_server"
		echo "signing_key"
		echo "encryption_key"
		echo "activation_date = \"$(date -u -d '1 day ago' '+%Y-%m-%d %H:%M:%S')\""
		echo "expiration_days = 3650"
	} >"$tmp/$name.tmpl"
	certtool --generate-certificate --load-privkey "$tmp/$name-key.pem" \
		--load-ca-certificate "$tmp/$ca.pem" --load-ca-privkey "$tmp/$ca-key.pem" \
		--template "$tmp/$name.tmpl" --outfile "$tmp/$name.pem" >/dev/null 2>&1
}

# ----------------------------------------------------------------- openssl
os_key() { # out
	if [ "$key" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
	else
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
	fi
}

os_ca() { # name cn
	os_key "$tmp/$1-key.pem"
	cat >"$tmp/$1.ext" <<EOF
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
	openssl req -new -key "$tmp/$1-key.pem" -subj "/CN=$2" -out "$tmp/$1.csr" 2>/dev/null
	openssl x509 -req -in "$tmp/$1.csr" -signkey "$tmp/$1-key.pem" -days 3650 \
		-extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
}

os_server() { # name ca-name cn san...
	name=$1 ca=$2 cn=$3
	shift 3
	os_key "$tmp/$name-key.pem"
	san=
	for n in "$@"; do
		if is_ip "$n"; then
			san="$san${san:+,}IP:$n"
		else
			san="$san${san:+,}DNS:$n"
		fi
	done
	cat >"$tmp/$name.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
authorityKeyIdentifier = keyid
EOF
	openssl req -new -key "$tmp/$name-key.pem" -subj "/CN=$cn" -out "$tmp/$name.csr" 2>/dev/null
	openssl x509 -req -in "$tmp/$name.csr" -CA "$tmp/$ca.pem" -CAkey "$tmp/$ca-key.pem" \
		-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 3650 \
		-extfile "$tmp/$name.ext" -out "$tmp/$name.pem" 2>/dev/null
}

# ------------------------------------------------------------------- main
if [ "$tool" = certtool ]; then
	mk_ca=ct_ca mk_server=ct_server
else
	mk_ca=os_ca mk_server=os_server
fi

$mk_ca ca "aiccud test CA"
$mk_server server ca "$1" "$@"
$mk_server wrong ca wrong.test wrong.test
$mk_ca other-ca "unrelated test CA"
$mk_server other other-ca "$1" "$@"

for f in ca ca-key server server-key wrong wrong-key other-ca other-ca-key other other-key; do
	[ -s "$tmp/$f.pem" ] || {
		echo "mkca.sh: $tool failed to produce $f.pem" >&2
		exit 1
	}
	mv -f "$tmp/$f.pem" "$dir/$f.pem"
done
chmod 0644 "$dir/ca.pem" "$dir/server.pem" "$dir/wrong.pem" "$dir/other-ca.pem" "$dir/other.pem"
echo "mkca.sh: $tool wrote test CA and server certificates for: $* into $dir"
