#!/bin/sh
# Installs the system tools the test suite drives for real: Debian's nginx, apache2 and haproxy
# (the deployment connectors' real daemons), openssl (the certificate oracle), curl (the k6 double's synchronous
# HTTP), chromium (renders the load-test report), pebble (Let's Encrypt's test ACME CA, the
# external CA of the ACME issuer tests), certbot, lego, dehydrated, uacme and acme-tiny (real
# clients of certfleet's ACME server), promtool (package prometheus: checks /metrics naming, the
# alerting rules), systemd-analyze (checks the units in deploy/systemd). Runs before `npm test` (pretest); does nothing when
# all are present. Needs root and apt-get; elsewhere it says what to install.
set -eu
missing=""
[ -x /usr/sbin/nginx ] || [ -x /usr/bin/nginx ] || missing="$missing nginx-light"
[ -x /usr/sbin/apache2 ] || missing="$missing apache2"
[ -x /usr/sbin/haproxy ] || missing="$missing haproxy"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/bin/pebble ] && [ -x /usr/bin/pebble-challtestsrv ] || missing="$missing pebble"
command -v certbot >/dev/null 2>&1 || missing="$missing certbot"
command -v lego >/dev/null 2>&1 || missing="$missing lego"
command -v dehydrated >/dev/null 2>&1 || missing="$missing dehydrated"
command -v uacme >/dev/null 2>&1 || missing="$missing uacme"
command -v acme-tiny >/dev/null 2>&1 || missing="$missing acme-tiny"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: installing$missing (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Tests run their own nginx on a free loopback port, whatever the package itself starts.
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  exit 0
fi
echo "install-test-deps: please install$missing (Debian: sudo apt-get install$missing); the tests that drive them fail without them" >&2
