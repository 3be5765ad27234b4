#!/bin/sh
# The browser test's own test: run browsertest on book/testpages/, a few pages each broken
# on purpose (a missing image, an SVG that does not parse, a broken link, a bad #fragment,
# a link out of the site, an <merror>, empty math, leftover TeX, console.error, a failing
# console.assert, a throw, a script blocked by a Content-Security-Policy, a missing
# stylesheet and script) and clean pages. Each broken page names the defects it
# must produce in <meta name="browsertest-expect" content="KIND: DETAIL"> (&quot; &lt; &gt;
# &amp; decoded); this script
# requires every expected line (as a prefix of an output line "PAGE: KIND: DETAIL"),
# no other defect line, no line at all for the clean pages, and exit status 1. It also
# checks that a hung page (book/testpages-hang/) cannot hang the test, the usage errors
# (exit 2) and --help (exit 0).
# Usage: sh book/browsertest-self.sh BROWSERTEST TESTPAGES OUTDIR
set -u
bt=$1 pages=$2 out=$3
mkdir -p "$out"
fail=0
"$bt" --timeout 30 --screenshot "$out/testpages-screenshot.png" "$pages" >"$out/testpages.out" 2>"$out/testpages.err"
rc=$?
cat "$out/testpages.out"
if [ $rc -ne 1 ]; then
  echo "browsertest-self: browsertest exited $rc on the broken test pages, want 1" >&2
  cat "$out/testpages.err" >&2
  fail=1
fi
n=0
for f in $(cd "$pages" && find . -name '*.html' | sed 's|^\./||' | sort); do
  expects=$(grep -o 'name="browsertest-expect" content="[^"]*"' "$pages/$f" | sed 's/.*content="//; s/"$//; s/&quot;/"/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g')
  if [ -z "$expects" ]; then
    if grep -q -F "$f: " "$out/testpages.out"; then
      echo "browsertest-self: the clean page $f was reported:" >&2
      grep -F "$f: " "$out/testpages.out" >&2
      fail=1
    fi
    continue
  fi
  # Each expected defect is reported ...
  printf '%s\n' "$expects" | while IFS= read -r e; do
    if ! want="$f: $e" awk 'index($0, ENVIRON["want"]) == 1 { found = 1 } END { exit !found }' "$out/testpages.out"; then
      printf 'browsertest-self: %s: the planted defect "%s" was not reported\n' "$f" "$e" >&2
      exit 1
    fi
  done || fail=1
  # ... and nothing else on that page.
  grep -F "$f: " "$out/testpages.out" | while IFS= read -r line; do
    if ! printf '%s\n' "$expects" | line="$line" page="$f: " awk '{ if (index(ENVIRON["line"], ENVIRON["page"] $0) == 1) found = 1 } END { exit !found }'; then
      printf 'browsertest-self: %s: unexpected defect: %s\n' "$f" "$line" >&2
      exit 1
    fi
  done || fail=1
  n=$((n + $(printf '%s\n' "$expects" | wc -l)))
done
# A page whose script never returns: browsertest gives up after --timeout, names the page
# and exits 1 (the browser killed), well before the 60 s this allows.
hang=$(dirname "$pages")/testpages-hang
t0=$(date +%s)
"$bt" --timeout 3 "$hang" >"$out/hang.out" 2>"$out/hang.err"
rc=$?
t1=$(date +%s)
if [ $rc -ne 1 ] || ! grep -q "hang.html.*did not finish within 3 s" "$out/hang.err" || [ $((t1 - t0)) -gt 60 ]; then
  echo "browsertest-self: on a hung page browsertest exited $rc after $((t1 - t0)) s; want 1 with a line naming hang.html, within 60 s" >&2
  cat "$out/hang.err" >&2
  fail=1
fi
# Usage errors: exit 2 with one line on stderr; --help: exit 0.
"$bt" >/dev/null 2>&1; [ $? -eq 2 ] || { echo "browsertest-self: no DIR should exit 2" >&2; fail=1; }
"$bt" "$pages/no-such-dir" >/dev/null 2>&1; [ $? -eq 2 ] || { echo "browsertest-self: a missing DIR should exit 2" >&2; fail=1; }
"$bt" --frobnicate "$pages" >/dev/null 2>&1; [ $? -eq 2 ] || { echo "browsertest-self: an unknown option should exit 2" >&2; fail=1; }
"$bt" --help >/dev/null 2>&1 || { echo "browsertest-self: --help should exit 0" >&2; fail=1; }
if [ $fail -ne 0 ]; then
  echo "browsertest-self: FAILED (the browser test does not catch what it should; see above)" >&2
  exit 1
fi
echo "browsertest-self: all $n planted defects reported, nothing else, clean pages pass; a hung page timed out in $((t1 - t0)) s"
