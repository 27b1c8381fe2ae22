#!/bin/sh
# The image's entrypoint: the `cascade` CLI on the image's own Node 24 (never node_modules/.bin/node,
# a devDependency the image does not install). Arguments are the CLI's: `serve …` (the default
# command), `tracker …`, `token`, `list`, …
#
# Secrets arrive as files (Docker/Compose secrets, Kubernetes secret volumes) rather than in the
# environment, where `docker inspect` and `ps e` would show them:
#   CASCADE_API_TOKEN_FILE      the node's API token; copied to <state dir>/api-token (mode 0600)
#                               before the node starts, so scripts and Sonarr-style clients can be
#                               configured ahead of time. Copied when the secret is new or changed
#                               (its SHA-256 is kept beside the token), not at every start: a token
#                               rotated later (`cascade token --rotate`, Settings) stays rotated
#                               across restarts until the secret itself changes. Unset: the node
#                               makes its own on first run (`cascade token` prints it).
#   CASCADE_METRICS_TOKEN_FILE  the token that may read GET /metrics and nothing else (Prometheus);
#                               exported as CASCADE_METRICS_TOKEN, which `cascade serve` reads.
#   CASCADE_DATABASE_PASSWORD_FILE  the PostgreSQL password for a --database URL that names none
#                               (a cluster member's, deploy/compose.cluster.yaml); exported as
#                               PGPASSWORD, which the PostgreSQL driver reads, so the secret is in
#                               no command line.
set -eu

state_dir="${CASCADE_HOME:-/data}"
if [ -n "${CASCADE_API_TOKEN_FILE:-}" ]; then
  if [ ! -s "$CASCADE_API_TOKEN_FILE" ]; then
    echo "cascade: CASCADE_API_TOKEN_FILE=$CASCADE_API_TOKEN_FILE is missing or empty" >&2
    exit 1
  fi
  # The node would silently replace a token of the wrong form with a new one of its own.
  if ! tr -d '\r\n' < "$CASCADE_API_TOKEN_FILE" | grep -Eqx '[A-Za-z0-9_-]{32,128}'; then
    echo "cascade: the API token in $CASCADE_API_TOKEN_FILE must be 32 to 128 of A-Z a-z 0-9 _ - (e.g. openssl rand -hex 24)" >&2
    exit 1
  fi
  mkdir -p "$state_dir"
  secret_sum="$(sha256sum < "$CASCADE_API_TOKEN_FILE" | cut -d' ' -f1)"
  if [ ! -s "$state_dir/api-token" ] || [ "$(cat "$state_dir/api-token.secret-sha256" 2>/dev/null)" != "$secret_sum" ]; then
    # install(1) writes a fresh 0600 file even when the secret itself is world-readable.
    install -m 600 "$CASCADE_API_TOKEN_FILE" "$state_dir/api-token"
    echo "$secret_sum" > "$state_dir/api-token.secret-sha256"
  fi
fi
# export_secret NAME FILE: the file's content (line ends dropped) as the environment variable NAME.
export_secret() {
  if [ ! -s "$2" ]; then
    echo "cascade: the secret file $2 (for $1) is missing or empty" >&2
    exit 1
  fi
  export "$1=$(tr -d '\r\n' < "$2")"
}
if [ -n "${CASCADE_METRICS_TOKEN_FILE:-}" ]; then export_secret CASCADE_METRICS_TOKEN "$CASCADE_METRICS_TOKEN_FILE"; fi
if [ -n "${CASCADE_DATABASE_PASSWORD_FILE:-}" ]; then export_secret PGPASSWORD "$CASCADE_DATABASE_PASSWORD_FILE"; fi

# --max-semi-space-size=8 --no-memory-reducer and GLIBC_TUNABLES: the launcher's own first line
# (packages/cli/bin/cascade.js), which a direct `node cascade.js` would not apply.
GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.arena_max=2}"
export GLIBC_TUNABLES
exec node --max-semi-space-size=8 --no-memory-reducer "${CASCADE_APP:-/app}/packages/cli/bin/cascade.js" "$@"
