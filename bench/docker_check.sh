#!/usr/bin/env bash
# Verify the Docker image end to end (issue #8) and time its start. NOT part of the tests or bench/run:
# it needs a Docker daemon, and skips (exit 0) with a message when there is none.
#
#   bench/docker_check.sh            build, then check: start time x RUNS (+ same-run bare baseline), non-root,
#                                    HEALTHCHECK healthy, a signed webhook decided, SIGTERM -> exit 0, image size
#   RUNS=5 PGPORT=55432 PORT=18080 BASE_PORT=18081 bench/docker_check.sh
#
# Needs the images python:3.11-slim and postgres:16: pulled from Docker Hub when reachable, else build local
# stand-ins first with docker/make-standin-base.sh (see docs/docker.md). Host networking, loopback only: the
# Postgres container listens on 127.0.0.1:$PGPORT, the service on 127.0.0.1:$PORT. Writes
# bench/results/docker_check.json. Leaves no container running (trap).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PGPORT=${PGPORT:-55432}
PORT=${PORT:-18080}
BASE_PORT=${BASE_PORT:-18081}
IMAGE=${IMAGE:-moderation:check}
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
DB=modchk-db; APP=modchk-app
PW=check-$(date +%s)
DATABASE_URL=postgresql://mod:$PW@127.0.0.1:$PGPORT/moderation
SECRET=whsec_$(head -c 32 /dev/urandom | base64)

if ! command -v docker > /dev/null; then echo "docker_check: SKIP: no docker CLI"; exit 0; fi
if ! info_err=$(docker info 2>&1 > /dev/null); then
  echo "docker_check: SKIP: no Docker daemon reachable ($(echo "$info_err" | tail -1))"; exit 0
fi
for img in python:3.11-slim postgres:16; do
  if ! docker image inspect "$img" > /dev/null 2>&1 && ! docker pull -q "$img" > /dev/null 2>&1; then
    echo "docker_check: SKIP: image $img neither present nor pullable; build stand-ins: docker/make-standin-base.sh"
    exit 0
  fi
done

base_pid=
cleanup() {
  docker rm -fv "$APP" "$DB" > /dev/null 2>&1 || true
  [ -n "$base_pid" ] && kill "$base_pid" 2> /dev/null || true
}
trap cleanup EXIT
cleanup

now() { date +%s.%N; }
# Seconds from $1 (a `now`) until GET http://127.0.0.1:$2/readyz answers 200; gives up after 60 s.
wait_ready() {
  local t0=$1 port=$2
  while ! curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$port/readyz"; do
    if (( $(echo "$(now) - $t0 > 60" | bc) )); then echo "timeout"; return 1; fi
    sleep 0.05
  done
  echo "$(now) - $t0" | bc
}
stats() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.2f} {max(v):.2f}")' "$@"; }
run_app() {  # extra docker-run args...
  docker run -d --name "$APP" --network host -e DATABASE_URL="$DATABASE_URL" -e MODERATION_WEBHOOK_SECRET="$SECRET" \
    -e MODERATION_PORT="$PORT" -e MODERATION_HOST=127.0.0.1 "$@" "$IMAGE" > /dev/null
}

echo "docker_check: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "docker_check: building $IMAGE"
t0=$(now)
# The legacy builder parses the Dockerfile in the daemon, so it needs no dockerfile frontend image from Docker Hub.
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build -q --network host -t "$IMAGE" . > /dev/null
build_s=$(echo "$(now) - $t0" | bc)
size_mb=$(( $(docker image inspect --format '{{.Size}}' "$IMAGE") / 1000000 ))
echo "docker_check: build ${build_s}s (cached layers count), image ${size_mb} MB"

docker run -d --name "$DB" --network host -e POSTGRES_USER=mod -e POSTGRES_PASSWORD="$PW" -e POSTGRES_DB=moderation \
  postgres:16 postgres -c port="$PGPORT" -c listen_addresses=127.0.0.1 > /dev/null
for _ in $(seq 100); do
  docker exec "$DB" pg_isready -q -h 127.0.0.1 -p "$PGPORT" -U mod -d moderation && break; sleep 0.2
done
docker exec "$DB" pg_isready -q -h 127.0.0.1 -p "$PGPORT" -U mod -d moderation

# 1. First start on an empty database (creates the schema), then RUNS starts against the existing schema.
t0=$(now); run_app; first_s=$(wait_ready "$t0" "$PORT"); docker rm -f "$APP" > /dev/null
echo "docker_check: first start (empty database, schema created): ${first_s}s"
# Each container start is followed by the same-run baseline: the same `moderation serve` from the host venv, same
# database, no container (interleaved so both see the same load on this shared machine).
starts=(); base=()
base_dir=$(mktemp -d)
for i in $(seq "$RUNS"); do
  t0=$(now); run_app; s=$(wait_ready "$t0" "$PORT"); starts+=("$s"); docker rm -f "$APP" > /dev/null
  b=-
  if [ -x .venv/bin/moderation ]; then
    t0=$(now)
    DATABASE_URL=$DATABASE_URL MODERATION_WEBHOOK_SECRET=$SECRET MODERATION_PORT=$BASE_PORT MODERATION_HOST=127.0.0.1 \
      MODERATION_DATA_DIR=$base_dir .venv/bin/moderation serve > /dev/null 2>&1 &
    base_pid=$!
    b=$(wait_ready "$t0" "$BASE_PORT"); base+=("$b")
    kill -TERM "$base_pid"; wait "$base_pid" || true; base_pid=
  fi
  echo "docker_check: start $i: docker run -> /readyz 200 in ${s}s; bare baseline ${b}s (load $(cut -d' ' -f1 /proc/loadavg))"
done
rm -rf "$base_dir"
read -r start_med start_max <<< "$(stats "${starts[@]}")"
if [ ${#base[@]} -gt 0 ]; then read -r base_med base_max <<< "$(stats "${base[@]}")"; else base_med=null; base_max=null; fi
echo "docker_check: container median ${start_med}s max ${start_max}s; baseline median ${base_med}s max ${base_max}s"

# A last container for the checks below; its HEALTHCHECK status is polled from its start.
t0=$(now); run_app; wait_ready "$t0" "$PORT" > /dev/null

# 2. Non-root.
uid=$(docker exec "$APP" id -u)
user=$(docker image inspect --format '{{.Config.User}}' "$IMAGE")
echo "docker_check: image USER=$user, process uid=$uid"

# 3. HEALTHCHECK turns healthy (seconds from `docker run`; Docker runs the first probe after --interval).
health=starting
for _ in $(seq 240); do
  health=$(docker inspect --format '{{.State.Health.Status}}' "$APP")
  [ "$health" = starting ] || break; sleep 0.25
done
healthy_after=$(printf '%.1f' "$(echo "$(now) - $t0" | bc)")
echo "docker_check: health=$health about ${healthy_after}s after start"

# 4. A signed webhook (the README's Python example) gets a decision.
decision=$(SECRET=$SECRET PORT=$PORT python3 - <<'EOF'
import base64, hashlib, hmac, json, os, time, uuid, urllib.request
key = base64.b64decode(os.environ["SECRET"].removeprefix("whsec_"))
body = json.dumps({"type": "comment.created", "data": {
    "id": f"cms-{uuid.uuid4().hex[:8]}", "article": {"id": "art-1"}, "author": {"id": "u-1", "name": "Ann"},
    "text": "Great reporting, thank you.", "created_at": "2026-11-25T12:00:00Z"}}).encode()
msg_id, ts = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
sig = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
req = urllib.request.Request(f"http://127.0.0.1:{os.environ['PORT']}/v1/webhooks/comments", data=body, headers={
    "Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": ts,
    "webhook-signature": f"v1,{sig}"})
print(json.loads(urllib.request.urlopen(req, timeout=10).read())["comment"]["status"])
EOF
)
echo "docker_check: signed webhook -> status $decision"

# 5. SIGTERM (docker stop, 10 s grace before SIGKILL) exits 0.
t0=$(now); docker stop "$APP" > /dev/null; stop_s=$(echo "$(now) - $t0" | bc)
exit_code=$(docker inspect --format '{{.State.ExitCode}}' "$APP")
echo "docker_check: docker stop took ${stop_s}s, exit code $exit_code"

mkdir -p bench/results
FIRST=$first_s MED=$start_med MAX=$start_max BMED=$base_med BMAX=$base_max STARTS="${starts[*]}" BASE="${base[*]}" \
USER_=$user UID_=$uid HEALTH=$health HEALTHY_AFTER=$healthy_after DECISION=$decision STOP=$stop_s EXIT=$exit_code \
SIZE=$size_mb RUNS=$RUNS python3 - <<'EOF'
import datetime, json, os
e = os.environ
def num(k): return None if e[k] == "null" else round(float(e[k]), 2)
def ratio(a, b): return None if a is None or b is None else round(a / b, 2)
med, mx, bmed, bmax = num("MED"), num("MAX"), num("BMED"), num("BMAX")
rows = [
    {"figure": f"docker run -> /readyz 200, median of {e['RUNS']} (baseline: same serve from the host venv)",
     "ours": med, "baseline": bmed, "ratio": ratio(med, bmed), "goal": "< 5 s", "unit": "s", "met": med < 5},
    {"figure": f"docker run -> /readyz 200, max of {e['RUNS']}", "ours": mx, "baseline": bmax,
     "ratio": ratio(mx, bmax), "goal": "< 5 s", "unit": "s", "met": mx < 5},
    {"figure": "first start on an empty database (schema created)", "ours": num("FIRST"), "baseline": None,
     "ratio": None, "goal": "(informative)", "unit": "s", "met": None},
    {"figure": "HEALTHCHECK status healthy, seconds after start (first probe runs at --interval=10s)",
     "ours": float(e["HEALTHY_AFTER"]), "baseline": None, "ratio": None, "goal": "healthy", "unit": "s",
     "met": e["HEALTH"] == "healthy"},
    {"figure": f"runs as non-root (USER {e['USER_']}, uid {e['UID_']})", "ours": int(e["UID_"]), "baseline": None,
     "ratio": None, "goal": "uid != 0", "unit": "uid", "met": e["UID_"] != "0"},
    {"figure": f"signed webhook decided (status {e['DECISION']})", "ours": 1 if e["DECISION"] else 0,
     "baseline": None, "ratio": None, "goal": "a decision", "unit": "ok",
     "met": e["DECISION"] in ("approved", "pending", "spam", "rejected")},
    {"figure": f"docker stop (SIGTERM) -> exit code {e['EXIT']}", "ours": num("STOP"), "baseline": None,
     "ratio": None, "goal": "exit 0 within the 10 s grace", "unit": "s", "met": e["EXIT"] == "0" and num("STOP") < 10},
    {"figure": "image size", "ours": int(e["SIZE"]), "baseline": None, "ratio": None, "goal": "(informative)",
     "unit": "MB", "met": None},
]
out = {"name": "docker_check", "date": datetime.date.today().isoformat(), "command": "bench/docker_check.sh",
       "rows": rows,
       "notes": (f"starts (s): {e['STARTS']}; baseline starts (s): {e['BASE']}; load average at the end: "
                 f"{open('/proc/loadavg').read().split()[0]} on 2 shared cores. Built FROM the local stand-in "
                 "python:3.11-slim / postgres:16 images when Docker Hub is unreachable (docs/docker.md).")}
json.dump(out, open("bench/results/docker_check.json", "w"), indent=2)
for r in rows:
    print(f"  {r['figure'][:78]:78} {r['ours']!s:>7} {r['unit']:4} baseline {r['baseline']!s:>6}  met={r['met']}")
EOF
echo "docker_check: wrote bench/results/docker_check.json"
