#!/bin/sh
# A dynamic inventory script in Ansible's protocol, usable with
#   stockman playbook -i inventory-examples/dynamic/inventory.sh site.yml
# `--list` prints every group with its hosts, and every host's variables under
# `_meta.hostvars` (so `--host NAME` is never needed, but is answered too).
# The hosts come from machines.txt beside this script; a real script would ask
# a CMDB or a cloud API instead.
set -eu
data="$(dirname "$0")/machines.txt"

list() {
    awk '
        /^[[:space:]]*(#|$)/ { next }
        {
            host[++n] = $1; addr[$1] = $2
            k = split($3, gs, ",")
            for (i = 1; i <= k; i++) { if (!(gs[i] in members)) order[++ng] = gs[i]; members[gs[i]] = members[gs[i]] sep[gs[i]] "\"" $1 "\""; sep[gs[i]] = ", " }
        }
        END {
            printf "{\n"
            for (i = 1; i <= ng; i++) printf "  \"%s\": {\"hosts\": [%s]},\n", order[i], members[order[i]]
            printf "  \"_meta\": {\"hostvars\": {"
            for (i = 1; i <= n; i++) printf "%s\n    \"%s\": {\"ansible_host\": \"%s\"}", (i > 1 ? "," : ""), host[i], addr[host[i]]
            printf "\n  }}\n}\n"
        }' "$data"
}

host() {
    awk -v name="$1" '$1 == name { printf "{\"ansible_host\": \"%s\"}\n", $2; found = 1 } END { if (!found) print "{}" }' "$data"
}

case "${1:-}" in
    --list) list ;;
    --host) host "$2" ;;
    *) echo "usage: $0 --list | --host NAME" >&2; exit 2 ;;
esac
