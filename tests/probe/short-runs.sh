#!/bin/sh
# short-runs.sh BIN DATA -- run every row of tests/probe/programs.tsv once with the
# programs in BIN and Fashion-MNIST in DATA (make check-asan runs it on the sanitizer
# build). Every row must exit 0 with no sanitizer report on stderr; a row over its time
# limit (SHORT_RUN_TIMEOUT seconds, default 600) fails too. Prints one line per row
# (status, seconds, command) and, at the end, each failure with its stderr's first
# sanitizer line; exit 1 if any row failed. Run from the top of the book.
set -u
bin=$(cd "$1" && pwd) || { echo "short-runs: no directory $1" >&2; exit 2; }
data=$(cd "$2" && pwd) || { echo "short-runs: no directory $2" >&2; exit 2; }
root=$(pwd)
table=tests/probe/programs.tsv
[ -f "$table" ] || { echo "short-runs: no $table (run from the top of the book)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/gdshort-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fortunes=${GD_FORTUNES:-/usr/share/games/fortunes}
limit=${SHORT_RUN_TIMEOUT:-600}
fails=0
n=0
start_all=$(date +%s)
# Row by row, in order: a row may read what an earlier one wrote into $tmp.
while IFS='	' read -r prog kind args; do
  case $prog in ''|'#'*) continue ;; esac
  n=$((n + 1))
  d=$data
  [ "$kind" = fortunes ] && d=$fortunes
  case $args in link=*)
    name=${args%% *}; name=${name#link=}; args=${args#* }
    [ -e "$tmp/$name" ] || ln -s "$root/$name" "$tmp/$name" ;;
  esac
  # $DATA $TMP $ROOT, then words split at spaces (the table has no quoting)
  args=$(printf '%s' "$args" | sed -e "s|\$DATA|$d|g" -e "s|\$TMP|$tmp|g" -e "s|\$ROOT|$root|g")
  log=$tmp/.log.$n
  t0=$(date +%s)
  # shellcheck disable=SC2086
  (cd "$tmp" && set -f && exec timeout -s KILL "$limit" "$bin/$prog" $args) </dev/null >"$log.out" 2>"$log"
  rc=$?
  t=$(( $(date +%s) - t0 ))
  report=$(grep -m1 -E 'runtime error|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer' "$log")
  if [ "$rc" -ne 0 ] || [ -n "$report" ]; then
    fails=$((fails + 1))
    why="exit $rc"
    [ "$rc" -eq 137 ] && why="killed after $limit s"
    [ -n "$report" ] && why="$why: $report"
    [ -z "$report" ] && why="$why: $(head -c 300 "$log" | head -n 2 | tr '\n' ' ')"
    echo "FAIL ${t}s $prog $args" >&2
    echo "  $why" >&2
  else
    echo "ok   ${t}s $prog $args"
  fi
done < "$table"
echo "short runs: $n rows, $fails failed, $(( $(date +%s) - start_all )) s"
[ "$fails" -eq 0 ]
