#!/usr/bin/env bash
# The Azure Arc checks of hosts.sh, inside the mount and network namespace it makes, where the agent's
# folders (/var/opt/azcmagent, /opt/azcmagent) are on a tmpfs of their own and the emulator plays the
# agent on its port, 127.0.0.1:40342:
#   unshare --mount --net --fork bash arc-ns.sh HELPER WORK
set -uo pipefail
HELPER=$1
WORK=$2
here=$(dirname "$(readlink -f "$0")")
mkdir -p "$WORK"
export WORK XDG_STATE_HOME="$WORK/state" DOCKER_CREDENTIAL_ACR_STORE=file
mkdir -p "$WORK/bin"; ln -sf "$HELPER" "$WORK/bin/docker-credential-acr"
source "$here/lib.sh"
s="[hosts arc]"
tokens=/var/opt/azcmagent/tokens
ip link set lo up && mount -t tmpfs tmpfs /var/opt && mkdir -p "$tokens" ||
  { echo "FAIL: $s cannot set up the namespace"; exit 1; }
source "$here/acr.sh"
source "$here/chain.sh"
source "$here/hosts.sh"
source "$here/reference.sh"
ARC_KEY_DIR=$tokens EMU_PORT=40342 emulator_start
trap 'kill "$EMU_PID" 2>/dev/null' EXIT
ARC=(IDENTITY_ENDPOINT="$EMU/metadata/identity/oauth2/token" IMDS_ENDPOINT=http://127.0.0.1:9)

forget_tokens
hosts_get "${ARC[@]}"
check "$s IDENTITY_ENDPOINT and IMDS_ENDPOINT: the agent's challenge answered with its key file, a token" hosts_derived managed-identity
check "$s ... asked twice (the challenge, then with the key)" test "$(emu_stat arc)" = 2
check "$s ... the key file was used up" test -z "$(ls "$tokens")"
# MSAL, Microsoft's own client, through the same challenge (it checks the key file's folder, name and size too).
check "$s msal (the reference client) through the agent's challenge" reference managed-identity "${ARC[@]}"

forget_tokens; emu_post reset '{}'
emu_post faults '{"endpoint": "arc", "kind": "realm", "location": "/etc/passwd", "count": 1}'
hosts_get "${ARC[@]}"
check "$s a challenge naming a file outside the agent's folder: refused, the file neither read nor sent" hosts_said \
  "managed identity (Azure Arc): the agent's challenge names /etc/passwd, but it is not a .key file in $tokens; run as root or as a member of the himds group (sudo usermod -aG himds \$USER), and check that IDENTITY_ENDPOINT is the Arc agent's"
check "$s ... asked once" test "$(emu_stat arc)" = 1
ln -s /etc/hostname "$tokens/link.key"
emu_post reset '{}'
emu_post faults '{"endpoint": "arc", "kind": "realm", "location": "'$tokens'/link.key", "count": 1}'
hosts_get "${ARC[@]}"
check "$s a .key link in the folder that leads out of it: refused" grep -qF "names $tokens/link.key, but it is not a .key file in $tokens" "$WORK/hosts.out"
head -c 5000 /dev/zero | tr '\0' a >"$tokens/big.key"
emu_post reset '{}'
emu_post faults '{"endpoint": "arc", "kind": "realm", "location": "'$tokens'/big.key", "count": 1}'
hosts_get "${ARC[@]}"
check "$s a key file larger than 4,096 bytes: refused" grep -qF "names $tokens/big.key, but it is larger than 4096 bytes" "$WORK/hosts.out"
rm -f "$tokens"/*

# Where the agent is installed, no variable is needed: its endpoint is 127.0.0.1:40342.
emu_post reset '{}'; forget_tokens
hosts_get
check "$s without the agent or any variable: not found" test "$HOSTS_RC/$(cat "$WORK/hosts.out")" = "1/credentials not found in native keychain"
mount -t tmpfs tmpfs /opt && mkdir -p /opt/azcmagent/bin && touch /opt/azcmagent/bin/himds
hosts_get
check "$s the agent installed ($(printf %s /opt/azcmagent/bin/himds)), no variable: a token from it" hosts_derived managed-identity
hosts_get AZURE_CLIENT_ID=$MI_ID
check "$s ... asked for a user-assigned identity, which Arc has not: said so" grep -qF \
  "Azure Arc has only its own managed identity, but AZURE_CLIENT_ID asks for a user-assigned one" "$WORK/hosts.out"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
