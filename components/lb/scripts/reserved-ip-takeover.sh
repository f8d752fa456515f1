#!/bin/bash
# keepalived notify_master: assign the region's DigitalOcean reserved IP to
# this droplet through the DO API, then wait until the API reports it done.
#
# Usage: reserved-ip-takeover RESERVED_IP
#
# Settings (environment first, then KEY=VALUE lines of $DNS_RR_HA_ENV_FILE,
# default /etc/dns-rr-ha/lb.env; the file is parsed, never sourced):
#   DO_METADATA_URL  metadata service base   (http://169.254.169.254)
#   DO_API_URL       API base                 (https://api.digitalocean.com)
#   DO_TOKEN_FILE    root-only API token file (/etc/dns-rr-ha/do-token)
#   TAKEOVER_MAX_TRIES (6), TAKEOVER_BACKOFF_MS (1000, doubles per retry),
#   TAKEOVER_POLL_TRIES (30), TAKEOVER_POLL_INTERVAL_MS (2000),
#   TAKEOVER_LOCK_FILE (/run/lock/dns-rr-ha-reserved-ip.lock)
#
# Idempotent: if the IP already points at this droplet it exits 0 without
# calling the assign action, so repeated MASTER transitions are cheap.
set -euo pipefail
# keepalived starts notify scripts with a bare environment.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

readonly LOG_TAG="dns-rr-ha"

log() {
  local level="$1"
  shift
  printf '%s: reserved-ip-takeover: %s\n' "$level" "$*" >&2
  # No syslog socket (containers, tests) must not abort a takeover.
  logger -t "$LOG_TAG" -p "daemon.${level}" -- "reserved-ip-takeover: $*" 2>/dev/null || true
}

die() {
  log err "$*"
  exit 1
}

readonly SETTING_KEYS=" DO_METADATA_URL DO_API_URL DO_TOKEN_FILE TAKEOVER_MAX_TRIES TAKEOVER_BACKOFF_MS TAKEOVER_POLL_TRIES TAKEOVER_POLL_INTERVAL_MS TAKEOVER_LOCK_FILE "

# Reads KEY=VALUE lines; known keys only, and only those not already set in
# the environment (so an operator can override a value for one manual run).
load_env_file() {
  local file="$1" key value
  [[ -r "$file" ]] || return 0
  while IFS='=' read -r key value || [[ -n "$key" ]]; do
    key="${key//[[:space:]]/}"
    [[ -z "$key" || "$key" == \#* ]] && continue
    value="${value%$'\r'}"
    value="${value#\"}"
    value="${value%\"}"
    if [[ "$SETTING_KEYS" != *" $key "* ]]; then
      log warning "ignoring unknown key '$key' in $file"
      continue
    fi
    if [[ -z "${!key:-}" ]]; then
      printf -v "$key" '%s' "$value"
    fi
  done <"$file"
}

require_uint() {
  if ! [[ "$2" =~ ^[1-9][0-9]{0,8}$ ]]; then
    die "$1 must be a positive integer, got '$2'"
  fi
}

sleep_ms() {
  sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"
}

[[ $# -eq 1 ]] || die "usage: reserved-ip-takeover RESERVED_IP"
readonly IP="$1"
ip_re='^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'
[[ "$IP" =~ $ip_re ]] || die "not an IPv4 address: '$IP'"

load_env_file "${DNS_RR_HA_ENV_FILE:-/etc/dns-rr-ha/lb.env}"
readonly METADATA_URL="${DO_METADATA_URL:-http://169.254.169.254}"
readonly API_URL="${DO_API_URL:-https://api.digitalocean.com}"
readonly TOKEN_FILE="${DO_TOKEN_FILE:-/etc/dns-rr-ha/do-token}"
readonly MAX_TRIES="${TAKEOVER_MAX_TRIES:-6}"
readonly BACKOFF_MS="${TAKEOVER_BACKOFF_MS:-1000}"
readonly POLL_TRIES="${TAKEOVER_POLL_TRIES:-30}"
readonly POLL_INTERVAL_MS="${TAKEOVER_POLL_INTERVAL_MS:-2000}"
readonly LOCK_FILE="${TAKEOVER_LOCK_FILE:-/run/lock/dns-rr-ha-reserved-ip.lock}"
require_uint TAKEOVER_MAX_TRIES "$MAX_TRIES"
require_uint TAKEOVER_BACKOFF_MS "$BACKOFF_MS"
require_uint TAKEOVER_POLL_TRIES "$POLL_TRIES"
require_uint TAKEOVER_POLL_INTERVAL_MS "$POLL_INTERVAL_MS"

[[ -r "$TOKEN_FILE" ]] || die "API token file $TOKEN_FILE is missing or unreadable; cannot move reserved IP $IP"
token="$(tr -d '[:space:]' <"$TOKEN_FILE")"
[[ -n "$token" ]] || die "API token file $TOKEN_FILE is empty; cannot move reserved IP $IP"

# keepalived may fire notify_master again while a takeover still runs
# (flapping): serialise, the second run then finds the IP already ours.
exec 9>"$LOCK_FILE"
flock -w 300 9 || die "could not lock $LOCK_FILE within 300 s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The token goes to curl through a 0600 file, never on a command line (ps).
(
  umask 077
  printf 'Authorization: Bearer %s\n' "$token" >"$work/auth-header"
)
unset token

droplet_id=""
for attempt in 1 2 3; do
  if droplet_id="$(curl --silent --fail --max-time 2 "${METADATA_URL%/}/metadata/v1/id")" &&
    [[ "$droplet_id" =~ ^[0-9]+$ ]]; then
    break
  fi
  droplet_id=""
  log warning "metadata service ${METADATA_URL} did not return a droplet id (try $attempt/3)"
  sleep 1
done
[[ -n "$droplet_id" ]] || die "cannot read own droplet id from ${METADATA_URL}/metadata/v1/id"
log info "taking over reserved IP $IP for droplet $droplet_id via ${API_URL}"

# api METHOD PATH [JSON_BODY]: sets HTTP_CODE (000 on network error) and
# leaves the response body in $work/response.
HTTP_CODE=""
api() {
  local -a args=(--silent --max-time 10 --request "$1"
    --header "@$work/auth-header" --header 'Accept: application/json'
    --output "$work/response" --write-out '%{http_code}')
  if [[ $# -ge 3 ]]; then
    args+=(--header 'Content-Type: application/json' --data-binary "$3")
  fi
  : >"$work/response"
  HTTP_CODE="$(curl "${args[@]}" "${API_URL%/}$2")" || HTTP_CODE="000"
}

# Error message of the last API response, for logs.
api_message() {
  jq -r '.message // empty' <"$work/response" 2>/dev/null | head -c 300 || true
}

# Prints the droplet id currently holding the IP ("" if none or unknown).
current_holder() {
  api GET "/v2/reserved_ips/$IP"
  if [[ "$HTTP_CODE" != "200" ]]; then
    log warning "GET /v2/reserved_ips/$IP: HTTP $HTTP_CODE $(api_message)"
    return 0
  fi
  jq -r '.reserved_ip.droplet.id // empty' <"$work/response" 2>/dev/null || true
}

holder="$(current_holder)"
if [[ "$holder" == "$droplet_id" ]]; then
  log info "reserved IP $IP is already assigned to droplet $droplet_id; nothing to do"
  exit 0
fi
log info "reserved IP $IP is held by droplet ${holder:-<none>}; assigning to $droplet_id"

body="$(jq -cn --argjson id "$droplet_id" '{type: "assign", droplet_id: $id}')"
delay_ms="$BACKOFF_MS"
accepted=""
for ((try = 1; try <= MAX_TRIES; try++)); do
  api POST "/v2/reserved_ips/$IP/actions" "$body"
  case "$HTTP_CODE" in
    2??)
      log info "assign action accepted (HTTP $HTTP_CODE, try $try/$MAX_TRIES)"
      accepted=1
      break
      ;;
    422 | 429 | 5?? | 000)
      # 422: DO refuses while another action on the IP or droplet is pending.
      log warning "assign try $try/$MAX_TRIES failed: HTTP $HTTP_CODE $(api_message)"
      ;;
    *)
      die "assign rejected: HTTP $HTTP_CODE $(api_message)"
      ;;
  esac
  if ((try < MAX_TRIES)); then
    sleep_ms "$delay_ms"
    delay_ms=$((delay_ms * 2 > 30000 ? 30000 : delay_ms * 2))
  fi
done
if [[ -z "$accepted" ]]; then
  # A 422 can mean an earlier run's assignment just completed.
  if [[ "$(current_holder)" == "$droplet_id" ]]; then
    log info "reserved IP $IP is assigned to droplet $droplet_id"
    exit 0
  fi
  die "giving up assigning $IP after $MAX_TRIES tries"
fi

for ((poll = 1; poll <= POLL_TRIES; poll++)); do
  holder="$(current_holder)"
  if [[ "$holder" == "$droplet_id" ]]; then
    log info "reserved IP $IP now routes to droplet $droplet_id (poll $poll)"
    exit 0
  fi
  log info "waiting for assignment, poll $poll/$POLL_TRIES: $IP held by ${holder:-<none>}"
  sleep_ms "$POLL_INTERVAL_MS"
done
die "reserved IP $IP still not assigned to droplet $droplet_id after $POLL_TRIES polls"
