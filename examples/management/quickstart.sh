#!/usr/bin/env bash
# Quick start of the management API: proxy one MCP server at /weather with a keyless plan and an
# ACL that allows only the `echo` tool, deploy, and print the MCP URL.
#
#   UPSTREAM_URL=http://127.0.0.1:3001/mcp examples/management/quickstart.sh http://127.0.0.1:8081 "$(cat .gatehouse/admin.token)"
#
# Needs bash and curl, and a Gatehouse started with `gatehouse start --managed`.
set -euo pipefail

BASE_URL="${1:?usage: quickstart.sh BASE_URL ADMIN_TOKEN (BASE_URL: the admin listener, e.g. http://127.0.0.1:8081)}"
ADMIN_TOKEN="${2:?usage: quickstart.sh BASE_URL ADMIN_TOKEN}"
UPSTREAM_URL="${UPSTREAM_URL:?set UPSTREAM_URL to the MCP server to proxy, e.g. http://127.0.0.1:3001/mcp}"
API="${BASE_URL%/}/api/v1"

# One call; prints the body, fails (with the body on stderr) on an HTTP error.
call() {
  local method="$1" path="$2" body="${3:-}"
  local out status
  out="$(mktemp)"
  status="$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$API$path" \
    -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
    ${body:+--data "$body"})"
  if [ "$status" -ge 400 ]; then
    echo "quickstart: $method $path answered $status: $(cat "$out")" >&2
    rm -f "$out"
    exit 1
  fi
  cat "$out"
  rm -f "$out"
}

# 1. The server: the MCP server Gatehouse forwards to.
call POST /servers "{\"name\": \"weather\", \"url\": \"$UPSTREAM_URL\"}" >/dev/null
echo "created server weather -> $UPSTREAM_URL"

# 2. The API: /weather, keyless plan, an ACL that lists and calls `echo` only.
call POST /apis '{
  "name": "weather",
  "path": "/weather",
  "server": "weather",
  "auth": { "type": "keyless" },
  "policies": [
    { "acl": { "rules": [
      { "name": "echo only",
        "features": [ { "type": "tools", "methods": ["tools/list", "tools/call"], "pattern": { "type": "literal", "value": "echo" } } ] }
    ] } }
  ]
}' >/dev/null
echo "created API weather at /weather (keyless, ACL: echo only)"

# 3. Deploy: the draft becomes a numbered version and goes live.
deployed="$(call POST /deployments '{"comment": "quickstart"}')"
version="$(printf '%s' "$deployed" | sed -n 's/.*"version":\([0-9]*\).*/\1/p')"
url="$(printf '%s' "$deployed" | sed -n 's/.*"path":"\/weather","url":"\([^"]*\)".*/\1/p')"
echo "deployed version $version"
echo "MCP URL: $url"
