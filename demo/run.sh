#!/usr/bin/env bash
# `make demo`: start the bundled demo newsroom on 127.0.0.1:8471, run the pipeline on it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=8471
# read before any pressroom command runs: every other PRESSROOM_* variable is taken as a setting
WEB_PORT=${PRESSROOM_DEMO_WEB_PORT:-8472}
unset PRESSROOM_DEMO_WEB_PORT
export PRESSROOM_CONFIG=demo/pressroom-demo.toml

if ! "$PY" - "$PORT" <<'PYEOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PYEOF
then
  echo "port $PORT on 127.0.0.1 is busy: stop what runs there (a previous demo?) and try again" >&2
  exit 1
fi

"$PY" demo/serve.py --port "$PORT" >/dev/null 2>.demo-site.log &
SITE_PID=$!
trap 'kill $SITE_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/robots.txt')" 2>/dev/null && break
  sleep 0.1
done
echo "demo site: http://127.0.0.1:$PORT/ (Northbridge Migration Agency, 16 releases in en/fr/es/ar)"

echo "== crawl (and clean)"
.venv/bin/pressroom crawl --log-level WARNING
echo
echo "== index"
.venv/bin/pressroom index
echo
echo "== search: Libya"
.venv/bin/pressroom search Libya --limit 3
echo
echo "== search: diaspora, in French releases only"
.venv/bin/pressroom search diaspora --language fr --limit 3
echo
echo "The archive is in .demo-data/ (WARC files in .demo-data/warc, catalogue in"
echo ".demo-data/catalogue.sqlite, index in .demo-data/index)."
echo "Run 'make demo' again to see an incremental crawl and index update."
echo
echo "== search page: open http://127.0.0.1:$WEB_PORT/ (Ctrl-C stops it)"
echo "   archive status and coverage: http://127.0.0.1:$WEB_PORT/status"
kill $SITE_PID 2>/dev/null || true   # the search page reads the archive, not the demo site
.venv/bin/pressroom serve --port "$WEB_PORT"
