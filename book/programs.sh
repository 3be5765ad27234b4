#!/bin/sh
# book/programs.sh BIN PROGRAM...: the program index of the website (make html) as
# markdown on stdout: every program with its source and its --help, run now.
# Links are relative to book/ (the page's source is book/programs.md for the filter).
# Fails (exit 1, one line on stderr) when a program's --help fails.
set -u
[ $# -ge 1 ] || { echo "usage: book/programs.sh BIN PROGRAM..." >&2; exit 2; }
shift
# the source of a program, from its name (the top Makefile's naming rules)
source_of() {
  n=$(basename "$1")
  case $n in
    ch[0-9][0-9]-*) nn=${n#ch}; nn=${nn%%-*}; f=${n#ch??-}; set -- chapters/"$nn"-*/"$f".c ;;
    exp-*) f=${n#exp-}; set -- experiments/*/"$f".c ;;
    bench-*) f=${n#bench-}; set -- bench/"$f".c ;;
    *) set -- tools/"$n".c exercises/"$n".c ;;
  esac
  for s in "$@"; do [ -f "$s" ] && { echo "$s"; return; }; done
}
section() {
  printf '\n## %s\n\n' "$1"
}
cat <<'HEAD'
# The programs

Every program of the book, with what it prints for `--help` (run when this page was
built). `make` builds them all into `build/bin/`; the chapters' and experiments'
`rules.mk` say how the book runs them. Under each program, a link to its source.

HEAD
last=""
for p in "$@"; do
  n=$(basename "$p")
  case $n in
    ch[0-9][0-9]-*) g="Chapter ${n#ch}"; g=${g%%-*}; g=$(echo "$g" | sed 's/Chapter 0/Chapter /') ;;
    exp-*) g="Experiments" ;;
    bench-*) g="Benchmarks" ;;
    *) g="Tools" ;;
  esac
  src=$(source_of "$p")
  if [ "$g" != "$last" ]; then
    case $g in
      Chapter*) section "[$g](../${src%/*}/README.md)" ;;
      Experiments) section "[$g](../experiments/README.md)" ;;
      *) section "$g" ;;
    esac
    last=$g
  fi
  printf '### `%s` {#%s .program}\n\n' "$n" "$n"
  if [ -n "$src" ]; then printf 'Source: [`%s`](../%s)\n\n' "$src" "$src"; fi
  if ! help=$("$p" --help 2>&1); then
    echo "book/programs.sh: $p --help failed" >&2
    exit 1
  fi
  printf '~~~~~~~~~~ {.help}\n%s\n~~~~~~~~~~\n\n' "$help"
done
