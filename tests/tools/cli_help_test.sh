#!/usr/bin/env bash
# Every `convscope COMMAND --help` (and -h, also after other arguments)
# prints that command's usage on stdout and exits 0; the command list is read
# from `convscope --help`, so a new command is covered without editing this.
# Usage: tests/tools/cli_help_test.sh PATH/TO/convscope
set -uo pipefail
cli=${1:?usage: cli_help_test.sh PATH/TO/convscope}
failures=0
commands=$("$cli" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}')
[ -n "$commands" ] || { echo "FAIL no commands found in '$cli --help'"; exit 1; }
for command in $commands; do
    for args in "--help" "-h" "MODEL --help" "--layer x --help"; do
        # shellcheck disable=SC2086
        output=$("$cli" "$command" $args 2>&1)
        status=$?
        if [ "$status" -ne 0 ]; then
            echo "FAIL convscope $command $args: exit $status: $output"; failures=$((failures + 1))
        elif ! grep -q "^usage: convscope $command" <<<"$output"; then
            echo "FAIL convscope $command $args: no usage line: $output"; failures=$((failures + 1))
        fi
    done
done
# A flag still needs its value when no help is asked for.
if "$cli" summary x --json-typo 2>/dev/null; then echo "FAIL a bad flag passed"; failures=$((failures + 1)); fi
count=$(wc -w <<<"$commands")
[ "$failures" -eq 0 ] && echo "cli --help: all $count commands print their usage"
[ "$failures" -eq 0 ]
