#!/bin/sh
# bench/run.sh: runs morgana's comparative benchmarks (package bench) and prints, per benchmark,
# the median over the rounds of each metric natively and in hvt, and their ratio.
#
#   bench/run.sh                        # 10 rounds of 1s per benchmark: about 2 minutes on 2 cores
#   ROUNDS=20 BENCHTIME=2s bench/run.sh
#   BENCH=Boot bench/run.sh             # a -bench regexp
#   bench/run.sh --report FILE          # only the ratio table, of a saved output
#
# The test binary is built once and run ROUNDS times with -count 1, rather than once with
# -count ROUNDS, so that native and hvt alternate: on a shared machine a burst of load then
# hits both columns instead of one. The output is that of `go test -count ROUNDS` all the same
# (benchstat reads it); it is kept in $OUT (default: a temporary file, named at the end).
# Exit status: 0 unless a round failed (the ratios of what ran are printed all the same).
set -u
cd "$(dirname "$0")" || exit 1

ROUNDS=${ROUNDS:-10}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
OUT=${OUT:-}
GO=${GO:-go}

status=0
if [ "${1:-}" = --report ]; then
	[ -r "${2:-}" ] || { echo "usage: $0 [--report FILE]" >&2; exit 2; }
	OUT=$2
else
	[ -n "$OUT" ] || OUT=$(mktemp "${TMPDIR:-/tmp}/morgana-bench.XXXXXX") || exit 1
	bin=$(mktemp -d "${TMPDIR:-/tmp}/morgana-bench-bin.XXXXXX") || exit 1
	trap 'rm -rf "$bin"' EXIT
	$GO test -c -o "$bin/bench.test" . || exit 1

	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $($GO version) on $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs"
	echo "# KVM: $(ls /sys/module 2>/dev/null | grep -E '^kvm_(intel|amd|pvm)$' | tr '\n' ' ')  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $ROUNDS x: (cd bench && bench.test -test.run '^\$' -test.bench '$BENCH' -test.benchtime $BENCHTIME -test.count 1)"
	: >"$OUT"
	i=0
	while [ "$i" -lt "$ROUNDS" ]; do
		i=$((i + 1))
		"$bin/bench.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1 >"$bin/round" 2>&1 || status=1
		# The header lines (goos:, pkg: ...) once; every round's results.
		if [ "$i" -eq 1 ]; then cat "$bin/round"; else grep -v -E '^(goos|goarch|pkg|cpu):' "$bin/round"; fi | grep -v -E '^(PASS|ok )' | tee -a "$OUT"
	done
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	[ "$status" -eq 0 ] || echo "# FAIL: at least one round failed (see above)"
	echo
fi

# Lines look like: BenchmarkBoot/hvt-2  40  27123456 ns/op  26.9 ms/boot-median  189 exits/boot
awk '
function fmt(v) { return v == "" ? "-" : (v >= 1000 ? sprintf("%.0f", v) : sprintf("%.4g", v)) }
function median(key,   n, i, j, v, t) {
	n = cnt[key]
	for (i = 1; i <= n; i++) v[i] = val[key, i]
	for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j+1] = v[j]; v[j+1] = t }
	return n % 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
}
# (A failed benchmark prints its name and then "--- FAIL": no iteration count, skipped.)
/^Benchmark[^ \t]*\/(native|hvt)(-[0-9]+)?[ \t]/ && $2 ~ /^[0-9]+$/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	mode = name; sub(/.*\//, "", mode); sub(/\/[^\/]*$/, "", name)
	for (i = 3; i + 1 <= NF; i += 2) {
		unit = $(i+1)
		key = name SUBSEP unit SUBSEP mode
		val[key, ++cnt[key]] = $i
		if (!(name in nunits)) names[++nnames] = name
		if (!((name, unit) in seen)) { seen[name, unit] = 1; units[name, ++nunits[name]] = unit }
	}
}
END {
	printf "%-18s %-16s %14s %14s %9s %s\n", "benchmark", "unit", "native", "hvt", "hvt/native", "(medians of n runs)"
	for (a = 1; a <= nnames; a++) for (k = 1; k <= nunits[names[a]]; k++) {
		name = names[a]; unit = units[name, k]
		kn = name SUBSEP unit SUBSEP "native"; kh = name SUBSEP unit SUBSEP "hvt"
		nat = (kn in cnt) ? median(kn) : ""; hvt = (kh in cnt) ? median(kh) : ""
		ratio = (nat != "" && hvt != "" && nat + 0 != 0) ? sprintf("%.2fx", hvt / nat) : "-"
		printf "%-18s %-16s %14s %14s %9s  n=%d/%d\n", name, unit, fmt(nat), fmt(hvt), ratio, cnt[kn], cnt[kh]
	}
}' "$OUT"
echo
echo "# raw output: $OUT"
exit $status
