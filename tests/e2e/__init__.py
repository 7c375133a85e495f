"""Real-boot proof of the cloud-init bootstrap: arm64 Debian under qemu-system-aarch64.

See tests/e2e/README.md. Modules: `image` (cached disk image), `disk` (debugfs read/write
without mounting), `handoff_server` (token + tarball server on 127.0.0.1), `vm` (seed and
boot), `scenarios` (what each scenario boots), `stack` (the user-data a scenario renders).
"""
