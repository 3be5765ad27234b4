#!/bin/sh
# sanitized.sh LOG COMMAND... -- run COMMAND with its stdout and stderr also copied to
# LOG, and fail if COMMAND fails or if LOG holds any sanitizer report. Criterion counts
# a test whose worker died of an ASan or UBSan report as crashed, but a LeakSanitizer
# report comes after the test has passed, when the worker exits, and Criterion never
# looks at that exit status: so the log is read too. Prints the reports' first lines.
set -u
log=$1
shift
mkdir -p "$(dirname "$log")"
status=0
{ "$@" 2>&1 || echo "sanitized.sh: exit $?" ; } | tee "$log"
grep -q '^sanitized.sh: exit ' "$log" && status=1
reports=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|UndefinedBehaviorSanitizer' "$log")
if [ "$reports" -gt 0 ]; then
  echo "sanitized.sh: $reports sanitizer report(s) in $log:" >&2
  grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|UndefinedBehaviorSanitizer|^    #[1-4] .* in [a-z_]' "$log" | head -40 >&2
  status=1
fi
exit $status
