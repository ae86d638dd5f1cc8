#!/bin/sh
# Install the servers the multi-process tests (karbor/tests/multiprocess)
# start privately: PostgreSQL and RabbitMQ, from Debian's packages.
# tox runs this before the e2e environment's tests. Nothing is started or
# configured here; the tests run their own instances on free ports.
set -e

missing=""
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 ||
    missing="$missing postgresql"
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] ||
    missing="$missing rabbitmq-server"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "The multi-process tests need:$missing; install them as root" \
         "(apt-get install$missing) or run this script as root." >&2
    exit 1
fi
echo "Installing$missing (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
