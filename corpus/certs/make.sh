#!/bin/sh
# Test certificates for tlschan.
#
# These files are generated ONCE by this script and committed together with it, so that the tests,
# the simulator and the fuzzers always use the same fixed certificates (keys and signatures are
# random, so running the script again produces different bytes: only rerun it on purpose, and
# commit the new output). Uses the openssl command (OpenSSL 3.0 as in Debian 12), whose
# `openssl x509 -req` lacks -not_before/-not_after, hence `openssl ca` with -startdate/-enddate.
#
# Output (in the folder of this script):
#   ca.crt, ca.key          EC P-256 CA "tlschan test CA", self-signed, valid 2025-01-01..2125-01-01
#   server.crt, server.key  EC P-256, CN and SAN DNS mx.tlschan.test, signed by the CA,
#                           valid 2025-01-01..2125-01-01
#   server-chain.crt        server.crt followed by ca.crt
#   other.key               an unrelated EC P-256 key (key-mismatch tests)
#   not-pem.crt             garbage text, not PEM (parse-error tests)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start=20250101000000Z
end=21250101000000Z

cat >"$work/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca

[ test_ca ]
database        = $work/index.txt
serial          = $work/serial
new_certs_dir   = $work/new
default_md      = sha256
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no

[ policy_any ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]

[ v3_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:mx.tlschan.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
EOF
mkdir "$work/new"
: >"$work/index.txt"
echo 1000 >"$work/serial"

genkey() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}

genkey "$here/ca.key"
genkey "$here/server.key"
genkey "$here/other.key"
# Test keys, not secrets: readable by whoever runs the tests.
chmod 644 "$here/ca.key" "$here/server.key" "$here/other.key"

# CA: a request, then self-signed by `openssl ca -selfsign` so that its validity is fixed too.
openssl req -new -config "$work/ca.cnf" -key "$here/ca.key" -subj "/CN=tlschan test CA" \
  -out "$work/ca.csr"
openssl ca -batch -notext -config "$work/ca.cnf" -selfsign -keyfile "$here/ca.key" \
  -extensions v3_ca -startdate "$start" -enddate "$end" -in "$work/ca.csr" -out "$here/ca.crt"

# Server certificate, signed by the CA.
openssl req -new -config "$work/ca.cnf" -key "$here/server.key" -subj "/CN=mx.tlschan.test" \
  -out "$work/server.csr"
openssl ca -batch -notext -config "$work/ca.cnf" -cert "$here/ca.crt" -keyfile "$here/ca.key" \
  -extensions v3_server -startdate "$start" -enddate "$end" -in "$work/server.csr" \
  -out "$here/server.crt"

cat "$here/server.crt" "$here/ca.crt" >"$here/server-chain.crt"

cat >"$here/not-pem.crt" <<'EOF'
This is not a certificate. It is plain text with no PEM armour at all,
used by the tests to check that unparsable certificate files are reported as errors.
MIIB garbage %%% 0123456789abcdef
EOF

openssl verify -CAfile "$here/ca.crt" -attime 1767225600 "$here/server.crt"
