#!/usr/bin/env bash
# Runs one of Ansible's script targets (TARGET/runme.sh) INSIDE a fleet host, as
# `ansible-test integration` runs it on its controller: runme.sh calls
# `ansible-playbook` (and `ansible`) itself, mostly against inventories with
# `ansible_connection=local`, so it changes the machine it runs on. That machine
# is a freshly reset fleet host, never the controller.
#
#   script-target.sh TOOL TARGET TESTS VENV [STOCKMAN]
#
# TOOL      `ansible`: the venv's ansible-playbook/ansible run the target;
#           `stockman`: `ansible-playbook` on PATH is a shim running
#           `STOCKMAN playbook`, `ansible` one running `STOCKMAN adhoc`.
# TESTS     ansible-core's unpacked `test/` parent (read-only bind in the host)
# VENV      the Ansible venv (read-only bind), run with the host's python3.11
#           (Debian 12's, as on the controller) through a small venv of its own
# STOCKMAN  the stockman binary (read-only bind)
#
# runme.sh runs in a writable copy of test/integration (it writes beside itself)
# with ansible-test's environment. Its `set -x` trace carries runme.sh:LINE
# (PS4 through BASH_ENV), so the harness can name the line that failed. All
# output goes to stdout, in order; the exit status is runme.sh's.
set -euo pipefail

readonly tool=$1 target=$2 tests=$3 venv=$4 stockman=${5:-}
# Outside /root: the targets' unprivileged users run `ansible_playbook_python`.
readonly work=/opt/ansible-test
readonly integration=$work/test/integration
readonly bin=$work/bin
readonly python_env=$work/python

rm -rf "$work"
mkdir -p "$work/test" "$bin"
cp -a "$tests/test/integration" "$work/test/"
[[ -f $integration/targets/$target/runme.sh ]] || {
	echo "script-target: \`$target\` has no runme.sh" >&2
	exit 2
}

# ansible-test's inventory for a POSIX target on the controller.
printf '[testgroup]\ntesthost ansible_connection=local ansible_pipelining=yes ansible_python_interpreter=/usr/bin/python3\n' \
	>"$integration/inventory"
# ansible-test's default configuration: empty.
: >"$integration/integration.cfg"

# The venv's packages for the host's own Python: the venv's interpreter may be
# one the host lacks (e.g. pyenv's on a developer's machine).
/usr/bin/python3 -m venv --without-pip "$python_env"
readonly python=$python_env/bin/python3
venv_site=$(echo "$venv"/lib/python3*/site-packages)
"$python" -c 'import site, sys; open(site.getsitepackages()[0] + "/ansible-venv.pth", "w").write(sys.argv[1] + "\n")' "$venv_site"
# ansible-test's `source virtualenv.sh` (looked up on PATH) makes a fresh venv
# for the target to install into; the prepared Python serves instead.
printf '# ansible-test virtualenv.sh: the prepared Python serves\n' >"$bin/virtualenv.sh"
# `python` is the controller's Python, as under ansible-test.
ln -s "$python" "$bin/python"
ln -s "$python" "$bin/python3"
case $tool in
ansible)
	for entry in "$venv"/bin/ansible*; do
		printf '#!/bin/sh\nexec %q %q "$@"\n' "$python" "$entry" >"$bin/${entry##*/}"
		chmod +x "$bin/${entry##*/}"
	done
	;;
stockman)
	[[ -x $stockman ]] || {
		echo "script-target: no stockman binary at \`$stockman\`" >&2
		exit 2
	}
	shim() {
		printf '#!/bin/sh\n# the harness'"'"'s %s: stockman %s\nexec %q %s "$@"\n' "$1" "$2" "$stockman" "$2" >"$bin/$1"
		chmod +x "$bin/$1"
	}
	shim ansible-playbook playbook
	shim ansible adhoc
	shim ansible-inventory inventory
	shim ansible-config config
	# Modules stockman has no native one for run from the venv's ansible-core.
	export STOCKMAN_ANSIBLE_PYTHON=$python
	;;
*)
	echo "script-target: TOOL must be ansible or stockman, not \`$tool\`" >&2
	exit 2
	;;
esac

printf 'PS4='"'"'+ ${BASH_SOURCE[0]##*/}:${LINENO}: '"'"'\n' >"$work/trace.sh"
export BASH_ENV=$work/trace.sh

# The environment ansible-test gives a script target.
export PATH=$bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 PAGER=/bin/cat
export ANSIBLE_CONFIG=$integration/integration.cfg
export ANSIBLE_FORCE_COLOR=false ANSIBLE_NOCOLOR=1 NO_COLOR=1
export ANSIBLE_FORCE_HANDLERS=true
export ANSIBLE_HOST_PATTERN_MISMATCH=error
export ANSIBLE_INVENTORY=/dev/null
export ANSIBLE_DEPRECATION_WARNINGS=false
export ANSIBLE_HOST_KEY_CHECKING=false
export ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_LIBRARY=/dev/null
export ANSIBLE_DEVEL_WARNING=false
export ANSIBLE_PYTHON_INTERPRETER=/set/ansible_python_interpreter/in/inventory
export ANSIBLE_TEST_CI=local
export OUTPUT_DIR=$work/output INVENTORY_PATH=$integration/inventory
export ANSIBLE_PLAYBOOK_DIR=$integration/targets/$target
mkdir -p "$OUTPUT_DIR"

cd "$integration/targets/$target"
exec ./runme.sh 2>&1
