#!/bin/sh
# sanitized.sh LOG COMMAND... -- run COMMAND with its stdout and stderr also copied to
# LOG, and fail if COMMAND fails or if LOG holds any sanitizer report. Criterion counts
# a test whose worker died of an ASan or UBSan report as crashed, but a LeakSanitizer
# report comes after the test has passed, when the worker exits, and Criterion never
# looks at that exit status: so the log is read too. Prints the reports' first lines.
#
# One kind of report is not counted: a leak all of whose allocation stack (below the
# allocator) lies in libcriterion, i.e. Criterion's runner's own memory (96 bytes in
# two callocs when a run has many suites). It is printed as a note. A suppression
# file cannot say this: LeakSanitizer suppresses a leak when ANY frame matches, and
# every test's leak has Criterion's test_main below the test.
set -u
log=$1
shift
mkdir -p "$(dirname "$log")"
rc_file=$(mktemp)
{ "$@" 2>&1; echo $? > "$rc_file"; } | tee "$log"
rc=$(cat "$rc_file")
rm -f "$rc_file"
# Leak blocks: "Direct leak ..." up to the blank line; ours unless every frame #1.. is
# in libcriterion.
leaks=$(awk '
  /^(Direct|Indirect) leak of / { inblk = 1; ours = 0; frames = 0; next }
  inblk && /^ *#[0-9]+ / {
    if ($1 == "#0") next
    frames++
    if ($0 !~ /libcriterion\.so/) ours = 1
    next
  }
  inblk && /^ *$/ { if (ours || frames == 0) n++; else c++; inblk = 0 }
  END { if (inblk) { if (ours || frames == 0) n++; else c++ } printf "%d %d\n", n + 0, c + 0 }
' "$log")
ours=${leaks% *}
criterion=${leaks#* }
others=$(grep -cE 'ERROR: AddressSanitizer|runtime error:|UndefinedBehaviorSanitizer' "$log")
status=0
[ "$rc" -ne 0 ] && status=1
if [ "$criterion" -gt 0 ] && [ "$ours" -eq 0 ]; then
  echo "sanitized.sh: note: $criterion leak(s) inside libcriterion only (Criterion's runner), not counted"
  # LeakSanitizer gave Criterion's runner its exit status; the tests themselves
  # all passed if the synthesis says so
  if grep -qE 'Synthesis: .*Failing: 0 \| Crashing: 0' "$log"; then status=0; fi
fi
if [ "$ours" -gt 0 ] || [ "$others" -gt 0 ]; then
  echo "sanitized.sh: sanitizer reports in $log: $ours leak(s) of ours, $others other report(s):" >&2
  grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|UndefinedBehaviorSanitizer|^ *#[1-4] .* in [a-z_]' "$log" | head -40 >&2
  status=1
fi
[ "$status" -ne 0 ] && echo "sanitized.sh: $* failed (exit $rc)" >&2
exit $status
