#!/bin/sh
# bench/website/run.sh: requests per second and latency of examples/website, measured with wrk
# against two peers in the same run, on the same two files of the website's own site (a 1 KiB
# page and a 100 KiB file):
#
#   nginx      /usr/sbin/nginx, 1 worker, sendfile, serving a copy of examples/website/site
#   net/http   bench/website/nethttp: net/http's http.FileServer over the same copy
#   website    the image of examples/website, run by `morgana run --mode unix` (files embedded)
#
# Then the size of the website's image against a plain net/http binary (bench/website/nethttp).
#
#   bench/website/run.sh                          # 3 rounds of 10 s per server and file: ~4 minutes
#   ROUNDS=5 DURATION=20s CONNECTIONS=64 bench/website/run.sh
#
# Fairness: every server gets CPU 0 alone (taskset; the Go servers also run with GOMAXPROCS=1,
# as nginx runs one worker) and wrk gets CPU 1, when the machine has two CPUs or more. Each server
# writes an access log line per request, as deployed, to /dev/null, except net/http, which has
# none. wrk sends no Accept-Encoding, so every server sends the files as they are. The rounds
# alternate the servers, so that a burst of load on a shared machine hits all of them; the table
# gives the median of the rounds (and the best round's req/s), and each row's ratios to nginx and
# to net/http.
set -eu
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
GO=${GO:-go}
NGINX=${NGINX:-/usr/sbin/nginx}

for c in wrk curl taskset ss "$NGINX"; do
	command -v "$c" >/dev/null || { echo "run.sh: $c is needed" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/morgana-website-bench.XXXXXX")
chmod 755 "$tmp" # nginx's worker runs as another user
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	[ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
	sleep 0.2
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# CPU 0 for the servers, CPU 1 for wrk.
if [ "$(nproc)" -ge 2 ]; then
	server_cpu="taskset -c 0"
	client_cpu="taskset -c 1"
else
	server_cpu=""
	client_cpu=""
fi

free_port() {
	while :; do
		p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
		[ -z "$(ss -Hltn "sport = :$p")" ] && { echo "$p"; return; }
	done
}

wait_http() { # URL
	i=0
	until curl -fso /dev/null "$1"; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { echo "run.sh: $1 does not answer" >&2; exit 1; }
		sleep 0.1
	done
}

echo "# building"
CGO_ENABLED=0 $GO build -trimpath -o "$tmp/morgana" ./cmd/morgana
"$tmp/morgana" build -o "$tmp/website.img" ./examples/website
CGO_ENABLED=0 $GO build -trimpath -o "$tmp/nethttp" ./bench/website/nethttp
CGO_ENABLED=0 $GO build -trimpath -ldflags='-s -w' -o "$tmp/website-stripped" ./examples/website
CGO_ENABLED=0 $GO build -trimpath -ldflags='-s -w' -o "$tmp/nethttp-stripped" ./bench/website/nethttp

# The documents, as the website embeds them (the peers serve the files as they are).
cp -r examples/website/site "$tmp/root"

# nginx: one worker, its own temporary directories, the access log to /dev/null.
nginx_port=$(free_port)
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
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
		listen 127.0.0.1:$nginx_port;
		root $tmp/root;
	}
}
EOF
$server_cpu "$NGINX" -c "$tmp/nginx.conf" -p "$tmp" -e "$tmp/nginx-error.log"

nethttp_port=$(free_port)
GOMAXPROCS=1 $server_cpu "$tmp/nethttp" -addr "127.0.0.1:$nethttp_port" -dir "$tmp/root" 2>"$tmp/nethttp.log" &
pids="$pids $!"

website_port=$(free_port)
$server_cpu "$tmp/morgana" run --mode unix --cpus 1 "$tmp/website.img" --bind 127.0.0.1 --port "$website_port" \
	>/dev/null 2>"$tmp/website.log" &
pids="$pids $!"

set -- nginx "http://127.0.0.1:$nginx_port" net/http "http://127.0.0.1:$nethttp_port" website "http://127.0.0.1:$website_port"
servers="$*"
for f in bench/1k.html bench/100k.bin; do
	set -- $servers
	while [ $# -gt 0 ]; do
		wait_http "$2/$f"
		curl -fso "$tmp/got" "$2/$f"
		cmp -s "$tmp/got" "$tmp/root/$f" || { echo "run.sh: $1 serves another $f" >&2; exit 1; }
		shift 2
	done
done

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs; $($GO version | cut -d' ' -f3); $("$NGINX" -v 2>&1 | cut -d' ' -f3); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $ROUNDS x: ${client_cpu:+$client_cpu }wrk -t1 -c$CONNECTIONS -d$DURATION --latency URL   (servers: ${server_cpu:-all CPUs})"

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

results="$tmp/results"
: >"$results"
round=0
while [ "$round" -lt "$ROUNDS" ]; do
	round=$((round + 1))
	for f in bench/1k.html bench/100k.bin; do
		set -- $servers
		while [ $# -gt 0 ]; do
			$client_cpu wrk -t1 -c"$CONNECTIONS" -d1s "$2/$f" >/dev/null # warm up
			line=$($client_cpu wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$2/$f" | summarize)
			echo "round $round $(basename "$f") $1 $line" | tee -a "$results"
			shift 2
		done
	done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
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
{
	file = $3; server = $4
	if (!(file in seenf)) { seenf[file] = 1; files[++nf] = file }
	if (!(server in seens)) { seens[server] = 1; servers[++ns] = server }
	for (m = 1; m <= 4; m++) { k = file SUBSEP server SUBSEP m; val[k, ++cnt[k]] = $(4 + m) }
}
END {
	printf "%-10s %-9s %10s %10s %9s %9s %9s %10s %12s\n", "file", "server", "req/s", "best req/s", "mean ms", "p50 ms", "p99 ms", "vs nginx", "vs net/http"
	for (a = 1; a <= nf; a++) {
		f = files[a]
		ng = median(f SUBSEP "nginx" SUBSEP 1); nh = median(f SUBSEP "net/http" SUBSEP 1)
		for (b = 1; b <= ns; b++) {
			s = servers[b]
			rps = median(f SUBSEP s SUBSEP 1)
			printf "%-10s %-9s %10.0f %10.0f %9.3f %9.3f %9.3f %9.2fx %11.2fx\n", f, s, rps, best(f SUBSEP s SUBSEP 1),
				median(f SUBSEP s SUBSEP 2), median(f SUBSEP s SUBSEP 3), median(f SUBSEP s SUBSEP 4),
				(ng > 0 ? rps / ng : 0), (nh > 0 ? rps / nh : 0)
		}
	}
	printf "(medians of %d rounds, and the best round; ratios are of the median req/s)\n", cnt[files[1] SUBSEP servers[1] SUBSEP 1]
}' "$results"

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
