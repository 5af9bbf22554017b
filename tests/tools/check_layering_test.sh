#!/usr/bin/env bash
# Proves scripts/check_layering fails on each kind of violation (and names the
# file:line and include) and passes on a clean tree, using small temp trees.
set -uo pipefail
check="$(cd "$(dirname "$0")/../.." && pwd)/scripts/check_layering"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# The script's own allow-list is replaced (--allowed-cycles) so these tests do
# not change when that list does.
# make_tree DIR: a clean tree in which explain <-> inspect form a cycle that
# the tests allow, so only the added violation can fail the check.
make_tree() {
    mkdir -p "$1/core/base" "$1/core/tensor" "$1/core/explain" "$1/core/inspect" "$1/ui" "$1/platform"
    printf '#include <vector>\n' >"$1/core/base/error.h"
    printf '#include "core/base/error.h"\n' >"$1/core/tensor/tensor.h"
    printf '#include "core/inspect/a.h"\n' >"$1/core/explain/a.h"
    printf '#include "core/explain/a.h"\n' >"$1/core/inspect/a.h"
    printf '#include <imgui.h>\n#include "core/tensor/tensor.h"\n' >"$1/ui/panel.cpp"
    printf '#include <GLES3/gl3.h>\n#include <emscripten.h>\n#include "ui/panel.h"\n' >"$1/platform/gl.cpp"
}

# expect_failure NAME FILE LINE TEXT EXPECTED: adds TEXT as line LINE of FILE
# and expects a failure whose output contains EXPECTED.
expect_failure() {
    local tree="$work/$1"
    make_tree "$tree"
    mkdir -p "$(dirname "$tree/$2")"
    printf '%s\n' "$4" >>"$tree/$2"
    local output
    if output=$("$check" --allowed-cycles=explain:inspect "$tree" 2>&1); then
        echo "FAIL $1: check passed, expected a failure"; failures=$((failures + 1))
    elif ! grep -qF -- "$5" <<<"$output"; then
        echo "FAIL $1: output lacks '$5':"; echo "$output"; failures=$((failures + 1))
    else
        echo "ok   $1"
    fi
}

make_tree "$work/clean"
if output=$("$check" --allowed-cycles=explain:inspect "$work/clean" 2>&1); then echo "ok   clean tree passes"; else
    echo "FAIL clean tree: $output"; failures=$((failures + 1)); fi

expect_failure core_ui core/tensor/tensor.h 2 '#include "ui/app.h"' 'core/tensor/tensor.h:2: #include "ui/app.h"'
expect_failure core_imgui core/base/error.h 2 '#include <imgui.h>' 'core/base/error.h:2: #include <imgui.h>'
expect_failure core_gl core/base/error.h 2 '#include <GLES3/gl3.h>' 'core/base/error.h:2: #include <GLES3/gl3.h>'
expect_failure core_emscripten core/tensor/tensor.h 2 '#include <emscripten/html5.h>' 'core/tensor/tensor.h:2: #include <emscripten/html5.h>'
expect_failure ui_gl ui/panel.cpp 3 '#include <GLFW/glfw3.h>' 'ui/panel.cpp:3: #include <GLFW/glfw3.h>'
expect_failure ui_emscripten ui/panel.cpp 3 '#include <emscripten.h>' 'ui/panel.cpp:3: #include <emscripten.h>'
expect_failure ui_platform ui/panel.cpp 3 '#include "platform/webgl_heatmap.h"' 'ui/panel.cpp:3: #include "platform/webgl_heatmap.h"'
expect_failure module_cycle core/base/error.h 2 '#include "core/tensor/tensor.h"' 'core module include cycle: base -> tensor -> base'
expect_failure module_cycle_edge core/base/error.h 2 '#include "core/tensor/tensor.h"' 'base -> tensor: core/base/error.h:2: #include "core/tensor/tensor.h"'

# The allow-list entry must not hide a cycle once it is gone: a tree without
# the explain <-> inspect cycle fails, asking for the entry to be deleted.
make_tree "$work/no_cycle"
printf '#include <vector>\n' >"$work/no_cycle/core/inspect/a.h"
if output=$("$check" --allowed-cycles=explain:inspect "$work/no_cycle" 2>&1); then
    echo "FAIL stale allow-list entry not reported"; failures=$((failures + 1))
elif grep -qF 'matches no cycle any more' <<<"$output"; then echo "ok   stale allow-list entry reported"; else
    echo "FAIL stale allow-list: $output"; failures=$((failures + 1)); fi

# With no allow-list the same cycle fails.
make_tree "$work/no_allow"
if "$check" --allowed-cycles= "$work/no_allow" >/dev/null 2>&1; then
    echo "FAIL a cycle passed with an empty allow-list"; failures=$((failures + 1)); else echo "ok   cycle fails without an allow-list"; fi

[ "$failures" -eq 0 ] && echo "check_layering tests: all passed"
[ "$failures" -eq 0 ]
