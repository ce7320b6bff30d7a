#!/bin/sh
# Sets everything up and runs the whole test suite twice: a -Werror build
# and an AddressSanitizer + UndefinedBehaviorSanitizer build.
set -eu

cd "$(dirname "$0")/.."

status=0
run_suite() {
    builddir=$1
    shift
    rm -rf "$builddir"
    scripts/setup.sh "$builddir" "$@"
    echo "== meson test in $builddir"
    if ! meson test -C "$builddir" --print-errorlogs --num-processes 2; then
        status=1
    fi
}

run_suite build-test
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false

if [ $status -eq 0 ]; then
    echo "test.sh: both builds passed"
else
    echo "test.sh: FAILED"
fi
exit $status
