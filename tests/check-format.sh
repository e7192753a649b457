#!/bin/sh
# Fails when a C file does not match .clang-format.
cd "$(dirname "$0")/.." || exit 1
find netcfg tunnels supervisor tests -name '*.[ch]' -print0 |
	xargs -0 clang-format --dry-run -Werror
