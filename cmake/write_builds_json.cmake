# Writes DIST/builds.json, which tells web/app.js whether the threaded app
# (convscope_mt.js/.wasm/.worker.js) is in the site, so the page never asks
# for a file that is not there. Run after either app variant links:
#     cmake -DDIST=<dist folder> -P cmake/write_builds_json.cmake
set(convscope_threaded false)
if(EXISTS "${DIST}/convscope_mt.js" AND EXISTS "${DIST}/convscope_mt.wasm" AND EXISTS "${DIST}/convscope_mt.worker.js")
    set(convscope_threaded true)
endif()
file(WRITE "${DIST}/builds.json" "{\"threaded\": ${convscope_threaded}}\n")
