#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what building and testing corio needs on Debian (bookworm or
# later), as root.  Does nothing when everything is already there.
set -euo pipefail
# dnsmasq-base: a real DNS server on 127.0.0.1 for tests/test_dns.c and
# bench/dns_burst.sh; csmith: random C programs for the code generator's
# differential test (those tests skip without them); libclang-rt-dev:
# libFuzzer for tests/fuzz; graphviz: docs/*.svg from their .dot sources
# and deadlock graphs; python3-matplotlib: tools/corio-trace-render draws
# traces with it (its tests and docs/make-pictures.sh).
pkgs=(build-essential cmake pkg-config clang libclang-rt-dev liburing-dev
      libcriterion-dev libhttp-parser-dev libc-ares-dev dnsmasq-base
      python3 python3-clang-14 python3-matplotlib csmith libcsmith-dev
      graphviz valgrind iproute2 procps util-linux)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (or install: ${missing[*]})" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
