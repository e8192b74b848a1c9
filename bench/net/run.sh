#!/usr/bin/env bash
# bench/net/run.sh: TCP throughput and ping latency between the host and a unikernel, against
# the same transfers over a veth pair between two network namespaces, in one run.
#
#   sudo bench/net/run.sh              # 3 rounds of 1 GiB each way
#   ROUNDS=5 SIZE=268435456 sudo bench/net/run.sh
#
# The server is tests/guests/httpd (net/http; /bytes?n=N sends N bytes, /sha256 takes an upload)
# and the client is curl, from Debian. Columns:
#   veth       httpd as a plain Linux process in namespace B, curl in namespace A over a veth pair
#   hvt, spt   httpd as a unikernel on a TAP in namespace A (its own netstack, offloading
#              segmentation and checksums to the TAP), curl in A; hvt with 1 vCPU and with one
#              per host core
# and for hvt the VM exits per frame and per packet of the wire's MTU under that load (morgana
# run --verbose).
# Needs root (namespaces, TAPs), curl and ping.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-1073741824}
tmp=$(mktemp -d)
ns=mgbench$$
cleanup() {
	pkill -f "$tmp/" 2>/dev/null || true
	ip netns del ${ns}a 2>/dev/null || true
	ip netns del ${ns}b 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/morgana" ./cmd/morgana
"$tmp/morgana" build -o "$tmp/httpd" ./tests/guests/httpd
head -c "$SIZE" /dev/urandom >"$tmp/upload"

ip netns add ${ns}a
ip netns add ${ns}b
ip -n ${ns}a link set lo up
ip -n ${ns}b link set lo up
ip link add veth0 netns ${ns}a type veth peer name veth1 netns ${ns}b
ip -n ${ns}a addr add 10.9.0.1/24 dev veth0 && ip -n ${ns}a link set veth0 up
ip -n ${ns}b addr add 10.9.0.2/24 dev veth1 && ip -n ${ns}b link set veth1 up
ip -n ${ns}a tuntap add tap0 mode tap
ip -n ${ns}a addr add 10.9.1.1/24 dev tap0 && ip -n ${ns}a link set tap0 up

# measure NAME ADDR: prints down and up MB/s (medians of ROUNDS) and ping latency.
measure() {
	local name=$1 addr=$2 downs=() ups=()
	for _ in $(seq "$ROUNDS"); do
		downs+=("$(ip netns exec ${ns}a curl -sS -m 600 -o /dev/null -w '%{speed_download}' "http://$addr/bytes?n=$SIZE")")
		ups+=("$(ip netns exec ${ns}a curl -sS -m 600 -o /dev/null -w '%{speed_upload}' -X POST -T "$tmp/upload" "http://$addr/sha256")")
	done
	local down up rtt
	down=$(printf '%s\n' "${downs[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1e6}')
	up=$(printf '%s\n' "${ups[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1e6}')
	rtt=$(ip netns exec ${ns}a ping -q -c 200 -i 0.005 "$addr" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
	printf '%s %s %s %s\n' "$name" "$down" "$up" "$rtt"
}

results=()
ip netns exec ${ns}b "$tmp/morgana" run --mode unix "$tmp/httpd" >/dev/null 2>&1 &
sleep 1
results+=("$(measure veth 10.9.0.2)")
pkill -f "$tmp/morgana run --mode unix" || true

# name, then morgana run flags: hvt with one vCPU and with as many as the host has cores (the
# veth server, a native Go program, uses every core too).
runs=("hvt --mode hvt" "hvt-$(nproc)cpu --mode hvt --cpus $(nproc)" "spt --mode spt")
declare -A exits
for r in "${runs[@]}"; do
	set -- $r
	name=$1
	shift
	log="$tmp/$name.log"
	ip netns exec ${ns}a "$tmp/morgana" run "$@" --verbose --net service=tap0 "$tmp/httpd" --ipv4=10.9.1.2/24 >/dev/null 2>"$log" &
	pid=$!
	sleep 2
	results+=("$(measure "$name" 10.9.1.2)")
	kill -INT $pid 2>/dev/null || true
	wait $pid || true # the TAP is free for the next run only once this one has exited
	# exits per frame, and per packet of the wire's MTU (frames carry up to 64 KiB with offload)
	exits[$name]=$(sed -n 's/.*msg=net .*exits_per_frame=\([0-9.]*\).*exits_per_packet=\([0-9.]*\).*/\1\/\2/p' "$log")
done

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs; $ROUNDS rounds of $SIZE bytes each way (medians)"
printf '%-9s %12s %12s %10s %10s %24s\n' mode "down MB/s" "up MB/s" "vs veth" "ping ms" "exits/frame / /packet"
veth_down=$(echo "${results[0]}" | cut -d' ' -f2)
veth_up=$(echo "${results[0]}" | cut -d' ' -f3)
for r in "${results[@]}"; do
	set -- $r
	ratio=$(awk -v d="$2" -v u="$3" -v vd="$veth_down" -v vu="$veth_up" 'BEGIN {printf "%.2f/%.2f", d/vd, u/vu}')
	e=${exits[$1]:-"-"}
	printf '%-9s %12s %12s %10s %10s %24s\n' "$1" "$2" "$3" "$ratio" "${4:--}" "$e"
done
