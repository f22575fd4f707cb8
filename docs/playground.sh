#!/usr/bin/env bash
# The playground pictures of README.md: `tiny optim plot` (docs/optim-plot.png) and a headless-Chromium screenshot of
# `tiny optim page` at step 60 (docs/optim-page.png), three optimizers on Rosenbrock from the golden data's start.
# usage: docs/playground.sh [TINY_DLL]   (default: build src/Cli and use it; needs chromium for the screenshot)
set -euo pipefail
cd "$(dirname "$0")/.."
dll=${1:-}
if [ -z "$dll" ]; then dotnet build src/Cli -c Release -v q >/dev/null; dll=src/Cli/bin/Release/net10.0/tiny.dll; fi
opts=(--optimizer adam:lr=0.05 --optimizer alphagrad:alpha=2,lr=0.01,momentum=0.9 --optimizer adabound:lr=0.01)
dotnet "$dll" optim plot --function rosenbrock --start -1.2,1 --steps 200 "${opts[@]}" --out docs/optim-plot.png
page=$(mktemp --suffix=.html)
dotnet "$dll" optim page --function rosenbrock "${opts[@]}" --out "$page"
profile=$(mktemp -d)
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" --window-size=1180,1180 \
  --screenshot="$PWD/docs/optim-page.png" "file://$page#step=60" 2>/dev/null
rm -rf "$page" "$profile"
