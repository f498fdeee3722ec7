#!/bin/sh
# Prints its arguments one a line and where it runs.
for a in "$@"; do printf 'arg=%s\n' "$a"; done
printf 'pwd=%s\n' "$(pwd)"
[ -n "$FAIL" ] && exit "$FAIL"
exit 0
