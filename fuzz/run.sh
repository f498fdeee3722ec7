#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and keeps what it learns in fuzz/corpus/.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, all targets)
#
# cargo-fuzz needs nightly compiler flags (-Z sanitizer); with a stable toolchain
# RUSTC_BOOTSTRAP=1 unlocks them. Installs cargo-fuzz from crates.io if missing.
# Exit status: non-zero if any target found a crash (saved under fuzz/artifacts/).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
	targets=(inventory_ini inventory_yaml playbook_load yaml_parse template_render module_output)
fi

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1

failed=()
for target in "${targets[@]}"; do
	mkdir -p "fuzz/corpus/$target"
	printf '==== %s (%s s) ====\n' "$target" "$seconds"
	# -rss_limit_mb and -timeout: a blowup or a hang on one input is a finding too.
	if ! cargo fuzz run "$target" "fuzz/corpus/$target" -- \
		-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1; then
		failed+=("$target")
	fi
done
# Keep the corpus small: only inputs that add coverage.
for target in "${targets[@]}"; do
	cargo fuzz cmin "$target" "fuzz/corpus/$target" >/dev/null 2>&1 || true
done
if ((${#failed[@]})); then
	printf 'fuzz: crashes in: %s (see fuzz/artifacts/)\n' "${failed[*]}" >&2
	exit 1
fi
