#!/bin/sh
# suite.sh - runs inside the guest (busybox sh): the test binaries that
# guest.mk compiled on the host, then one summary line. Usage:
#   suite.sh NAME BUILD_DIR [BINARY:PKGDIR:RUN_REGEXP]...
# Each binary runs with -test.v in PKGDIR (its package directory, as go test
# would); RUN_REGEXP empty means every test. Exits 1 if anything failed.
name=$1 build=$2
shift 2
log=/tmp/suite.$$.log
status=0
for spec in "$@"; do
	bin=${spec%%:*} rest=${spec#*:}
	dir=${rest%%:*} run=${rest#*:}
	echo "== $bin${run:+ -test.run '$run'} (in $dir)"
	# Streamed, less the per-test RUN/PASS chatter: skips and failures show.
	# The timeout is below guestrun.sh's, so a hang ends in go test's
	# goroutine dump rather than a dead VM.
	(cd "$dir" && "$build/$bin" -test.v -test.count=1 -test.timeout="${SUITE_TIMEOUT:-10m}" ${run:+-test.run "$run"}; echo "exit=$?") 2>&1 |
		tee "$log.$bin" | grep -vE '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS)|^exit=[0-9]+$'
	tail -n 1 "$log.$bin" | grep -qx 'exit=0' || status=1
	cat "$log.$bin" >> "$log"
done
passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
rm -f "$log" "$log".*
echo "$name: $passed passed, $failed failed, $skipped skipped"
exit $status
