#!/bin/sh
# bench/website/run.sh: requests per second and latency of examples/website, measured with wrk
# against two peers in the same run, on the same two files of the website's own site (a 1 KiB
# page and a 100 KiB file), then the size of the website's image against a plain net/http binary
# (bench/website/nethttp). The servers:
#
#   nginx              /usr/sbin/nginx, 1 worker, sendfile, serving a copy of examples/website/site
#   net/http           bench/website/nethttp: net/http's http.FileServer over the same copy
#   website-unix       the image of examples/website, `morgana run --mode unix` (host sockets)
#   website-hvt        the same image in a VM (`morgana run`, hvt) on a TAP: its own TCP/IP stack,
#                      frames through the rings to the monitor and the TAP
#   website-hvt-p      the same VM published with `-p HOSTIP:PORT:80`: user-mode networking, the
#                      monitor's netstack between the host socket and the guest's
#   website-hvt-nolog  website-hvt with --access-log off (the log is buffered, 64 KiB or 1 s a
#                      write, as nginx's buffer=; this row shows what it still costs)
#   website-spt        (not in the default list) the image under seccomp, on a TAP
#   floor-host         bench/website/floor natively: net/http answering from memory with the
#                      least a handler can do (no log, no validators), on the host's TCP
#   floor-hvt          the same program as an image in a VM on a TAP, on the image's own stack:
#                      the two floor rows bound what work on the website itself could gain
#
#   sudo bench/website/run.sh                     # 3 rounds of 10 s per server and file: ~8 minutes
#   ROUNDS=1 DURATION=2s sudo bench/website/run.sh
#   ROUNDS=5 DURATION=20s CONNECTIONS=64 SERVERS="nginx website-hvt" sudo bench/website/run.sh
#
# Topology (as root; NETNS=0 or no root gives the loopback variant below): two network namespaces
# made for the run, C for wrk and S for the servers, joined by a veth pair (10.203.0.1 in C,
# 10.203.0.2 in S). nginx, net/http, website-unix and the -p monitor listen in S on 10.203.0.2, so
# wrk reaches them over the veth. Each TAP unikernel gets a TAP of its own in C (tapN,
# 10.203.N.1, the guest 10.203.N.2): the TAP's host side is in wrk's namespace as the veth's is, so
# every server is one virtual link away from wrk. Nothing is configured outside the two
# namespaces, which are deleted at exit with everything in them. Without root (or with NETNS=0)
# every server listens on 127.0.0.1 and the TAP rows are left out; -p works there too.
#
# Fairness: the servers get SERVER_CPUS (taskset; default CPU 0) and wrk CLIENT_CPUS (default CPU
# 1), when the machine has two CPUs or more. Each server gets WORKERS workers (default 1): nginx's
# worker_processes, net/http's GOMAXPROCS, the unikernels' --cpus (so their GOMAXPROCS). A
# unikernel's monitor (its vCPU threads and its device goroutines) shares SERVER_CPUS with it.
# Each server writes an access-log line per request, as deployed, to /dev/null (the unikernels to
# their stdout, which is /dev/null), except net/http, which has none, and website-hvt-nolog. wrk
# sends no Accept-Encoding, so every server sends the files as they are. All servers run from the
# start; the rounds alternate them, so that a burst of load on a shared machine hits all of them.
# The table gives the median of the rounds (and the best round's req/s), each row's ratios to
# nginx and to net/http, and for the VMs their exits per request over the whole run (morgana run
# --verbose; warm-ups included).
#
# Settings (environment): ROUNDS (3), DURATION (wrk -d, 10s), WARMUP (1s), CONNECTIONS (wrk -c,
# 32), THREADS (wrk -t, 1), SERVER_CPUS, CLIENT_CPUS (taskset lists), WORKERS (1), MEM (the VMs'
# --mem, 256M), SERVERS (the list above), NETNS (auto, 0 or 1), GO, NGINX.
# Needs: wrk, curl, taskset, ss, nginx; for the namespaces root and ip; for hvt /dev/kvm.
set -eu
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-1s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-1}
MEM=${MEM:-256M}
NETNS=${NETNS:-auto}
GO=${GO:-go}
NGINX=${NGINX:-/usr/sbin/nginx}
if [ "$(nproc)" -ge 2 ]; then
	SERVER_CPUS=${SERVER_CPUS-0}
	CLIENT_CPUS=${CLIENT_CPUS-1}
else
	SERVER_CPUS=${SERVER_CPUS-}
	CLIENT_CPUS=${CLIENT_CPUS-}
fi

for c in wrk curl taskset ss "$NGINX"; do
	command -v "$c" >/dev/null || { echo "run.sh: $c is needed" >&2; exit 2; }
done
if [ "$NETNS" = auto ]; then
	NETNS=0
	[ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && NETNS=1
fi
kvm=${MORGANA_KVM_DEVICE:-/dev/kvm}
has_kvm=0
[ -r "$kvm" ] && [ -w "$kvm" ] && has_kvm=1
if [ -z "${SERVERS:-}" ]; then
	SERVERS="nginx net/http website-unix"
	if [ "$has_kvm" = 1 ]; then
		[ "$NETNS" = 1 ] && SERVERS="$SERVERS website-hvt"
		SERVERS="$SERVERS website-hvt-p"
		[ "$NETNS" = 1 ] && SERVERS="$SERVERS website-hvt-nolog"
	fi
	SERVERS="$SERVERS floor-host"
	[ "$has_kvm" = 1 ] && [ "$NETNS" = 1 ] && SERVERS="$SERVERS floor-hvt"
fi
case " $SERVERS " in *" nginx "*) ;; *) echo "run.sh: SERVERS must include nginx, the reference" >&2; exit 2 ;; esac
for s in $SERVERS; do
	case $s in
	nginx | net/http | website-unix | website-hvt-p | floor-host) ;;
	website-hvt | website-hvt-nolog | website-spt | floor-hvt)
		[ "$NETNS" = 1 ] || { echo "run.sh: $s needs a TAP, so root and the namespaces (NETNS=1)" >&2; exit 2; } ;;
	*) echo "run.sh: unknown server $s" >&2; exit 2 ;;
	esac
	case $s in website-hvt* | floor-hvt)
		[ "$has_kvm" = 1 ] || { echo "run.sh: $s needs $kvm (read-write)" >&2; exit 2; } ;;
	esac
done

reproduce="ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS THREADS=$THREADS WORKERS=$WORKERS SERVER_CPUS='$SERVER_CPUS' CLIENT_CPUS='$CLIENT_CPUS' MEM=$MEM NETNS=$NETNS SERVERS='$SERVERS' bench/website/run.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/morgana-website-bench.XXXXXX")
chmod 755 "$tmp" # nginx's worker runs as another user
ns=mgweb$$
pids=""
vms="" # "name:pid" of the unikernels run with --verbose
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	[ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
	if [ "$NETNS" = 1 ]; then
		# Whatever still runs in our namespaces is ours.
		for n in ${ns}c ${ns}s; do
			for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
		done
	fi
	sleep 0.3
	if [ "$NETNS" = 1 ]; then
		for n in ${ns}c ${ns}s; do
			for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
			ip netns del "$n" 2>/dev/null || true
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_cpu=${SERVER_CPUS:+taskset -c $SERVER_CPUS}
client_cpu=${CLIENT_CPUS:+taskset -c $CLIENT_CPUS}

if [ "$NETNS" = 1 ]; then
	ip netns add ${ns}c
	ip netns add ${ns}s
	ip -n ${ns}c link set lo up
	ip -n ${ns}s link set lo up
	ip link add vc netns ${ns}c type veth peer name vs netns ${ns}s
	ip -n ${ns}c addr add 10.203.0.1/24 dev vc && ip -n ${ns}c link set vc up
	ip -n ${ns}s addr add 10.203.0.2/24 dev vs && ip -n ${ns}s link set vs up
	in_c="ip netns exec ${ns}c"
	in_s="ip netns exec ${ns}s"
	saddr=10.203.0.2
else
	in_c=""
	in_s=""
	saddr=127.0.0.1
fi

next_port=8000
port() { # sets $port: a free one on the host, any in our fresh namespace
	if [ "$NETNS" = 1 ]; then
		next_port=$((next_port + 1))
		port=$next_port
		return
	fi
	while :; do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
		[ -z "$(ss -Hltn "sport = :$port")" ] && return
	done
}

ntap=0
tap() { # sets $tapdev, $guest, $gw: a new TAP in C
	ntap=$((ntap + 1))
	tapdev=tap$ntap
	gw=10.203.$ntap.1
	guest=10.203.$ntap.2
	ip -n ${ns}c tuntap add $tapdev mode tap
	ip -n ${ns}c addr add $gw/24 dev $tapdev
	ip -n ${ns}c link set $tapdev up
}

wait_http() { # URL
	i=0
	until $in_c curl -fso /dev/null "$1"; do
		i=$((i + 1))
		[ "$i" -lt 150 ] || { echo "run.sh: $1 does not answer" >&2; exit 1; }
		sleep 0.1
	done
}

echo "# building"
CGO_ENABLED=0 $GO build -trimpath -o "$tmp/morgana" ./cmd/morgana
"$tmp/morgana" build -o "$tmp/website.img" ./examples/website
CGO_ENABLED=0 $GO build -trimpath -o "$tmp/nethttp" ./bench/website/nethttp
"$tmp/morgana" build -o "$tmp/floor" ./bench/website/floor
CGO_ENABLED=0 $GO build -trimpath -ldflags='-s -w' -o "$tmp/website-stripped" ./examples/website
CGO_ENABLED=0 $GO build -trimpath -ldflags='-s -w' -o "$tmp/nethttp-stripped" ./bench/website/nethttp

# The documents, as the website embeds them (the peers serve the files as they are).
cp -r examples/website/site "$tmp/root"
# floor's files, for a VM: the block device "files" (package files)
(cd "$tmp/root" && tar cf "$tmp/floor.tar" bench/1k.html bench/100k.bin)

# start NAME: starts server NAME; sets $url (its base URL) and $path (how wrk reaches it).
start() {
	log=$tmp/$(echo "$1" | tr / _).log
	case $1 in
	nginx)
		port
		cat >"$tmp/nginx.conf" <<-EOF
		worker_processes $WORKERS;
		daemon on;
		pid $tmp/nginx.pid;
		error_log $tmp/nginx-error.log warn;
		events { worker_connections 4096; }
		http {
			types { text/html html; text/css css; application/octet-stream bin; }
			access_log /dev/null combined;
			client_body_temp_path $tmp/nginx-body;
			proxy_temp_path $tmp/nginx-proxy;
			fastcgi_temp_path $tmp/nginx-fastcgi;
			uwsgi_temp_path $tmp/nginx-uwsgi;
			scgi_temp_path $tmp/nginx-scgi;
			sendfile on;
			tcp_nopush on;
			keepalive_requests 1000000;
			keepalive_timeout 60s;
			server {
				listen $saddr:$port;
				root $tmp/root;
			}
		}
		EOF
		$in_s $server_cpu "$NGINX" -c "$tmp/nginx.conf" -p "$tmp" -e "$tmp/nginx-error.log"
		url=http://$saddr:$port
		path="nginx $("$NGINX" -v 2>&1 | cut -d/ -f2), $WORKERS worker(s), sendfile"
		;;
	net/http)
		port
		$in_s $server_cpu env GOMAXPROCS="$WORKERS" "$tmp/nethttp" -addr "$saddr:$port" -dir "$tmp/root" 2>"$log" &
		pids="$pids $!"
		url=http://$saddr:$port
		path="bench/website/nethttp, GOMAXPROCS=$WORKERS"
		;;
	website-unix)
		port
		$in_s $server_cpu "$tmp/morgana" run --mode unix --cpus "$WORKERS" "$tmp/website.img" \
			--bind "$saddr" --port "$port" >/dev/null 2>"$log" &
		pids="$pids $!"
		url=http://$saddr:$port
		path="morgana run --mode unix --cpus $WORKERS (host sockets)"
		;;
	website-hvt | website-hvt-nolog | website-spt)
		tap
		mode=hvt extra=""
		[ "$1" = website-spt ] && mode=spt
		[ "$1" = website-hvt-nolog ] && extra="--access-log off"
		# shellcheck disable=SC2086
		$in_c $server_cpu "$tmp/morgana" run --verbose --mode $mode --cpus "$WORKERS" --mem "$MEM" \
			--net service=$tapdev "$tmp/website.img" $extra --ipv4="$guest/24" --ipv4-gateway="$gw" \
			>/dev/null 2>"$log" &
		pids="$pids $!"
		[ $mode = hvt ] && vms="$vms $1:$!"
		url=http://$guest
		path="morgana run --mode $mode --cpus $WORKERS --mem $MEM --net service=$tapdev${extra:+ ... $extra} (TAP)"
		;;
	floor-host)
		port
		(cd "$tmp/root" && exec $in_s $server_cpu env GOMAXPROCS="$WORKERS" "$tmp/floor" -addr "$saddr:$port" \
			bench/1k.html bench/100k.bin 2>"$log") &
		pids="$pids $!"
		url=http://$saddr:$port
		path="bench/website/floor, GOMAXPROCS=$WORKERS"
		;;
	floor-hvt)
		tap
		$in_c $server_cpu "$tmp/morgana" run --verbose --cpus "$WORKERS" --mem "$MEM" --net service=$tapdev \
			--block files="$tmp/floor.tar":ro "$tmp/floor" -addr :80 --ipv4="$guest/24" --ipv4-gateway="$gw" \
			bench/1k.html bench/100k.bin >/dev/null 2>"$log" &
		pids="$pids $!"
		vms="$vms $1:$!"
		url=http://$guest
		path="morgana run --cpus $WORKERS --mem $MEM --net service=$tapdev --block files=floor.tar:ro bench/website/floor (TAP)"
		;;
	website-hvt-p)
		port
		$in_s $server_cpu "$tmp/morgana" run --verbose --cpus "$WORKERS" --mem "$MEM" -p "$saddr:$port:80" \
			"$tmp/website.img" >/dev/null 2>"$log" &
		pids="$pids $!"
		vms="$vms $1:$!"
		url=http://$saddr:$port
		path="morgana run --cpus $WORKERS --mem $MEM -p $saddr:$port:80 (user-mode networking)"
		;;
	esac
	if [ "$NETNS" = 1 ]; then
		case $1 in
		website-hvt* | website-spt | floor-hvt) [ "$1" = website-hvt-p ] && path="$path, in S over the veth" || path="$path, in C" ;;
		*) path="$path, in S over the veth" ;;
		esac
	fi
}

servers=""
: >"$tmp/paths"
for s in $SERVERS; do
	start "$s"
	servers="$servers $s $url"
	printf '%-18s %s\n' "$s" "$path" >>"$tmp/paths"
done
for f in bench/1k.html bench/100k.bin; do
	set -- $servers
	while [ $# -gt 0 ]; do
		wait_http "$2/$f"
		$in_c curl -fso "$tmp/got" "$2/$f"
		cmp -s "$tmp/got" "$tmp/root/$f" || { echo "run.sh: $1 serves another $f" >&2; exit 1; }
		shift 2
	done
done

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs; $($GO version | cut -d' ' -f3); $("$NGINX" -v 2>&1 | cut -d' ' -f3); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$NETNS" = 1 ]; then
	echo "# wrk in namespace C; servers in S behind a veth pair, or on TAPs in C (see bench/website/run.sh)"
else
	echo "# loopback: every server on 127.0.0.1 (no root: no namespaces, no TAP)"
fi
echo "# $ROUNDS x: ${client_cpu:+$client_cpu }wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency URL   (after a $WARMUP warm-up; servers: ${server_cpu:-all CPUs})"
echo "# reproduce: $reproduce"
sed 's/^/#   /' "$tmp/paths"

# wrk's summary, one line: req/s, then the mean, 50th and 99th percentile latencies in ms.
summarize() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
		return v
	}
	$1 == "Latency" && mean == "" { mean = ms($2) }
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	$1 == "Requests/sec:" { rps = $2 }
	/Non-2xx|Socket errors/ { errors = errors " " $0 }
	END { printf "%s %s %s %s%s\n", rps, mean, p50, p99, (errors != "" ? " #" errors : "") }'
}
# requests FILE: how many requests wrk's output FILE counts
requests() { awk '/requests in/ {print $1}' "$1"; }

results="$tmp/results"
: >"$results"
: >"$tmp/requests"
round=0
while [ "$round" -lt "$ROUNDS" ]; do
	round=$((round + 1))
	for f in bench/1k.html bench/100k.bin; do
		set -- $servers
		while [ $# -gt 0 ]; do
			$in_c $client_cpu wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$2/$f" >"$tmp/wrk.out"
			echo "$1 $(requests "$tmp/wrk.out")" >>"$tmp/requests"
			$in_c $client_cpu wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2/$f" >"$tmp/wrk.out"
			echo "$1 $(requests "$tmp/wrk.out")" >>"$tmp/requests"
			line=$(summarize <"$tmp/wrk.out")
			echo "round $round $(basename "$f") $1 $line" | tee -a "$results"
			shift 2
		done
	done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The VMs' exits per request: stop them (SIGTERM, a graceful shutdown), read --verbose's counts.
: >"$tmp/exits"
for v in $vms; do
	name=${v%%:*} pid=${v#*:}
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	exits=$(sed -n 's/.*msg=exit .* exits=\([0-9]*\).*/\1/p' "$tmp/$name.log" | tail -1)
	mem=$(sed -n 's/.*msg=exit .* mem_used=\([0-9]*[KMG]*\).*/\1/p' "$tmp/$name.log" | tail -1)
	reqs=$(awk -v s="$name" '$1 == s {n += $2} END {print n + 0}' "$tmp/requests")
	echo "$name ${exits:-0} $reqs ${mem:--}" >>"$tmp/exits"
done
echo

awk '
function median(key,   n, i, j, v, t) {
	n = cnt[key]
	for (i = 1; i <= n; i++) v[i] = val[key, i]
	for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j+1] = v[j]; v[j+1] = t }
	return n % 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
}
function best(key,   i, m) {
	for (i = 1; i <= cnt[key]; i++) if (val[key, i] + 0 > m) m = val[key, i] + 0
	return m
}
FILENAME ~ /exits$/ { exits[$1] = ($3 > 0 ? sprintf("%.2f", $2 / $3) : "-"); memused[$1] = $4; next }
{
	file = $3; server = $4
	if (!(file in seenf)) { seenf[file] = 1; files[++nf] = file }
	if (!(server in seens)) { seens[server] = 1; servers[++ns] = server }
	for (m = 1; m <= 4; m++) { k = file SUBSEP server SUBSEP m; val[k, ++cnt[k]] = $(4 + m) }
}
END {
	printf "| %-10s | %-17s | %8s | %10s | %8s | %8s | %8s | %8s | %11s | %9s |\n", "file", "server", "req/s", "best req/s", "mean ms", "p50 ms", "p99 ms", "vs nginx", "vs net/http", "exits/req"
	printf "|------------|-------------------|---------:|-----------:|---------:|---------:|---------:|---------:|------------:|----------:|\n"
	for (a = 1; a <= nf; a++) {
		f = files[a]
		ng = median(f SUBSEP "nginx" SUBSEP 1); nh = median(f SUBSEP "net/http" SUBSEP 1)
		for (b = 1; b <= ns; b++) {
			s = servers[b]
			rps = median(f SUBSEP s SUBSEP 1)
			printf "| %-10s | %-17s | %8.0f | %10.0f | %8.3f | %8.3f | %8.3f | %7.2fx | %11s | %9s |\n", f, s, rps, best(f SUBSEP s SUBSEP 1),
				median(f SUBSEP s SUBSEP 2), median(f SUBSEP s SUBSEP 3), median(f SUBSEP s SUBSEP 4),
				(ng > 0 ? rps / ng : 0), (nh > 0 ? sprintf("%.2fx", rps / nh) : "-"), (s in exits ? exits[s] : "-")
		}
	}
	printf "(medians of %d rounds, and the best round; ratios are of the median req/s; exits/req: the VM'"'"'s\n", cnt[files[1] SUBSEP servers[1] SUBSEP 1]
	printf "exits over its whole run, boot and warm-ups included, per request it served)\n"
	for (s in memused) printf "%s: memory used at exit %s\n", s, memused[s]
}' "$tmp/exits" "$results"

echo
size() { stat -c %s "$1"; }
awk -v w="$(size "$tmp/website.img")" -v n="$(size "$tmp/nethttp")" \
	-v ws="$(size "$tmp/website-stripped")" -v nss="$(size "$tmp/nethttp-stripped")" \
	-v site="$(du -sb examples/website/site | cut -f1)" 'BEGIN {
	printf "%-44s %12s %12s %8s\n", "binary (CGO_ENABLED=0, -trimpath)", "website", "net/http", "ratio"
	printf "%-44s %12d %12d %7.2fx\n", "as built (morgana build / go build)", w, n, w / n
	printf "%-44s %12d %12d %7.2fx\n", "stripped (-ldflags=\"-s -w\")", ws, nss, ws / nss
	printf "(the website embeds its site: %d bytes, compressed variants included)\n", site
}'
echo
echo "# reproduce: $reproduce"
