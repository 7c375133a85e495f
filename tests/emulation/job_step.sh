#!/usr/bin/env bash
# A job step, as the runner runs one (`bash -e <file>` from the work directory). Prints key=value
# facts about where it runs; compiles hello.c into ./hello (the test reads its ELF header).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
echo "uname_m=$(uname -m)"
echo "dpkg_arch=$(dpkg --print-architecture)"
echo "uid=$(id -u)"
echo "groups=$(id -G)"
echo "pwd=$PWD"
echo "home=$HOME"
echo "docker_default_platform=${DOCKER_DEFAULT_PLATFORM:-}"
echo "docker_host=${DOCKER_HOST:-}"
cc -O2 -o "$here/hello" "$here/hello.c"
echo "compiled_$("$here/hello")"
echo "sudo_uid=$(sudo -n id -u)"
if command -v docker >/dev/null; then
  echo "docker_cli=$(readlink -f "$(command -v docker)")"
  if [ -S /run/docker.sock ]; then
    echo "docker_version=$(docker version --format '{{.Client.Arch}}/{{.Server.Arch}}')"
    printf 'FROM scratch\nCOPY hello /hello\n' >"$here/Dockerfile"
    echo "docker_build=$(docker build -q -f "$here/Dockerfile" "$here" 2>&1 | tail -n 1)"
  fi
fi
