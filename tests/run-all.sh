#!/usr/bin/env bash
# stockman's test command: `bash tests/run-all.sh`, as root, on Debian 12.
#
# On a fresh machine it sets everything up, then runs both tiers:
#   1. system packages (openssh-server for tier 1, the fleet's tools, a C compiler)
#   2. tests/fleet/fleet prepare    (root filesystem + offline repo, cached in /var/cache/stockman)
#   3. ansible-core 2.19.14 with the ansible 12.3.0 collections in
#      /var/cache/stockman/ansible-venv (side-by-side comparisons, the module
#      fallback), its sdist's integration targets in /var/cache/stockman/ansible-tests
#      and three wheels (pip, six, packaging) in /var/cache/stockman/wheels for the pip scenario,
#      and check-jsonschema + kubernetes-validate in /var/cache/stockman/validators-venv
#   4. cargo test --workspace --no-fail-fast        (unit tests + tier 1: sshd on 127.0.0.1,
#      and a throwaway PostgreSQL server, tests/postgres/server, for the run history)
#   5. cargo test --test tier2 -- --test-threads=1  (tier 2: the systemd-nspawn fleet,
#      the parity judge and Ansible's own integration targets that pass)
# `--setup-only` stops after 1-3: a machine ready for `cargo test` by hand.
# Both tiers run even if the first fails; the exit status is non-zero if anything failed.
# The fleet and the PostgreSQL server are always taken down on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly CACHE=${STOCKMAN_CACHE:-/var/cache/stockman}
readonly VENV=$CACHE/ansible-venv
readonly FLEET=tests/fleet/fleet
readonly PACKAGES="openssh-server openssh-client gcc libc6-dev pkg-config python3 python3-venv
	debootstrap systemd-container iproute2 apt-utils git util-linux procps sudo tmux time postgresql"
export DEBIAN_FRONTEND=noninteractive

started=$SECONDS
failures=()

section() { printf '\n==== %s ====\n' "$*"; }
die() {
	printf 'run-all: error: %s\n' "$*" >&2
	exit 1
}

install_packages() {
	local missing=() pkg
	for pkg in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		echo "all present"
		return 0
	fi
	echo "installing: ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ansible_version() {
	local v
	v=$("$VENV/bin/ansible-playbook" --version)
	printf '%s\n' "${v%%$'\n'*}"
}

# ansible-core for side-by-side comparisons, with the `ansible` package's bundled
# collections (community.general, ansible.posix, ...) for the module fallback, and
# passlib for the integration targets' password hashes. Pinned so that every
# machine compares against the same Ansible.
readonly ANSIBLE_PINS="ansible-core==2.19.14 ansible==12.3.0 passlib==1.7.4"

venv_complete() {
	[[ -x $VENV/bin/ansible-playbook && -x $VENV/bin/ansible-inventory ]] || return 1
	[[ -d $VENV/lib/python3.11/site-packages/ansible_collections/community/general ]] || return 1
	[[ $(cat "$VENV/.pins" 2>/dev/null) == "$ANSIBLE_PINS" ]]
}

# Another process (a benchmark, a second checkout) may be creating the same venv:
# wait for it instead of racing it.
install_ansible() {
	mkdir -p "$CACHE"
	(
		flock 7
		if venv_complete; then
			echo "present: $(ansible_version)"
			exit 0
		fi
		echo "installing $ANSIBLE_PINS into $VENV"
		python3 -m venv --clear "$VENV"
		# shellcheck disable=SC2086
		"$VENV/bin/pip" install -q $ANSIBLE_PINS
		printf '%s' "$ANSIBLE_PINS" >"$VENV/.pins"
		echo "installed: $(ansible_version)"
	) 7>"$CACHE/.venv.lock"
}

# Runs BUILD... unless STAMP_FILE already says STAMP, then records STAMP. Under
# LOCK: another process (a benchmark, a second checkout) building the same cache
# is waited for instead of raced.
build_once() {
	local lock=$1 stamp_file=$2 stamp=$3
	shift 3
	(
		flock 7
		if [[ $(cat "$stamp_file" 2>/dev/null) == "$stamp" ]]; then
			echo "present: $stamp"
			exit 0
		fi
		"$@"
		printf '%s' "$stamp" >"$stamp_file"
		echo "ready: $stamp"
	) 7>"$lock"
}

# Ansible's integration targets (issue 16) from the sdist of the pinned ansible-core,
# unpacked into $CACHE/ansible-tests; nothing of it is committed.
readonly ANSIBLE_TESTS=$CACHE/ansible-tests
ANSIBLE_CORE_VERSION=${ANSIBLE_PINS%% *}
readonly ANSIBLE_CORE_VERSION=${ANSIBLE_CORE_VERSION#ansible-core==}
unpack_ansible_tests() {
	local version=$ANSIBLE_CORE_VERSION tmp
	tmp=$(mktemp -d)
	"$VENV/bin/pip" download -q --no-deps --no-binary :all: "ansible-core==$version" -d "$tmp"
	rm -rf "$ANSIBLE_TESTS"
	mkdir -p "$ANSIBLE_TESTS"
	# setup_remote_constraints (a dependency of prepare_http_tests) copies
	# ansible-test's constraints.txt from beside the targets.
	tar -xzf "$tmp/ansible_core-$version.tar.gz" -C "$ANSIBLE_TESTS" --strip-components=1 "ansible_core-$version/test/integration" \
		"ansible_core-$version/test/lib/ansible_test/_data/requirements/constraints.txt"
	rm -rf "$tmp"
	echo "unpacked: ansible-core $version's test/integration ($(ls "$ANSIBLE_TESTS/test/integration/targets" | wc -l) targets)"
}
install_ansible_tests() {
	# The stamp changes when what is unpacked does (2: constraints.txt too).
	build_once "$CACHE/.ansible-tests.lock" "$ANSIBLE_TESTS/.version" "$ANSIBLE_CORE_VERSION 2" unpack_ansible_tests
}

# Wheels the fallback's pip scenario installs on fleet hosts (no network
# there): fetched once with the venv's pip, served to the hosts as files.
readonly WHEELS=$CACHE/wheels
readonly WHEEL_PINS="pip==24.3.1 six==1.16.0 packaging==24.2"
download_wheels() {
	rm -rf "$WHEELS"
	mkdir -p "$WHEELS"
	# shellcheck disable=SC2086
	"$VENV/bin/pip" download -q --only-binary :all: --no-deps -d "$WHEELS" $WHEEL_PINS
}
install_wheels() {
	build_once "$CACHE/.wheels.lock" "$WHEELS/.pins" "$WHEEL_PINS" download_wheels
}

# Validators of the manifests in docs/scaling-out/ (issue 20): GitHub Actions and GitLab CI
# files against check-jsonschema's vendored schemas, Kubernetes objects against the
# schemas kubernetes-validate ships; both work offline. Pinned, in their own venv.
readonly VALIDATORS=$CACHE/validators-venv
readonly VALIDATOR_PINS="check-jsonschema==0.39.0 kubernetes-validate==1.37.0"
make_validators_venv() {
	python3 -m venv --clear "$VALIDATORS"
	# shellcheck disable=SC2086
	"$VALIDATORS/bin/pip" install -q $VALIDATOR_PINS
}
install_validators() {
	build_once "$CACHE/.validators.lock" "$VALIDATORS/.pins" "$VALIDATOR_PINS" make_validators_venv
}

# Runs one step; records a failure instead of stopping, so both tiers always report.
step() {
	local name=$1 t0=$SECONDS
	shift
	section "$name"
	if "$@"; then
		printf -- '---- %s: ok (%d s)\n' "$name" $((SECONDS - t0))
	else
		printf -- '---- %s: FAILED (%d s)\n' "$name" $((SECONDS - t0))
		failures+=("$name")
	fi
}

fleet_down() { bash "$FLEET" down >/dev/null 2>&1 || true; }

# The run history's PostgreSQL tests need a real server: one of Debian's package, in a
# temporary directory, on 127.0.0.1 and a socket there. Without it they fail (never skip).
PG_DIR=
postgres_up() {
	PG_DIR=$(mktemp -d /tmp/stockman-pg.XXXXXX)
	chmod 755 "$PG_DIR"
	local url
	url=$(bash tests/postgres/server start "$PG_DIR/server") || return 1
	export STOCKMAN_TEST_POSTGRES_URL=$url
	echo "PostgreSQL for the history tests: ${url%%:*}://...@${url#*@}"
}
postgres_down() {
	[[ -n $PG_DIR ]] || return 0
	bash tests/postgres/server stop "$PG_DIR/server" || true
	rm -rf "$PG_DIR"
}
cleanup() {
	fleet_down
	postgres_down
}

[[ $(id -u) -eq 0 ]] || die "run as root (tier 2 boots containers): sudo bash tests/run-all.sh"
command -v cargo >/dev/null || die "cargo not found; install Rust (https://rustup.rs) and retry"
trap cleanup EXIT

section "System packages"
install_packages
section "Fleet root filesystem and offline repository"
bash "$FLEET" prepare
section "ansible-core (comparisons)"
install_ansible
section "Ansible's integration targets"
install_ansible_tests
install_wheels
section "Manifest validators"
install_validators
if [[ ${1:-} == --setup-only ]]; then
	echo "set up; tests not run (--setup-only)"
	exit 0
fi

step "PostgreSQL server (run history tests)" postgres_up
step "Unit tests and tier 1: cargo test --workspace" cargo test --workspace --no-fail-fast
step "Tier 2: cargo test --test tier2 -- --test-threads=1" cargo test --test tier2 -- --test-threads=1

section "Summary ($((SECONDS - started)) s)"
if ((${#failures[@]} > 0)); then
	printf 'FAILED: %s\n' "${failures[@]}"
	exit 1
fi
echo "all tests passed"
