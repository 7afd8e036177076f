#!/usr/bin/env bash
# Valine benchmark harness (SPEC §15, issue 12): one command, one line per figure.
#
#   bench/run.sh                                                     # SQLite
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bench/run.sh   # + PostgreSQL
#
# Figure lines go to stdout:  name backend value unit comparison…
# Progress goes to stderr, prefixed with '#'. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-5}           # seconds per wrk phase (fixed)
REPEAT=${BENCH_REPEAT:-3}               # wrk phases are repeated; the median is reported
CONNS=64                                # connections for the read routes (SPEC §15)
LOGIN_CONNS=${BENCH_LOGIN_CONNS:-8}     # connections of the login flood
PROFILES=${BENCH_PROFILES:-300}         # seeded verified users with public profiles
INGEST_BATCHES=${BENCH_INGEST_BATCHES:-3}
INGEST_SIZE=50000                       # results per ingest request (the route's maximum)
FLAKY_RESULTS=${BENCH_FLAKY_RESULTS:-1000000}
FIGURES_FILE=${BENCH_FIGURES_FILE:-/dev/null}

log() { echo "# $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y wrk >/dev/null; }
for tool in curl python3 awk; do command -v "$tool" >/dev/null || die "$tool is required"; done

# BENCH_TREE=worktree (default): build the working tree in place, as `cargo build` would.
# BENCH_TREE=head: build the committed HEAD only (exported with `git archive` into
# target/bench-src, own target dir target/bench-target), so engineers' uncommitted edits
# neither enter the measurement nor break it, and their target/release is left alone.
TREE=${BENCH_TREE:-worktree}
case $TREE in
  worktree) SRC=$ROOT; TARGET=${CARGO_TARGET_DIR:-$ROOT/target} ;;
  head)
    SRC=$ROOT/target/bench-src TARGET=$ROOT/target/bench-target
    # Re-extract only when the committed sources changed (keeps the rebuild incremental).
    COMMIT=$(git rev-parse --short HEAD)
    stamp=$(git ls-tree "$COMMIT" Cargo.toml Cargo.lock crates | sha1sum | cut -c1-40)
    if [[ $(cat "$SRC/.bench-stamp" 2>/dev/null) != "$stamp" ]]; then
      rm -rf "$SRC" && mkdir -p "$SRC"
      git archive "$COMMIT" Cargo.toml Cargo.lock crates | tar -x -C "$SRC"
      echo "$stamp" >"$SRC/.bench-stamp"
    fi ;;
  *) die "BENCH_TREE must be worktree or head" ;;
esac
log "building release binary and bench examples ($TREE)"
(
  cd "$SRC"
  export CARGO_TARGET_DIR=$TARGET
  cargo build --release -q -p valine
  cargo build --release -q -p valine-server --example flaky_bench
  cargo build --release -q -p valine-prisma --example parse_bench
)

WORK=$(mktemp -d /tmp/valine-bench.XXXXXX)
SERVER_PID=""
BG_PIDS=()
PG_DB=""
cleanup() {
  set +e
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  if [[ -n $PG_DB ]]; then
    psql -q "$BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Private copies: a concurrent build elsewhere must not swap the binaries mid-run.
mkdir -p "$WORK/bin"
cp "$TARGET/release/valine" "$TARGET/release/examples/flaky_bench" \
  "$TARGET/release/examples/parse_bench" "$WORK/bin/"
BIN=$WORK/bin/valine FLAKY_BENCH=$WORK/bin/flaky_bench PARSE_BENCH=$WORK/bin/parse_bench

started_all=$(date +%s)
if [[ $TREE == head ]]; then built="HEAD $COMMIT (committed sources only)"; else
  built="working tree at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo ' + uncommitted changes')"; fi
log "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load: $(cut -d' ' -f1-3 /proc/loadavg); built: $built"

fig() { echo "$*" | tee -a "$FIGURES_FILE"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) exit 1; print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
judge() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == "<=") ? (v <= t) : (v >= t); print (ok ? "PASS" : "MISS")}'; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Lua scripts: each request script gets the shared summary reporter appended.
for s in bearer paths login; do cat "$ROOT/bench/lua/$s.lua" "$ROOT/bench/lua/report.lua" >"$WORK/$s.lua"; done
cp "$ROOT/bench/lua/report.lua" "$WORK/plain.lua"

# wrk_run CONNS THREADS SECONDS PATH SCRIPT [ARG] → "rps p50_ms p99_ms"; any non-2xx/3xx
# response or socket error fails the run (a refused request is not a measurement).
wrk_run() {
  local conns=$1 threads=$2 secs=$3 path=$4 script=$5 arg=${6:-} out line
  out=$(wrk -c"$conns" -t"$threads" -d"${secs}s" --timeout 10s -s "$WORK/$script.lua" \
    "$URL$path" ${arg:+-- "$arg"}) || die "wrk failed on $path"
  line=$(grep '^WRK ' <<<"$out") || die "no wrk summary for $path: $out"
  parse_wrk "$path" "$line"
}
parse_wrk() {
  local path=$1 line=$2 non2xx sockerr
  non2xx=$(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$line")
  sockerr=$(sed -E 's/.*sockerr=([0-9]+).*/\1/' <<<"$line")
  [[ $non2xx == 0 && $sockerr == 0 ]] || die "$path: $non2xx non-2xx responses, $sockerr socket errors ($line)"
  sed -E 's/.*requests=([0-9]+) duration_us=([0-9]+) p50_us=([0-9]+) p99_us=([0-9]+).*/\1 \2 \3 \4/' <<<"$line" |
    awk '{printf "%.0f %.2f %.2f\n", $1 / ($2 / 1e6), $3 / 1000, $4 / 1000}'
}

start_server() { # BACKEND DATABASE_URL
  local data=$WORK/data-$1 port
  mkdir -p "$data"
  port=$(free_port)
  URL=http://127.0.0.1:$port
  export DATA_DIR=$data DATABASE_URL=$2
  # cwd = the data dir, so no stray .env is read.
  (cd "$data" && exec env HOST=127.0.0.1 PORT="$port" \
    RATE_LIMIT_READ=100000000/3600 RATE_LIMIT_WRITE=100000000/3600 RATE_LIMIT_AUTH=100000000/900 \
    ACCESS_TOKEN_TTL_SECONDS=7200 REQUEST_TIMEOUT_SECONDS=120 "$BIN" serve) >"$data/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "$URL/health" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$data/server.log" >&2; die "server exited"; }
    sleep 0.25
  done
  die "server did not answer /health within 60 s"
}
stop_server() {
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

bench_backend() { # BACKEND DATABASE_URL
  local be=$1 t0
  t0=$(date +%s)
  log "[$be] starting server"
  start_server "$be" "$2"

  log "[$be] seeding $PROFILES verified users with public profiles over HTTP"
  python3 "$ROOT/bench/seed.py" "$URL" "$DATA_DIR/outbox" "$PROFILES" "$WORK"

  # Bare route vs authenticated route, interleaved so background load hits both alike.
  local r health=() me=() res
  log "[$be] GET /health and GET /auth/me: $REPEAT × ${DURATION}s each at $CONNS connections"
  for ((r = 0; r < REPEAT; r++)); do
    health+=("$(wrk_run $CONNS 2 "$DURATION" /health plain)")
    me+=("$(wrk_run $CONNS 2 "$DURATION" /auth/me bearer "$WORK/token")")
  done
  local h_rps me_rps me_p50 me_p99
  h_rps=$(printf '%s\n' "${health[@]}" | awk '{print $1}' | median)
  me_rps=$(printf '%s\n' "${me[@]}" | awk '{print $1}' | median)
  me_p50=$(printf '%s\n' "${me[@]}" | awk '{print $2}' | median)
  me_p99=$(printf '%s\n' "${me[@]}" | awk '{print $3}' | median)
  local ratio
  ratio=$(calc %.2f "$me_rps / $h_rps")
  fig "health_rps $be $h_rps req/s ceiling (bare route, ${CONNS} conns)"
  fig "auth_me_rps $be $me_rps req/s ceiling=health_rps $h_rps ratio=$ratio target>=0.50 $(judge "$ratio" '>=' 0.5)"
  fig "auth_me_p50 $be $me_p50 ms (${CONNS} conns)"
  fig "auth_me_p99 $be $me_p99 ms target<=10 $(judge "$me_p99" '<=' 10)"

  local prof=() search=()
  printf '/search?query=director\n/search?query=actor&location=berlin\n/search?query=festival\n/search?role=writer\n/search?query=drama%%20stage\n' >"$WORK/search-paths"
  log "[$be] GET /profiles/{vanityUrl} and GET /search: $REPEAT × ${DURATION}s each"
  for ((r = 0; r < REPEAT; r++)); do
    prof+=("$(wrk_run $CONNS 2 "$DURATION" / paths "$WORK/paths")")
    search+=("$(wrk_run $CONNS 2 "$DURATION" / paths "$WORK/search-paths")")
  done
  res=$(printf '%s\n' "${prof[@]}" | awk '{print $1}' | median)
  fig "profile_rps $be $res req/s ceiling=health_rps $h_rps ratio=$(calc %.2f "$res / $h_rps") (anonymous, $PROFILES profiles rotated)"
  res=$(printf '%s\n' "${search[@]}" | awk '{print $1}' | median)
  fig "search_rps $be $res req/s ceiling=health_rps $h_rps ratio=$(calc %.2f "$res / $h_rps") (5 queries rotated, $PROFILES public profiles)"

  # Login alone, then /auth/me during a login flood (login wrk starts first, ends last).
  local login=() flood=() login_in_flood=() out
  log "[$be] POST /auth/login ($LOGIN_CONNS conns), then GET /auth/me during a login flood: $REPEAT × ${DURATION}s"
  for ((r = 0; r < REPEAT; r++)); do
    login+=("$(wrk_run "$LOGIN_CONNS" 1 "$DURATION" /auth/login login "$WORK/logins")")
    wrk -c"$LOGIN_CONNS" -t1 -d"$((DURATION + 2))s" --timeout 10s -s "$WORK/login.lua" \
      "$URL/auth/login" -- "$WORK/logins" >"$WORK/flood.out" &
    BG_PIDS+=($!)
    sleep 1
    flood+=("$(wrk_run $CONNS 2 "$DURATION" /auth/me bearer "$WORK/token")")
    wait "${BG_PIDS[-1]}" || die "login flood wrk failed"
    unset 'BG_PIDS[-1]'
    out=$(grep '^WRK ' "$WORK/flood.out") || die "no wrk summary for the login flood"
    login_in_flood+=("$(parse_wrk /auth/login "$out")")
  done
  local l_rps f_p99 f_rps
  l_rps=$(printf '%s\n' "${login[@]}" | awk '{print $1}' | median)
  fig "login_rps $be $l_rps req/s ($LOGIN_CONNS conns; Argon2id m=19456 KiB t=2, PASSWORD_HASH_CONCURRENCY default)"
  fig "login_p99 $be $(printf '%s\n' "${login[@]}" | awk '{print $3}' | median) ms ($LOGIN_CONNS conns)"
  f_p99=$(printf '%s\n' "${flood[@]}" | awk '{print $3}' | median)
  f_rps=$(printf '%s\n' "${flood[@]}" | awk '{print $1}' | median)
  fig "auth_me_p99_login_flood $be $f_p99 ms idle=auth_me_p99 $me_p99 ratio=$(calc %.2f "$f_p99 / $me_p99") target<=3.0 $(judge "$(calc %.4f "$f_p99 / $me_p99")" '<=' 3)"
  fig "auth_me_rps_login_flood $be $f_rps req/s idle=auth_me_rps $me_rps ratio=$(calc %.2f "$f_rps / $me_rps") (login rps meanwhile $(printf '%s\n' "${login_in_flood[@]}" | awk '{print $1}' | median))"

  # Ingestion over HTTP with an API key from the CLI (same DATA_DIR/DATABASE_URL env).
  local key secs code t
  key=$(cd "$DATA_DIR" && "$BIN" api-key create --name bench --scope all 2>/dev/null | tail -n1)
  [[ $key == vk_* ]] || die "api-key create did not print a key"
  for fmt in json junit; do
    secs=0
    for ((b = 0; b < INGEST_BATCHES; b++)); do
      if [[ $fmt == json ]]; then
        read -r code t < <(curl -sS -o "$WORK/ingest.out" -w '%{http_code} %{time_total}\n' \
          -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
          --data-binary @"$WORK/json-$b.json" "$URL/internal/tests/ingest")
      else
        read -r code t < <(curl -sS -o "$WORK/ingest.out" -w '%{http_code} %{time_total}\n' \
          -H "Authorization: Bearer $key" -H 'Content-Type: application/xml' \
          --data-binary @"$WORK/junit-$b.xml" \
          "$URL/internal/tests/ingest?runId=bench-junit-$b&commitSha=k$b&branch=main")
      fi
      [[ $code == 201 ]] || die "ingest $fmt batch $b: HTTP $code $(head -c 300 "$WORK/ingest.out")"
      secs=$(calc %.6f "$secs + $t")
    done
    res=$(calc %.0f "$INGEST_BATCHES * $INGEST_SIZE / $secs")
    fig "ingest_${fmt}_rate $be $res results/s target>=50000 (PostgreSQL target) $(judge "$res" '>=' 50000) ($INGEST_BATCHES requests of $INGEST_SIZE results over HTTP, release server)"
  done
  stop_server
  log "[$be] HTTP phases took $(($(date +%s) - t0)) s"

  # flaky-candidates at scale: the flaky_bench example (its own in-process server on
  # loopback, history filled in-process with 30 days of timestamps, queries over HTTP).
  log "[$be] flaky_bench with $FLAKY_RESULTS stored results"
  t0=$(date +%s)
  if [[ $be == postgres ]]; then
    out=$(cd "$WORK" && BENCH_RESULTS=$FLAKY_RESULTS BENCH_DATABASE_URL=$BENCH_DATABASE_URL "$FLAKY_BENCH")
  else
    out=$(cd "$WORK" && env -u BENCH_DATABASE_URL BENCH_RESULTS=$FLAKY_RESULTS "$FLAKY_BENCH")
  fi
  grep -E 'history fill' <<<"$out" | sed 's/^/# /' >&2 || true
  local label query p50 mx n stored
  while read -r label query; do
    line=$(grep -F "flaky-candidates ($label) at" <<<"$out") || die "flaky_bench printed no '$label' line: $out"
    stored=$(sed -E 's/.* at ([0-9]+) results.*/\1/' <<<"$line")
    p50=$(sed -E 's/.*p50 ([0-9.]+) ms.*/\1/' <<<"$line")
    mx=$(sed -E 's/.*max ([0-9.]+) ms.*/\1/' <<<"$line")
    n=$(sed -E 's/.*, ([0-9]+) candidates.*/\1/' <<<"$line")
    if [[ $label == default ]]; then
      fig "flaky_candidates_p50 $be $p50 ms target<=200 $(judge "$p50" '<=' 200) ($query; $stored results; max $mx ms; $n candidates; flaky_bench: in-process server, HTTP query)"
    else
      fig "flaky_candidates_p50_${label//[=]/_} $be $p50 ms ($query; $stored results; max $mx ms; $n candidates)"
    fi
  done <<'EOF'
default minRuns=10&windowDays=30
branch=main branch=main
windowDays=7 windowDays=7
EOF
  log "[$be] flaky_bench took $(($(date +%s) - t0)) s"
}

log "generating $INGEST_BATCHES JSON and $INGEST_BATCHES JUnit ingest bodies of $INGEST_SIZE results"
python3 "$ROOT/bench/gen_ingest.py" "$WORK" "$INGEST_BATCHES" "$INGEST_SIZE"

bench_backend sqlite "sqlite://$WORK/data-sqlite/valine.db"

if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
  [[ $BENCH_DATABASE_URL =~ ^postgres(ql)?://[^/]*(127\.0\.0\.1|localhost)[:/] ]] ||
    die "BENCH_DATABASE_URL must point at 127.0.0.1/localhost"
  PG_DB=valine_bench_$(date +%s)_$$
  psql -q "$BENCH_DATABASE_URL" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
  bench_backend postgres "${BENCH_DATABASE_URL%/*}/$PG_DB"
else
  log "BENCH_DATABASE_URL unset: PostgreSQL pass skipped"
fi

# Prisma parse + diff: parse_bench reports the best of 15; run it 3 times, report the median.
log "prisma parse+diff of a 1,000-model schema (parse_bench × 3)"
pb=()
for _ in 1 2 3; do pb+=("$("$PARSE_BENCH" 1000)"); done
for which in "10% of models changed" "every model changed"; do
  ms=$(printf '%s\n' "${pb[@]}" | grep -F "$which" | sed -E 's/.*best of 15: ([0-9.]+) ms.*/\1/' | median)
  ops=$(printf '%s\n' "${pb[@]}" | grep -F "$which" | head -n1 | sed -E 's/.*: ([0-9]+) operations.*/\1/')
  name=prisma_parse_diff_10pct
  [[ $which == every* ]] && name=prisma_parse_diff_all
  fig "$name - $ms ms target<=20 $(judge "$ms" '<=' 20) (1000 models, $which, $ops operations; median of 3 × best-of-15)"
done

log "done in $(($(date +%s) - started_all)) s (builds excluded); load now: $(cut -d' ' -f1-3 /proc/loadavg)"
