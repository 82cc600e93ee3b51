# Proxies as Docker's users have them: a real tinyproxy (Debian's) on 127.0.0.1, open, with basic auth, and
# one that refuses tunnels, in front of the Azure emulator on 192.0.2.10 over HTTPS with a CA of its own
# (SSL_CERT_FILE). Loopback is never proxied, so the emulator needs an address of its own: the checks run
# in a network namespace made here (unshare --net), where 192.0.2.10 is on lo and nothing leaves it. The
# keyring's bus is a socket file, which the namespace reaches as well.

proxy_suite() { # proxy_suite STORE
  in_namespace "[proxy $1]" --net "$here/proxy-netns.sh" "$HELPER" "$WORK/proxy-$1" "$1"
}
